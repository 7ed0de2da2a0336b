import BerthCore

/// An event on an agent's stream from the coordinator. See docs/protocol.md.
public struct AgentEvent: Hashable, Sendable, Codable {
    public enum Kind: String, Hashable, Sendable, Codable {
        case registered = "REGISTERED"
        case launch = "LAUNCH"
        case kill = "KILL"
        case acknowledge = "ACKNOWLEDGE"
        case shutdownFramework = "SHUTDOWN_FRAMEWORK"
        case frameworkMessage = "FRAMEWORK_MESSAGE"
        case heartbeat = "HEARTBEAT"
        case unknown = "UNKNOWN"

        public init(from decoder: any Decoder) throws {
            self = Kind(rawValue: try decoder.singleValueContainer().decode(String.self)) ?? .unknown
        }
    }

    public var type: Kind
    public var registered: Registered?
    public var launch: Launch?
    public var kill: Kill?
    public var acknowledge: Acknowledge?
    public var shutdownFramework: ShutdownFramework?
    public var frameworkMessage: FrameworkMessage?

    enum CodingKeys: String, CodingKey {
        case type, registered, launch, kill, acknowledge, shutdownFramework = "shutdown_framework", frameworkMessage = "framework_message"
    }

    public init(type: Kind) { self.type = type }

    public static let heartbeat = AgentEvent(type: .heartbeat)

    public static func registered(_ agent: AgentID, heartbeatSeconds: Double) -> AgentEvent {
        var event = AgentEvent(type: .registered)
        event.registered = Registered(agentID: agent, heartbeatIntervalSeconds: heartbeatSeconds)
        return event
    }

    public static func launch(_ launch: Launch) -> AgentEvent {
        var event = AgentEvent(type: .launch)
        event.launch = launch
        return event
    }

    public static func kill(_ kill: Kill) -> AgentEvent {
        var event = AgentEvent(type: .kill)
        event.kill = kill
        return event
    }

    public static func acknowledge(_ acknowledge: Acknowledge) -> AgentEvent {
        var event = AgentEvent(type: .acknowledge)
        event.acknowledge = acknowledge
        return event
    }

    public static func shutdownFramework(_ framework: FrameworkID) -> AgentEvent {
        var event = AgentEvent(type: .shutdownFramework)
        event.shutdownFramework = ShutdownFramework(frameworkID: framework)
        return event
    }

    /// The agent's id (assigned on a first registration) and how often to send HEARTBEAT calls.
    public struct Registered: Hashable, Sendable, Codable {
        public var agentID: AgentID
        public var heartbeatIntervalSeconds: Double
        enum CodingKeys: String, CodingKey { case agentID = "agent_id", heartbeatIntervalSeconds = "heartbeat_interval_seconds" }
    }

    /// Run these tasks for the framework: one LAUNCH (or one LAUNCH_GROUP, `group` true) of an ACCEPT.
    public struct Launch: Hashable, Sendable, Codable {
        public var frameworkID: FrameworkID
        public var frameworkInfo: FrameworkInfo?
        public var tasks: [TaskInfo]
        public var executor: JSONValue?
        public var group: Bool?

        enum CodingKeys: String, CodingKey { case frameworkID = "framework_id", frameworkInfo = "framework_info", tasks, executor, group }

        public init(frameworkID: FrameworkID, frameworkInfo: FrameworkInfo?, tasks: [TaskInfo], executor: JSONValue? = nil, group: Bool? = nil) {
            self.frameworkID = frameworkID
            self.frameworkInfo = frameworkInfo
            self.tasks = tasks
            self.executor = executor
            self.group = group
        }
    }

    public struct Kill: Hashable, Sendable, Codable {
        public var frameworkID: FrameworkID
        public var taskID: TaskID
        public var killPolicy: KillPolicy?
        enum CodingKeys: String, CodingKey { case frameworkID = "framework_id", taskID = "task_id", killPolicy = "kill_policy" }

        public init(frameworkID: FrameworkID, taskID: TaskID, killPolicy: KillPolicy? = nil) {
            self.frameworkID = frameworkID
            self.taskID = taskID
            self.killPolicy = killPolicy
        }
    }

    /// The framework acknowledged the update with this uuid: the agent stops resending it.
    public struct Acknowledge: Hashable, Sendable, Codable {
        public var frameworkID: FrameworkID
        public var taskID: TaskID
        public var uuid: String
        enum CodingKeys: String, CodingKey { case frameworkID = "framework_id", taskID = "task_id", uuid }

        public init(frameworkID: FrameworkID, taskID: TaskID, uuid: String) {
            self.frameworkID = frameworkID
            self.taskID = taskID
            self.uuid = uuid
        }
    }

    public struct ShutdownFramework: Hashable, Sendable, Codable {
        public var frameworkID: FrameworkID
        enum CodingKeys: String, CodingKey { case frameworkID = "framework_id" }
    }

    public struct FrameworkMessage: Hashable, Sendable, Codable {
        public var frameworkID: FrameworkID
        public var executorID: ExecutorID
        public var data: String
        enum CodingKeys: String, CodingKey { case frameworkID = "framework_id", executorID = "executor_id", data }

        public init(frameworkID: FrameworkID, executorID: ExecutorID, data: String) {
            self.frameworkID = frameworkID
            self.executorID = executorID
            self.data = data
        }
    }
}
