import BerthCore
import Glibc
import BerthProtocol
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// `--listen`: the agent's own HTTP endpoint: `GET /health`, `GET /state`,
/// `GET /monitor/statistics` (per-container usage from the cgroups, Mesos' shape),
/// `GET /metrics` (Prometheus) with `GET /metrics/snapshot` (Mesos' JSON), and Mesos' files API
/// over the task sandboxes (`GET /files/read`, `GET /files/browse`).
public enum AgentHTTP {
    public static func router(agent: Agent) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: ErrorMiddleware())
        router.get("/health") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain"], body: ResponseBody(byteBuffer: ByteBuffer(string: "ok\n")))
        }
        router.get("/state") { _, _ in
            let data = try MesosJSON.encode(await agent.state())
            return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        }
        router.get("/monitor/statistics") { _, _ in
            let data = try MesosJSON.encode(await agent.statistics())
            return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        }
        router.get("/metrics/snapshot") { _, _ in
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            let data = try encoder.encode(await agent.metricsSnapshot().values)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        }
        router.get("/metrics") { _, _ in
            let text = await agent.metricsSnapshot().prometheusText()
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        // Mesos: {"data": "...", "offset": N}; offset=-1 answers the file's size as the offset.
        router.get("/files/read") { request, _ in
            let query = request.uri.queryParameters
            let path = try requiredPath(query.get("path"))
            let offset = try integer(query.get("offset"), name: "offset") ?? 0
            let length = try integer(query.get("length"), name: "length")
            let files = agent.sandboxFiles
            let chunk = try await BlockingWork.run { try files.read(path: path, offset: offset, length: length) }
            return try json(chunk)
        }
        router.get("/files/browse") { request, _ in
            let path = try requiredPath(request.uri.queryParameters.get("path"))
            let files = agent.sandboxFiles
            return try json(try await BlockingWork.run { try files.browse(path: path) })
        }
        return router
    }

    private static func json(_ value: some Encodable) throws -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: try MesosJSON.encode(value))))
    }

    private static func requiredPath(_ value: String?) throws -> String {
        guard let value, !value.isEmpty else {
            throw BerthError(.invalidArgument, "missing ?path=: give a task's sandbox directory (GET /state) or a file in it")
        }
        return value
    }

    private static func integer(_ value: String?, name: String) throws -> Int? {
        guard let value else { return nil }
        guard let number = Int(value) else { throw BerthError(.invalidArgument, "\(name)=\(value) is not a whole number") }
        return number
    }

    /// The one place errors become statuses: the message as plain text, for a person to act on.
    struct ErrorMiddleware: RouterMiddleware {
        typealias Context = BasicRequestContext

        func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
            do {
                return try await next(request, context)
            } catch let error as BerthError {
                return plain(status(for: error.code), error.message)
            } catch let error as SystemError {
                return plain(error.errno == EACCES || error.errno == ELOOP ? .forbidden : .internalServerError, "\(error)")
            }
        }

        private func status(for code: BerthError.Code) -> HTTPResponse.Status {
            switch code {
            case .invalidArgument: .badRequest
            case .notFound: .notFound
            case .forbiddenPath: .forbidden
            default: .internalServerError
            }
        }

        private func plain(_ status: HTTPResponse.Status, _ message: String) -> Response {
            Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: message + "\n")))
        }
    }

    /// The HTTP server as a service; `onListening` gets the bound port (useful with port 0).
    public static func server(agent: Agent, host: String, port: Int, logger: Logger,
                              onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> some Service {
        Application(router: router(agent: agent),
                    configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "berth-agent"),
                    onServerRunning: { channel in
                        let bound = channel.localAddress?.port ?? port
                        await agent.listening(host: host, port: bound)
                        await onListening(bound)
                    },
                    logger: logger)
    }
}

/// What `GET /state` answers: who the agent is, where it reports, and its tasks.
public struct AgentStateDocument: Codable, Sendable {
    public struct Task: Codable, Sendable {
        public var frameworkID: FrameworkID
        public var taskID: TaskID
        public var state: TaskState
        public var containerID: String?
        public var unacknowledgedUpdates: Int
        /// The latest health check result; nil without a check or before its first result.
        public var healthy: Bool?
        /// Health checks failed in a row now (with a health check).
        public var healthCheckFailures: Int?
        /// The task's sandbox (Mesos gives each executor's `directory`): read it through /files.
        public var directory: String

        enum CodingKeys: String, CodingKey {
            case frameworkID = "framework_id", taskID = "task_id", state, containerID = "container_id"
            case unacknowledgedUpdates = "unacknowledged_updates", healthy, healthCheckFailures = "health_check_failures", directory
        }
    }

    /// The sandbox of a task the agent has forgotten (ended, its last update acknowledged),
    /// kept until garbage collection removes it.
    public struct Sandbox: Codable, Sendable {
        public var frameworkID: FrameworkID
        public var taskID: TaskID
        public var directory: String

        enum CodingKeys: String, CodingKey { case frameworkID = "framework_id", taskID = "task_id", directory }
    }

    public var id: AgentID?
    public var hostname: String
    public var coordinator: String
    public var registered: Bool
    public var cgroups: String
    public var resources: Resources
    public var attributes: [Attribute]
    public var version: String
    public var tasks: [Task]
    public var completedSandboxes: [Sandbox]

    enum CodingKeys: String, CodingKey {
        case id, hostname, coordinator, registered, cgroups, resources, attributes, version, tasks, completedSandboxes = "completed_sandboxes"
    }
}

extension Agent {
    public func state() -> AgentStateDocument {
        let entries = tasks.map { key, task in
            AgentStateDocument.Task(frameworkID: key.framework, taskID: key.task, state: task.checkpoint.latest.state,
                                    containerID: task.checkpoint.containerID, unacknowledgedUpdates: task.checkpoint.pending.count,
                                    healthy: task.checkpoint.health?.healthy, healthCheckFailures: task.checkpoint.health?.consecutiveFailures,
                                    directory: store.sandbox(framework: key.framework, task: key.task))
        }
        let completed = store.sandboxes().filter { tasks[TaskKey(framework: $0.framework, task: $0.task)] == nil }.map {
            AgentStateDocument.Sandbox(frameworkID: $0.framework, taskID: $0.task, directory: $0.directory)
        }
        return AgentStateDocument(id: agentID, hostname: configuration.hostname, coordinator: configuration.coordinator, registered: streamID != nil,
                                  cgroups: cgroupSummary, resources: configuration.resources, attributes: configuration.attributes,
                                  version: BerthVersion.current, tasks: entries.sorted { ($0.frameworkID.value, $0.taskID) < ($1.frameworkID.value, $1.taskID) },
                                  completedSandboxes: completed.sorted { ($0.frameworkID.value, $0.taskID) < ($1.frameworkID.value, $1.taskID) })
    }
}
