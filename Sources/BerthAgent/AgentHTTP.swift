import BerthCore
import BerthProtocol
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// `--listen`: the agent's own HTTP endpoint: `GET /health`, `GET /state`,
/// `GET /monitor/statistics` (per-container usage from the cgroups, Mesos' shape) and
/// `GET /metrics` (Prometheus) with `GET /metrics/snapshot` (Mesos' JSON).
public enum AgentHTTP {
    public static func router(agent: Agent) -> Router<BasicRequestContext> {
        let router = Router()
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
        return router
    }

    /// The HTTP server as a service; `onListening` gets the bound port (useful with port 0).
    public static func server(agent: Agent, host: String, port: Int, logger: Logger,
                              onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> some Service {
        Application(router: router(agent: agent),
                    configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "berth-agent"),
                    onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) },
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

        enum CodingKeys: String, CodingKey {
            case frameworkID = "framework_id", taskID = "task_id", state, containerID = "container_id"
            case unacknowledgedUpdates = "unacknowledged_updates", healthy, healthCheckFailures = "health_check_failures"
        }
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
}

extension Agent {
    public func state() -> AgentStateDocument {
        let entries = tasks.map { key, task in
            AgentStateDocument.Task(frameworkID: key.framework, taskID: key.task, state: task.checkpoint.latest.state,
                                    containerID: task.checkpoint.containerID, unacknowledgedUpdates: task.checkpoint.pending.count,
                                    healthy: task.checkpoint.health?.healthy, healthCheckFailures: task.checkpoint.health?.consecutiveFailures)
        }
        return AgentStateDocument(id: agentID, hostname: configuration.hostname, coordinator: configuration.coordinator, registered: streamID != nil,
                                  cgroups: cgroupSummary, resources: configuration.resources, attributes: configuration.attributes,
                                  version: BerthVersion.current, tasks: entries.sorted { ($0.frameworkID.value, $0.taskID) < ($1.frameworkID.value, $1.taskID) })
    }
}
