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
        if let requested = info.id, removedFrameworks.contains(requested) {
            // As Mesos: a removed framework cannot come back under its ID (an unknown ID is
            // accepted, as after a Mesos master failover).
            throw BerthError(.forbidden, "framework \(requested) was removed (torn down, or its failover timeout passed); SUBSCRIBE without framework_info.id to register anew")
        }
        let id = info.id ?? nextFrameworkID()
        var stored = info
        stored.id = id
        let capabilities = Set(info.capabilityNames.map(FrameworkCapability.init(rawValue:)))
        var framework = frameworks[id] ?? FrameworkRecord(id: id, info: stored, roles: roles, suppressed: suppressed, capabilities: capabilities,
                                                          channel: nil, failoverDeadline: nil)
        let returning = framework.channel != nil || framework.failoverDeadline != nil
        framework.info = stored
        framework.roles = roles
        framework.suppressed = suppressed
        framework.capabilities = capabilities
        framework.failoverDeadline = nil
        try store?.save(storedFramework(framework))
        let streamID = Self.makeStreamID()
        let (events, continuation) = AsyncStream.makeStream(of: Event.self)
        let channel = EventChannel(streamID: streamID, sink: EventSink(continuation))
        framework.channel?.close()
        framework.channel = channel
        frameworks[id] = framework
        logger.info(returning ? "framework re-subscribed" : "framework subscribed",
                    metadata: ["framework": "\(id)", "name": "\(info.name)", "roles": "\(roles)"])
        channel.send(subscribedEvent(id))
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
        do {
            try store?.save(storedFramework(framework))
        } catch {
            // The deadline still holds in memory; only a restart before the next write would lose it.
            logger.error("framework's failover deadline not recorded", metadata: ["framework": "\(id)", "error": "\(error)"])
        }
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
        case .teardown: try teardown(id)
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

    func teardown(_ id: FrameworkID) throws {
        guard frameworks[id] != nil else { return }
        try store?.removeFramework(id)
        guard let framework = frameworks.removeValue(forKey: id) else { return }
        removedFrameworks.insert(id)
        framework.channel?.close()
        removeOffers { $0.framework == id }
        filters.removeAll { $0.framework == id }
        let held = tasks.filter { $0.key.framework == id }
        for agentID in Set(held.map(\.value.agent)) {
            agents[agentID]?.channel?.send(.shutdownFramework(id))
        }
        for (key, _) in held { tasks[key] = nil }
        completedFrameworks.append((framework, held.map(\.value).sorted { $0.info.taskID < $1.info.taskID }))
        completedFrameworks.removeFirst(max(0, completedFrameworks.count - configuration.maxCompletedFrameworks))
        logger.info("framework removed", metadata: ["framework": "\(id)", "tasks": "\(held.count)"])
        requestAllocation()
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
        try store?.save(storedFramework(framework))
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
                do {
                    try teardown(framework.id)
                } catch {
                    logger.error("cannot remove framework; will retry", metadata: ["framework": "\(framework.id)", "error": "\(error)"])
                }
            }
        }
    }
}
