import BerthAllocator
import BerthCore
import BerthProtocol
import Logging

/// What an agent's REGISTER opens: its ID, the stream's ID and the events for it.
public struct AgentSession: Sendable {
    public let agentID: AgentID
    public let streamID: String
    public let events: AsyncStream<AgentEvent>
}

extension Coordinator {
    /// REGISTER: a new agent, or a known one coming back (after a restart or a partition) with
    /// the tasks it runs. The first event on the stream is REGISTERED.
    public func register(_ register: AgentCall.Register, agentID requested: AgentID?) -> AgentSession {
        let id = requested ?? nextAgentID()
        let streamID = Self.makeStreamID()
        let (events, continuation) = AsyncStream.makeStream(of: AgentEvent.self)
        let channel = EventChannel(streamID: streamID, continuation: continuation)
        agents[id]?.channel?.close()
        let returning = agents[id] != nil
        agents[id] = AgentRecord(id: id, hostname: register.hostname, total: register.resources, attributes: register.attributes ?? [],
                                 lastSeen: now, reachable: true, channel: channel)
        for running in register.tasks ?? [] {
            let key = TaskKey(framework: running.frameworkID, task: running.task.taskID)
            let role = tasks[key]?.role ?? frameworks[running.frameworkID]?.roles.first ?? .default
            tasks[key] = TaskRecord(info: running.task, framework: running.frameworkID, agent: id, role: role, status: running.status)
        }
        channel.send(.registered(id, heartbeatSeconds: configuration.agentPingTimeout.seconds))
        logger.info(returning ? "agent re-registered" : "agent registered",
                    metadata: ["agent": "\(id)", "hostname": "\(register.hostname)", "resources": "\(register.resources)"])
        requestAllocation()
        return AgentSession(agentID: id, streamID: streamID, events: events)
    }

    /// The REGISTER stream ended. Liveness is judged by heartbeats, so the agent stays until it
    /// misses them; only events that cannot reach it are dropped meanwhile.
    public func agentStreamEnded(agent id: AgentID, streamID: String) {
        guard agents[id]?.channel?.streamID == streamID else { return }
        agents[id]?.channel = nil
        logger.info("agent stream closed", metadata: ["agent": "\(id)"])
    }

    /// HEARTBEAT and STATUS_UPDATE calls from a registered agent.
    public func handle(_ call: AgentCall, streamID: String?) throws {
        try call.validate()
        guard call.type != .register, let id = call.agentID else { return }
        guard let agent = agents[id], agent.reachable else {
            throw BerthError(.forbidden, "agent \(id) is not registered (or was marked unreachable); REGISTER again with its agent_id and running tasks")
        }
        guard let streamID, agent.channel?.streamID == streamID else {
            throw BerthError(.invalidArgument, "missing or stale \(ProtocolHeaders.streamID) header; send the one from the latest REGISTER response")
        }
        agents[id]?.lastSeen = now
        if call.type == .statusUpdate, let update = call.statusUpdate {
            statusUpdate(update, from: id)
        }
    }

    /// A task's new state from its agent: recorded, then passed to the framework in arrival
    /// order (the agent sends one update per task at a time, so arrival order is task order).
    func statusUpdate(_ update: AgentCall.StatusUpdate, from agent: AgentID) {
        var status = update.status
        status.agentID = agent
        status.source = status.source ?? .agent
        status.timestamp = status.timestamp ?? wallClock
        let key = TaskKey(framework: update.frameworkID, task: status.taskID)
        if let task = tasks[key], status.state.isTerminal, !task.status.state.isTerminal {
            requestAllocation()
        }
        if tasks[key] == nil {
            logger.notice("status update for a task the coordinator did not launch", metadata: ["task": "\(status.taskID)", "agent": "\(agent)"])
        }
        deliver(status, to: update.frameworkID)
    }

    /// Agents silent for agent-ping-timeout × max-agent-ping-timeouts become unreachable.
    func checkAgents() {
        let limit = configuration.agentUnreachableAfter.seconds
        let current = now
        for agent in agents.values where agent.reachable && current.seconds - agent.lastSeen.seconds > limit {
            markUnreachable(agent.id, silentFor: current.seconds - agent.lastSeen.seconds)
        }
    }

    /// Its offers are rescinded; its live tasks become TASK_UNREACHABLE for partition-aware
    /// frameworks and TASK_LOST for the others.
    func markUnreachable(_ id: AgentID, silentFor seconds: Double) {
        guard var agent = agents[id] else { return }
        agent.reachable = false
        agent.channel?.close()
        agent.channel = nil
        agents[id] = agent
        logger.warning("agent unreachable", metadata: ["agent": "\(id)", "silent_seconds": "\(Int(seconds))"])
        removeOffers { $0.agent == id }
        let message = "agent \(id) (\(agent.hostname)) missed heartbeats for \(Int(seconds)) s and is unreachable"
        for (key, task) in tasks where task.agent == id && !task.status.state.isTerminal {
            let partitionAware = frameworks[task.framework]?.isPartitionAware == true
            deliver(masterStatus(key.task, partitionAware ? .unreachable : .lost, reason: .agentRemoved, message: message, agent: id), to: task.framework)
        }
        requestAllocation()
    }
}
