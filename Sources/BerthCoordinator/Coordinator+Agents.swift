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
    /// REGISTER: a new agent, or a known one coming back (after its restart, a coordinator
    /// restart or a partition) with the tasks it runs, which are reconciled against the registry
    /// (`reconcile(_:reported:wasReachable:)`). The first event on the stream is REGISTERED.
    public func register(_ register: AgentCall.Register, agentID requested: AgentID?) throws -> AgentSession {
        let (events, continuation) = AsyncStream.makeStream(of: AgentEvent.self)
        let opened = try self.register(register, agentID: requested) { _, _ in EventSink(continuation) }
        return AgentSession(agentID: opened.agentID, streamID: opened.streamID, events: events)
    }

    /// REGISTER with the events going to the sink `openStream` gives for the agent and the new
    /// stream's ID. It is called once the registration is recorded (nothing throws after it), before
    /// the first event.
    func register(_ register: AgentCall.Register, agentID requested: AgentID?,
                  openStream: (AgentID, String) -> EventSink<AgentEvent>) throws -> (agentID: AgentID, streamID: String) {
        let id = requested ?? nextAgentID()
        let previous = agents[id]
        var agent = AgentRecord(id: id, hostname: register.hostname, total: register.resources, attributes: register.attributes ?? [],
                                lastSeen: now, reachable: true, channel: nil)
        agent.ip = register.ip
        agent.port = register.port
        let reconciliation = reconcile(agent: id, reported: register.tasks ?? [], wasReachable: previous?.reachable ?? true)
        if previous.map(storedAgent) != storedAgent(agent) { try store?.save(storedAgent(agent)) }
        try store?.save(reconciliation.changed.map(storedTask))
        let streamID = Self.makeStreamID()
        let channel = EventChannel(streamID: streamID, sink: openStream(id, streamID))
        previous?.channel?.close()
        agent.channel = channel
        agents[id] = agent
        channel.send(.registered(id, heartbeatSeconds: configuration.agentPingTimeout.seconds))
        for task in reconciliation.changed { tasks[TaskKey(framework: task.framework, task: task.info.taskID)] = task }
        for (framework, status) in reconciliation.updates { deliver(status, to: framework) }
        for kill in reconciliation.kills { channel.send(.kill(kill)) }
        for (key, kill) in pendingKills.removeValue(forKey: id) ?? [:] where tasks[key].map({ !$0.status.state.isTerminal }) ?? false {
            channel.send(.kill(kill))
        }
        for framework in reconciliation.unknownFrameworks.sorted(by: { $0.value < $1.value }) { channel.send(.shutdownFramework(framework)) }
        logger.info(previous == nil ? "agent registered" : "agent re-registered",
                    metadata: ["agent": "\(id)", "hostname": "\(register.hostname)", "resources": "\(register.resources)",
                               "tasks": "\(register.tasks?.count ?? 0)"])
        requestAllocation()
        return (id, streamID)
    }

    struct Reconciliation {
        /// Task records to store and keep: new to the registry, or changed.
        var changed: [TaskRecord] = []
        /// Statuses the frameworks must hear: tasks back from unreachable, tasks gone.
        var updates: [(FrameworkID, TaskStatus)] = []
        var kills: [AgentEvent.Kill] = []
        /// Frameworks the agent still runs tasks of but that were removed: told to shut down.
        var unknownFrameworks: Set<FrameworkID> = []
    }

    /// What a re-registering agent reports is the truth about its tasks, as Mesos' master takes it:
    /// - a task the registry does not have (launched before a restart) is adopted;
    /// - a task of a removed framework is shut down (SHUTDOWN_FRAMEWORK); one of a framework the
    ///   coordinator does not know but did not remove (no store, not re-subscribed yet) is kept;
    /// - a task the registry placed on the agent that the agent does not report is gone: TASK_GONE
    ///   (TASK_LOST without PARTITION_AWARE), reason REASON_AGENT_REREGISTERED;
    /// - coming back from unreachable, a still-running task of a partition-aware framework is
    ///   reported to it again (it had seen TASK_UNREACHABLE); one of a framework that is not
    ///   partition-aware, which was told TASK_LOST, is killed (Mesos 1.1+ does the same).
    func reconcile(agent id: AgentID, reported: [AgentCall.RunningTask], wasReachable: Bool) -> Reconciliation {
        var result = Reconciliation()
        var reportedKeys = Set<TaskKey>()
        for running in reported {
            let key = TaskKey(framework: running.frameworkID, task: running.task.taskID)
            reportedKeys.insert(key)
            guard !wasRemoved(running.frameworkID) else {
                result.unknownFrameworks.insert(running.frameworkID)
                continue
            }
            // Nil for a framework not yet re-subscribed after a restart of a coordinator without a
            // store: its tasks are kept for it, as a Mesos master keeps orphan tasks.
            let framework = frameworks[running.frameworkID]
            let known = tasks[key]
            var status = running.status
            status.agentID = id
            if !wasReachable, let known, known.agent == id, !running.status.state.isTerminal {
                if framework?.isPartitionAware == true {
                    var back = status
                    back.source = .master
                    back.reason = .agentReregistered
                    back.uuid = nil
                    back.message = "agent \(id) is reachable again and still runs the task"
                    status = back
                    result.updates.append((running.frameworkID, back))
                } else if known.status.state == .lost {
                    result.kills.append(AgentEvent.Kill(frameworkID: running.frameworkID, taskID: running.task.taskID, killPolicy: known.info.killPolicy))
                    continue
                }
            }
            if known?.status != status || known?.agent != id {
                result.changed.append(TaskRecord(info: running.task, framework: running.frameworkID, agent: id,
                                                 role: known?.role ?? framework?.roles.first ?? .default, status: status))
            }
        }
        for (key, task) in tasks.on(id) where !reportedKeys.contains(key) && !task.status.state.isTerminal {
            let partitionAware = frameworks[task.framework]?.isPartitionAware == true
            result.updates.append((task.framework, masterStatus(key.task, partitionAware ? .gone : .lost, reason: .agentReregistered,
                                                                message: "agent \(id) re-registered without task \(key.task): it is not running", agent: id)))
        }
        return result
    }

    /// The REGISTER stream ended. Liveness is judged by heartbeats, so the agent stays until it
    /// misses them; only events that cannot reach it are dropped meanwhile.
    public func agentStreamEnded(agent id: AgentID, streamID: String) {
        guard agents[id]?.channel?.streamID == streamID else { return }
        agents[id]?.channel?.close()
        agents[id]?.channel = nil
        logger.info("agent stream closed", metadata: ["agent": "\(id)"])
    }

    /// HEARTBEAT and STATUS_UPDATE calls from a registered agent.
    public func handle(_ call: AgentCall, streamID: String?) throws {
        try call.validate()
        guard call.type != .register, let id = call.agentID else { return }
        guard let agent = agents[id], agent.reachable, !agent.awaitingReregistration else {
            throw BerthError(.forbidden, "agent \(id) is not registered (or was marked unreachable, or the coordinator restarted); REGISTER again with its agent_id and running tasks")
        }
        guard let streamID, agent.channel?.streamID == streamID else {
            throw BerthError(.invalidArgument, "missing or stale \(ProtocolHeaders.streamID) header; send the one from the latest REGISTER response")
        }
        if call.type == .statusUpdate, let update = call.statusUpdate {
            try statusUpdate(update, from: id)
        }
        agents[id]?.lastSeen = now
    }

    /// A task's new state from its agent: recorded, then passed to the framework in arrival
    /// order (the agent sends one update per task at a time, so arrival order is task order).
    /// Throws, leaving everything as it was, when the store cannot take it: the agent resends.
    func statusUpdate(_ update: AgentCall.StatusUpdate, from agent: AgentID) throws {
        if wasRemoved(update.frameworkID) {
            acknowledgeForRemovedFramework(update, from: agent)
            return
        }
        var status = update.status
        status.agentID = agent
        status.source = status.source ?? .agent
        status.timestamp = status.timestamp ?? wallClock
        let key = TaskKey(framework: update.frameworkID, task: status.taskID)
        let frees = tasks[key].map { status.state.isTerminal && !$0.status.state.isTerminal } ?? false
        if tasks[key] == nil {
            logger.notice("status update for a task the coordinator did not launch", metadata: ["task": "\(status.taskID)", "agent": "\(agent)"])
        }
        try record([(update.frameworkID, status)])
        frameworks[update.frameworkID]?.send(.update(status))
        if frees { requestAllocation() }
    }

    /// Agents silent for agent-ping-timeout × max-agent-ping-timeouts become unreachable.
    /// Time the coordinator itself did not run (its process stopped, its host suspended, its
    /// threads all busy) is not counted as their silence: heartbeats sent meanwhile wait unread,
    /// and declaring every agent lost on waking would kill tasks that never stopped.
    func checkAgents() {
        let limit = configuration.agentUnreachableAfter.seconds
        let current = now
        let expected = configuration.healthCheckInterval.seconds
        if current.seconds - lastAgentCheck.seconds > 2 * expected {
            let absent = current.seconds - lastAgentCheck.seconds - expected
            logger.warning("the coordinator did not run for a while; agents' silence meanwhile is not counted against them",
                           metadata: ["seconds": "\(absent)"])
            for id in Array(agents.keys) { agents[id]?.lastSeen.seconds += absent }
        }
        lastAgentCheck = current
        for agent in agents.values where agent.reachable && current.seconds - agent.lastSeen.seconds > limit {
            markUnreachable(agent.id, silentFor: current.seconds - agent.lastSeen.seconds)
        }
    }

    /// Its offers are rescinded; its live tasks become TASK_UNREACHABLE for partition-aware
    /// frameworks and TASK_LOST for the others.
    func markUnreachable(_ id: AgentID, silentFor seconds: Double) {
        guard var agent = agents[id] else { return }
        do {
            try store?.setReachable([id], false)
        } catch {
            logger.error("agent's unreachability not recorded", metadata: ["agent": "\(id)", "error": "\(error)"])
        }
        agent.reachable = false
        agent.channel?.close()
        agent.channel = nil
        agents[id] = agent
        logger.warning("agent unreachable", metadata: ["agent": "\(id)", "silent_seconds": "\(Int(seconds))"])
        removeOffers { $0.agent == id }
        let message = "agent \(id) (\(agent.hostname)) missed heartbeats for \(Int(seconds)) s and is unreachable"
        for (key, task) in tasks.on(id) where !task.status.state.isTerminal {
            let partitionAware = frameworks[task.framework]?.isPartitionAware == true
            deliver(masterStatus(key.task, partitionAware ? .unreachable : .lost, reason: .agentRemoved, message: message, agent: id), to: task.framework)
        }
        requestAllocation()
    }
}
