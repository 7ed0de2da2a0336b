import AsyncHTTPClient
import BerthCore
import BerthFramework
import BerthProtocol
import Foundation
import NIOCore

/// An agent that speaks Berth's agent protocol (docs/protocol.md) and runs nothing: the test
/// decides which status updates it sends.
struct SimulatedAgent {
    let coordinator: String
    let id: AgentID
    let streamID: String
    let events: EventLog<AgentEvent>

    static func register(to coordinator: TestCoordinator, hostname: String = "agent1", resources: String = "cpus:4;mem:4096;ports:[31000-32000]",
                         attributes: [Attribute] = [Attribute(name: "rack", value: "r1")],
                         returningAs agentID: AgentID? = nil, running tasks: [AgentCall.RunningTask] = [],
                         http: (ip: String, port: Int)? = nil) async throws -> SimulatedAgent {
        var call = AgentCall(type: .register, register: .init(hostname: hostname, resources: try Resources.parse(resources), attributes: attributes, tasks: tasks,
                                                              ip: http?.ip, port: http?.port))
        call.agentID = agentID
        let response = try await HTTPClient.shared.execute(try request(coordinator.url, call, streamID: nil), deadline: .distantFuture)
        guard response.status == .ok, let streamID = response.headers.first(name: ProtocolHeaders.streamID) else {
            throw FixtureFailure("REGISTER answered \(response.status)")
        }
        let events = EventLog<AgentEvent>.collecting(RecordIOEvents<AgentEvent>(body: response.body, what: "agent event"))
        let registered = try await events.next("REGISTERED") { $0.type == .registered }
        guard let id = registered.registered?.agentID else { throw FixtureFailure("REGISTERED without agent_id") }
        if let agentID, id != agentID { throw FixtureFailure("re-registered as \(id), not \(agentID)") }
        return SimulatedAgent(coordinator: coordinator.url, id: id, streamID: streamID, events: events)
    }

    static func request(_ base: String, _ call: AgentCall, streamID: String?) throws -> HTTPClientRequest {
        var request = HTTPClientRequest(url: base + "/api/v1/agent")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let streamID { request.headers.add(name: ProtocolHeaders.streamID, value: streamID) }
        request.body = .bytes(ByteBuffer(bytes: try MesosJSON.encode(call)))
        return request
    }

    /// Sends a call and returns the HTTP status.
    @discardableResult
    func send(_ call: AgentCall) async throws -> Int {
        let response = try await HTTPClient.shared.execute(try Self.request(coordinator, call, streamID: streamID), timeout: .seconds(10))
        return Int(response.status.code)
    }

    func heartbeat() async throws {
        let status = try await send(AgentCall(type: .heartbeat, agentID: id))
        guard status == 202 else { throw FixtureFailure("HEARTBEAT answered \(status)") }
    }

    /// Heartbeats every `interval` until cancelled, sent from an event loop of the HTTP client
    /// rather than a Swift task: with the whole suite running at once, tasks that block the
    /// cooperative pool once delayed a task-driven heartbeat past a test's ping timeout, and the
    /// agent went unreachable before the test had chosen to silence it. Failed beats are ignored.
    func heartbeating(every interval: TimeAmount) throws -> Heartbeats {
        let client = HTTPClient.shared
        var request = try HTTPClient.Request(url: coordinator + "/api/v1/agent", method: .POST)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: ProtocolHeaders.streamID, value: streamID)
        request.body = .byteBuffer(ByteBuffer(bytes: try MesosJSON.encode(AgentCall(type: .heartbeat, agentID: id))))
        let loop = client.eventLoopGroup.next()
        let task = loop.scheduleRepeatedAsyncTask(initialDelay: .zero, delay: interval) { [request] _ in
            client.execute(request: request, eventLoop: .delegate(on: loop), deadline: .now() + .seconds(5))
                .map { _ in }
                .recover { _ in }
        }
        return Heartbeats(task: task, loop: loop)
    }

    struct Heartbeats {
        let task: RepeatedTask
        let loop: any EventLoop

        /// Returns once no beat is in flight any more.
        func stop() async throws {
            let stopped = loop.makePromise(of: Void.self)
            task.cancel(promise: stopped)
            try await stopped.futureResult.get()
        }
    }

    /// Reports a task's new state, with a fresh uuid the framework must acknowledge; returns the uuid.
    @discardableResult
    func update(_ framework: FrameworkID, _ task: TaskID, _ state: TaskState, message: String? = nil) async throws -> String {
        let uuid = Data(UUID().uuidString.utf8.prefix(16)).base64EncodedString()
        let status = TaskStatus(taskID: task, state: state, message: message, source: .executor, uuid: uuid)
        let code = try await send(AgentCall(type: .statusUpdate, agentID: id, statusUpdate: .init(frameworkID: framework, status: status)))
        guard code == 202 else { throw FixtureFailure("STATUS_UPDATE answered \(code)") }
        return uuid
    }
}
