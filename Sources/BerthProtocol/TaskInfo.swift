import BerthCore

/// What a framework asks to run. The fields Berth acts on are typed; the others (container,
/// executor, labels, discovery, ...) are kept as JSON and forwarded to the agent.
public struct TaskInfo: Hashable, Sendable, Codable {
    public var name: String
    public var taskID: TaskID
    public var agentID: AgentID
    public var resources: Resources
    public var command: CommandInfo?
    public var container: JSONValue?
    public var executor: JSONValue?
    public var killPolicy: KillPolicy?
    public var healthCheck: HealthCheck?
    public var labels: JSONValue?
    public var discovery: JSONValue?
    public var data: String?
    public var maxCompletionTime: JSONValue?

    enum CodingKeys: String, CodingKey {
        case name, taskID = "task_id", agentID = "agent_id", resources, command, container, executor
        case killPolicy = "kill_policy", healthCheck = "health_check", labels, discovery, data
        case maxCompletionTime = "max_completion_time"
    }

    public init(name: String, taskID: TaskID, agentID: AgentID, resources: Resources, command: CommandInfo? = nil,
                container: JSONValue? = nil, killPolicy: KillPolicy? = nil) {
        self.name = name
        self.taskID = taskID
        self.agentID = agentID
        self.resources = resources
        self.command = command
        self.container = container
        self.killPolicy = killPolicy
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        taskID = try container.decode(TaskID.self, forKey: .taskID)
        agentID = try container.decode(AgentID.self, forKey: .agentID)
        // Mesos accepts a task without resources at decode time and rejects it at validation,
        // where the message can name the task.
        resources = try container.decodeIfPresent(Resources.self, forKey: .resources) ?? Resources()
        command = try container.decodeIfPresent(CommandInfo.self, forKey: .command)
        self.container = try container.decodeIfPresent(JSONValue.self, forKey: .container)
        executor = try container.decodeIfPresent(JSONValue.self, forKey: .executor)
        killPolicy = try container.decodeIfPresent(KillPolicy.self, forKey: .killPolicy)
        healthCheck = try container.decodeIfPresent(HealthCheck.self, forKey: .healthCheck)
        labels = try container.decodeIfPresent(JSONValue.self, forKey: .labels)
        discovery = try container.decodeIfPresent(JSONValue.self, forKey: .discovery)
        data = try container.decodeIfPresent(String.self, forKey: .data)
        maxCompletionTime = try container.decodeIfPresent(JSONValue.self, forKey: .maxCompletionTime)
    }
}

public struct CommandInfo: Hashable, Sendable, Codable {
    public var value: String?
    /// Mesos' default is true: `value` runs under `/bin/sh -c`.
    public var shell: Bool?
    public var arguments: [String]?
    public var environment: Environment?
    public var user: String?
    public var uris: JSONValue?

    public init(value: String? = nil, shell: Bool? = nil, arguments: [String]? = nil, environment: Environment? = nil, user: String? = nil) {
        self.value = value
        self.shell = shell
        self.arguments = arguments
        self.environment = environment
        self.user = user
    }

    public struct Environment: Hashable, Sendable, Codable {
        public var variables: [Variable]

        public init(variables: [Variable]) { self.variables = variables }

        public struct Variable: Hashable, Sendable, Codable {
            public var name: String
            /// `VALUE` (default) or `SECRET`; secrets are not supported yet and are refused at validation.
            public var type: String?
            public var value: String?

            public init(name: String, value: String) {
                self.name = name
                self.value = value
            }
        }
    }
}

public struct KillPolicy: Hashable, Sendable, Codable {
    public var gracePeriod: DurationInfo?

    enum CodingKeys: String, CodingKey { case gracePeriod = "grace_period" }

    public init(gracePeriod: DurationInfo?) { self.gracePeriod = gracePeriod }
}

/// Mesos' DurationInfo: `{"nanoseconds": 3000000000}`.
public struct DurationInfo: Hashable, Sendable, Codable {
    public var nanoseconds: Int64
    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }
    public var seconds: Double { Double(nanoseconds) / 1e9 }
}
