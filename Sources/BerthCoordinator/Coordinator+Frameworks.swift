import BerthAllocator
import BerthCore
import BerthProtocol
import Logging

/// What SUBSCRIBE opens: the framework's ID, the stream's ID and its events.
public struct FrameworkSubscription: Sendable {
    public let frameworkID: FrameworkID
    public let streamID: String
    public let events: AsyncStream<Event>
}

extension Coordinator {
    /// SUBSCRIBE: a new framework, or one re-subscribing with its ID (which replaces its old
    /// stream). The first event on the stream is SUBSCRIBED.
    public func subscribe(_ subscribe: Call.Subscribe) throws -> FrameworkSubscription {
        let info = subscribe.frameworkInfo
        let roles = try info.validatedRoles()
        let suppressed = try Set((subscribe.suppressedRoles ?? []).map { try Role($0) })
        let id = info.id ?? nextFrameworkID()
        let streamID = Self.makeStreamID()
        let (events, continuation) = AsyncStream.makeStream(of: Event.self)
        let channel = EventChannel(streamID: streamID, continuation: continuation)
        var stored = info
        stored.id = id
        if var existing = frameworks[id] {
            existing.channel?.close()
            existing.info = stored
            existing.roles = roles
            existing.suppressed = suppressed
            existing.capabilities = Set(info.capabilityNames.map(FrameworkCapability.init(rawValue:)))
            existing.channel = channel
            existing.failoverDeadline = nil
            frameworks[id] = existing
            logger.info("framework re-subscribed", metadata: ["framework": "\(id)", "name": "\(info.name)"])
        } else {
            frameworks[id] = FrameworkRecord(id: id, info: stored, roles: roles, suppressed: suppressed,
                                             capabilities: Set(info.capabilityNames.map(FrameworkCapability.init(rawValue:))),
                                             channel: channel, failoverDeadline: nil)
            logger.info("framework subscribed", metadata: ["framework": "\(id)", "name": "\(info.name)", "roles": "\(roles)"])
        }
        channel.send(.subscribed(id, heartbeatSeconds: configuration.frameworkHeartbeatInterval.seconds))
        requestAllocation()
        return FrameworkSubscription(frameworkID: id, streamID: streamID, events: events)
    }

    /// The SUBSCRIBE connection of `streamID` ended. If it is still the framework's current
    /// stream, the framework is disconnected: no offers, and its failover timeout starts.
    public func subscriptionEnded(framework id: FrameworkID, streamID: String) {
        guard var framework = frameworks[id], framework.channel?.streamID == streamID else { return }
        framework.channel?.close()
        framework.channel = nil
        framework.failoverDeadline = now + (framework.info.failoverTimeout ?? 0)
        frameworks[id] = framework
        removeOffers { $0.framework == id }
        logger.info("framework disconnected", metadata: ["framework": "\(id)", "failover_timeout": "\(framework.info.failoverTimeout ?? 0)"])
    }

    /// Every call but SUBSCRIBE. Throws `.forbidden` for an unknown framework and
    /// `.invalidArgument` for a missing or stale stream ID or a malformed payload.
    public func handle(_ call: Call, streamID: String?) throws {
        try call.validate()
        guard let id = call.frameworkID else { return }
        guard let framework = frameworks[id] else {
            throw BerthError(.forbidden, "framework \(id) is not subscribed; send SUBSCRIBE first")
        }
        guard let streamID else {
            throw BerthError(.invalidArgument, "missing \(ProtocolHeaders.streamID) header; send the one the SUBSCRIBE response carried")
        }
        guard let channel = framework.channel else {
            throw BerthError(.forbidden, "framework \(id) is disconnected; SUBSCRIBE again with its framework_id")
        }
        guard channel.streamID == streamID else {
            throw BerthError(.invalidArgument, "the \(ProtocolHeaders.streamID) header does not match the framework's current subscription; use the one from the latest SUBSCRIBE response")
        }
        switch call.type {
        case .subscribe: break
        case .teardown: teardown(id)
        case .accept: if let accept = call.accept { self.accept(accept, from: id) }
        case .decline: if let decline = call.decline { self.decline(decline, from: id) }
        case .revive: try revive(id, roles: call.revive?.roles)
        case .suppress: try suppress(id, roles: call.suppress?.roles)
        case .kill: if let kill = call.kill { self.kill(kill, from: id) }
        case .acknowledge: if let acknowledge = call.acknowledge { try self.acknowledge(acknowledge, from: id) }
        case .reconcile: reconcile(call.reconcile?.tasks ?? [], for: id)
        case .message:
            if let message = call.message { try forwardMessage(message, from: id) }
        case .updateFramework: if let update = call.updateFramework { try updateFramework(update, id: id) }
        case .shutdown, .request, .acceptInverseOffers, .declineInverseOffers, .acknowledgeOperationStatus, .reconcileOperations:
            throw BerthError(.unsupported, "\(call.type.rawValue) is not supported by Berth yet")
        }
    }

    func teardown(_ id: FrameworkID) {
        guard let framework = frameworks.removeValue(forKey: id) else { return }
        framework.channel?.close()
        removeOffers { $0.framework == id }
        filters.removeAll { $0.framework == id }
        let held = tasks.filter { $0.key.framework == id }
        for agentID in Set(held.values.map(\.agent)) {
            agents[agentID]?.channel?.send(.shutdownFramework(id))
        }
        for key in held.keys { tasks[key] = nil }
        logger.info("framework removed", metadata: ["framework": "\(id)", "tasks": "\(held.count)"])
        requestAllocation()
    }

    func decline(_ decline: Call.Decline, from id: FrameworkID) {
        let refuse = decline.filters?.refuseSeconds ?? configuration.defaultRefuseSeconds
        for offerID in decline.offerIDs {
            guard let record = offers[offerID], record.offer.framework == id else { continue }
            offers[offerID] = nil
            addFilter(framework: id, agent: record.offer.agent, refused: record.offer.resources, seconds: refuse)
        }
        requestAllocation()
    }

    func addFilter(framework: FrameworkID, agent: AgentID, refused: Resources, seconds: Double) {
        guard seconds > 0, seconds.isFinite, !refused.isEmpty else { return }
        filters.append(OfferFilter(framework: framework, agent: agent, refused: refused, until: now + seconds))
    }

    /// REVIVE: drops the framework's filters and un-suppresses the roles (all when none given).
    func revive(_ id: FrameworkID, roles names: [String]?) throws {
        let roles = try resolveRoles(names, of: id)
        filters.removeAll { $0.framework == id }
        frameworks[id]?.suppressed.subtract(roles)
        requestAllocation()
    }

    func suppress(_ id: FrameworkID, roles names: [String]?) throws {
        let roles = try resolveRoles(names, of: id)
        frameworks[id]?.suppressed.formUnion(roles)
        removeOffers { $0.framework == id && roles.contains($0.role) }
    }

    private func resolveRoles(_ names: [String]?, of id: FrameworkID) throws -> [Role] {
        guard let framework = frameworks[id] else { return [] }
        guard let names, !names.isEmpty else { return framework.roles }
        return try names.map { name in
            let role = try Role(name)
            guard framework.roles.contains(role) else {
                throw BerthError(.invalidArgument, "role \(role) is not one of the framework's roles (\(framework.roles.map(\.name).joined(separator: ", "))); subscribe with it or name one of those")
            }
            return role
        }
    }

    func kill(_ kill: Call.Kill, from id: FrameworkID) {
        let key = TaskKey(framework: id, task: kill.taskID)
        guard let task = tasks[key], !task.status.state.isTerminal else {
            // Mesos answers a kill of a task it does not know with TASK_LOST, so the framework stops waiting.
            let state: TaskState = frameworks[id]?.isPartitionAware == true ? .unknown : .lost
            deliver(masterStatus(kill.taskID, state, reason: .reconciliation, message: "task \(kill.taskID) is not known to the coordinator (finished, never launched, or from another framework)", agent: kill.agentID), to: id)
            return
        }
        agents[task.agent]?.channel?.send(.kill(AgentEvent.Kill(frameworkID: id, taskID: kill.taskID, killPolicy: kill.killPolicy ?? task.info.killPolicy)))
    }

    func acknowledge(_ acknowledge: Call.Acknowledge, from id: FrameworkID) throws {
        guard let agent = agents[acknowledge.agentID] else {
            throw BerthError(.invalidArgument, "ACKNOWLEDGE: agent \(acknowledge.agentID) is not registered; acknowledge updates with the agent_id from their status")
        }
        agent.channel?.send(.acknowledge(AgentEvent.Acknowledge(frameworkID: id, taskID: acknowledge.taskID, uuid: acknowledge.uuid)))
    }

    /// Explicit: the latest status of each listed task (TASK_LOST, or TASK_UNKNOWN when partition
    /// aware, for unknown ones). Implicit (no tasks): the latest status of every live task.
    func reconcile(_ requested: [Call.Reconcile.Task], for id: FrameworkID) {
        let partitionAware = frameworks[id]?.isPartitionAware == true
        func reconciled(_ status: TaskStatus) -> TaskStatus {
            var copy = status
            copy.reason = .reconciliation
            copy.source = .master
            copy.uuid = nil
            return copy
        }
        if requested.isEmpty {
            for task in tasks.values where task.framework == id && !task.status.state.isTerminal {
                frameworks[id]?.send(.update(reconciled(task.status)))
            }
            return
        }
        for entry in requested {
            if let task = tasks[TaskKey(framework: id, task: entry.taskID)] {
                frameworks[id]?.send(.update(reconciled(task.status)))
            } else {
                frameworks[id]?.send(.update(masterStatus(entry.taskID, partitionAware ? .unknown : .lost, reason: .reconciliation,
                                                          message: "task \(entry.taskID) is not known to the coordinator", agent: entry.agentID)))
            }
        }
    }

    func forwardMessage(_ message: Call.Message, from id: FrameworkID) throws {
        guard let agent = agents[message.agentID] else {
            throw BerthError(.invalidArgument, "MESSAGE: agent \(message.agentID) is not registered")
        }
        var event = AgentEvent(type: .frameworkMessage)
        event.frameworkMessage = AgentEvent.FrameworkMessage(frameworkID: id, executorID: message.executorID, data: message.data)
        agent.channel?.send(event)
    }

    func updateFramework(_ update: Call.UpdateFramework, id: FrameworkID) throws {
        guard update.frameworkInfo.id == nil || update.frameworkInfo.id == id else {
            throw BerthError(.invalidArgument, "UPDATE_FRAMEWORK: framework_info.id \(update.frameworkInfo.id?.value ?? "") differs from framework_id \(id)")
        }
        let roles = try update.frameworkInfo.validatedRoles()
        guard var framework = frameworks[id] else { return }
        framework.info = update.frameworkInfo
        framework.info.id = id
        framework.roles = roles
        framework.capabilities = Set(update.frameworkInfo.capabilityNames.map(FrameworkCapability.init(rawValue:)))
        if let suppressed = update.suppressedRoles { framework.suppressed = try Set(suppressed.map { try Role($0) }) }
        frameworks[id] = framework
        removeOffers { $0.framework == id && !roles.contains($0.role) }
        requestAllocation()
    }

    /// Frameworks disconnected past their failover timeout are removed, as TEARDOWN would.
    func expireFrameworks() {
        let current = now
        for framework in frameworks.values where framework.channel == nil {
            if let deadline = framework.failoverDeadline, deadline <= current {
                logger.notice("framework failover timeout passed", metadata: ["framework": "\(framework.id)"])
                teardown(framework.id)
            }
        }
    }
}
