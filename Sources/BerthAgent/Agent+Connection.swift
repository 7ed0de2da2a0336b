import BerthCore
import BerthLinux
import BerthProtocol
import Foundation
import Logging

extension Agent {
    /// Registers, follows the event stream and heartbeats; when the stream ends or the
    /// coordinator refuses a call, registers again (with its ID and tasks) after a backoff.
    /// Returns when cancelled.
    func connectionLoop() async {
        var delay = configuration.reconnectInterval
        // The HTTP endpoint binds in parallel; waiting briefly lets the first REGISTER carry its
        // address (a later one is advertised by registering again, see `listening`).
        let deadline = ContinuousClock.now + .seconds(2)
        while httpAddress == nil, ContinuousClock.now < deadline {
            do { try await Task.sleep(for: .milliseconds(10)) } catch { return }
        }
        while !Task.isCancelled {
            let session = Task { try await self.session() }
            currentSession = session
            do {
                try await withTaskCancellationHandler {
                    try await session.value
                } onCancel: {
                    session.cancel()
                }
            } catch is CancellationError {
            } catch {
                logger.warning("connection to the coordinator \(configuration.coordinator): \(error); registering again within \(delay)")
            }
            // A session that got as far as REGISTERED starts the backoff over.
            if streamID != nil { delay = configuration.reconnectInterval }
            disconnected()
            guard !Task.isCancelled else { return }
            // Jitter, so agents cut off together do not all come back in the same instant.
            let wait = delay * Double.random(in: 0.5...1.0)
            do { try await Task.sleep(for: wait) } catch { return }
            delay = min(delay * 2, configuration.reconnectMaximum)
        }
    }

    private func disconnected() {
        streamID = nil
        currentSession = nil
    }

    /// One REGISTER stream, from its REGISTERED event to its end. Nonisolated: the stream is
    /// read outside the actor and each event handed to it in order.
    private nonisolated func session() async throws {
        let session = try await transport.register(await registerCall())
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.follow(session) }
            group.addTask { try await self.heartbeats(streamID: session.streamID) }
            // Whichever ends first (the stream, or a refused heartbeat) ends the session.
            try await group.next()
            group.cancelAll()
        }
    }

    private nonisolated func follow(_ session: CoordinatorTransport.Session) async throws {
        var events = session.events.makeAsyncIterator()
        guard let first = try await events.next() else {
            throw BerthError(.invalidState, "the coordinator closed the stream before REGISTERED")
        }
        guard first.type == .registered, let registered = first.registered else {
            throw BerthError(.invalidState, "the coordinator's first event was \(first.type.rawValue), not REGISTERED")
        }
        try await didRegister(registered, streamID: session.streamID)
        while let event = try await events.next() { await handle(event) }
    }

    private func registerCall() -> AgentCall {
        AgentCall(type: .register, agentID: agentID, register: .init(
            hostname: configuration.hostname, resources: configuration.resources, attributes: configuration.attributes,
            tasks: knownTasks(), version: BerthVersion.current, ip: httpAddress?.ip, port: httpAddress?.port))
    }

    /// The HTTP endpoint listens on `host:port`. A wildcard host is advertised as this host's
    /// first non-loopback IPv4 address, as the coordinator does for itself.
    func listening(host: String, port: Int) {
        let wildcard = ["", "0.0.0.0", "::", "[::]"].contains(host)
        let ip = wildcard ? Host.current().addresses.first { !$0.contains(":") && !$0.hasPrefix("127.") } ?? "127.0.0.1" : host
        let late = httpAddress == nil && streamID != nil
        httpAddress = (ip, port)
        if late {
            logger.info("registering again to advertise the HTTP endpoint \(ip):\(port)")
            currentSession?.cancel()
        }
    }

    private func didRegister(_ event: AgentEvent.Registered, streamID: String) throws {
        if event.agentID != agentID {
            try store.saveAgentID(event.agentID)
            agentID = event.agentID
        }
        self.streamID = streamID
        heartbeatInterval = .milliseconds(Int64(max(event.heartbeatIntervalSeconds, 0.1) * 1000))
        logger.info("registered", metadata: ["agent": "\(event.agentID)", "coordinator": "\(configuration.coordinator)",
                                             "heartbeat_seconds": "\(event.heartbeatIntervalSeconds)"])
        if !releasedStartupPages {
            // Start-up is over: the code it alone ran need not stay resident (ExecutablePages).
            releasedStartupPages = true
            let bytes = ExecutablePages.release()
            logger.debug("released the executable's start-up pages", metadata: ["advised_bytes": "\(bytes)"])
        }
        // A new stream: what was not acknowledged goes again, now.
        for key in tasks.keys where tasks[key]?.checkpoint.pending.isEmpty == false {
            tasks[key]?.due = .now
            tasks[key]?.retry = configuration.statusRetryInterval
        }
        flush()
    }

    /// What a REGISTER reports: every task not forgotten yet, with its latest state.
    private func knownTasks() -> [AgentCall.RunningTask] {
        tasks.values.map { AgentCall.RunningTask(frameworkID: $0.checkpoint.frameworkID, task: $0.checkpoint.task, status: $0.checkpoint.latest) }
            .sorted { $0.task.taskID < $1.task.taskID }
    }

    private func heartbeats(streamID: String) async throws {
        // The interval comes with REGISTERED.
        while self.streamID != streamID { try await Task.sleep(for: .milliseconds(20)) }
        while true {
            try await Task.sleep(for: heartbeatInterval)
            guard let agentID else { continue }
            let code = try await transport.send(AgentCall(type: .heartbeat, agentID: agentID), streamID: streamID)
            if code == 403 {
                throw BerthError(.invalidState, "the coordinator no longer knows agent \(agentID) (HEARTBEAT answered 403)")
            }
        }
    }

    /// A call on `streamID` was refused with 403: that session is over; register again.
    func rejected(streamID: String) {
        guard self.streamID == streamID else { return }
        logger.warning("the coordinator refused a call on the current stream; registering again")
        currentSession?.cancel()
    }

    func handle(_ event: AgentEvent) async {
        switch event.type {
        case .launch:
            if let launch = event.launch { self.launch(launch) }
        case .kill:
            if let kill = event.kill { self.kill(kill) }
        case .acknowledge:
            if let ack = event.acknowledge { acknowledged(ack) }
        case .shutdownFramework:
            if let shutdown = event.shutdownFramework { shutdownFramework(shutdown.frameworkID) }
        case .frameworkMessage:
            logger.notice("FRAMEWORK_MESSAGE dropped: command tasks have no executor to pass it to")
        case .heartbeat:
            break
        case .registered:
            logger.notice("a second REGISTERED on the same stream; ignored")
        case .unknown:
            logger.notice("unknown agent event ignored")
        }
    }

    /// Resends due updates; the loop of the status update retrier.
    func retryLoop() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: .milliseconds(250)) } catch { return }
            flush()
        }
    }
}
