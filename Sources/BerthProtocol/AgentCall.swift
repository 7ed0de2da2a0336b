import BerthCore

/// A call from an agent to the coordinator's `POST /api/v1/agent`, shaped like the scheduler
/// API: REGISTER opens a RecordIO stream of `AgentEvent`s; the others answer 202 and must carry
/// the `Mesos-Stream-Id` of that stream. See docs/protocol.md.
public struct AgentCall: Hashable, Sendable, Codable {
    public enum Kind: String, Hashable, Sendable, Codable, CaseIterable {
        case register = "REGISTER"
        case heartbeat = "HEARTBEAT"
        case statusUpdate = "STATUS_UPDATE"
    }

    public var type: Kind
    /// Absent on a first REGISTER; set on every other call, and on REGISTER after a restart.
    public var agentID: AgentID?
    public var register: Register?
    public var statusUpdate: StatusUpdate?

    enum CodingKeys: String, CodingKey { case type, agentID = "agent_id", register, statusUpdate = "status_update" }

    public init(type: Kind, agentID: AgentID? = nil, register: Register? = nil, statusUpdate: StatusUpdate? = nil) {
        self.type = type
        self.agentID = agentID
        self.register = register
        self.statusUpdate = statusUpdate
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let typeName = try container.decode(String.self, forKey: .type)
        guard let type = Kind(rawValue: typeName) else {
            throw DecodingError.dataCorruptedError(forKey: .type, in: container, debugDescription:
                "unknown agent call type \"\(typeName)\"; expected one of \(Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.type = type
        agentID = try container.decodeIfPresent(AgentID.self, forKey: .agentID)
        register = try container.decodeIfPresent(Register.self, forKey: .register)
        statusUpdate = try container.decodeIfPresent(StatusUpdate.self, forKey: .statusUpdate)
    }

    public func validate() throws {
        func missing(_ field: String) -> BerthError {
            BerthError(.invalidArgument, "agent \(type.rawValue) call without \"\(field)\"; see docs/protocol.md")
        }
        switch type {
        case .register: if register == nil { throw missing("register") }
        case .heartbeat: if agentID == nil { throw missing("agent_id") }
        case .statusUpdate:
            if agentID == nil { throw missing("agent_id") }
            if statusUpdate == nil { throw missing("status_update") }
        }
    }

    public struct Register: Hashable, Sendable, Codable {
        public var hostname: String
        public var resources: Resources
        public var attributes: [Attribute]?
        /// Tasks the agent runs (after a restart of either side), with their latest status.
        public var tasks: [RunningTask]?
        public var version: String?
        /// The agent's HTTP endpoint (`/state`, `/files`), as Mesos' AgentInfo has `port`; `ip`
        /// is the address it is reached at. Absent when the agent serves no HTTP.
        public var ip: String?
        public var port: Int?

        public init(hostname: String, resources: Resources, attributes: [Attribute] = [], tasks: [RunningTask] = [], version: String? = nil,
                    ip: String? = nil, port: Int? = nil) {
            self.hostname = hostname
            self.resources = resources
            self.attributes = attributes
            self.tasks = tasks
            self.version = version
            self.ip = ip
            self.port = port
        }
    }

    public struct RunningTask: Hashable, Sendable, Codable {
        public var frameworkID: FrameworkID
        public var task: TaskInfo
        public var status: TaskStatus

        enum CodingKeys: String, CodingKey { case frameworkID = "framework_id", task, status }

        public init(frameworkID: FrameworkID, task: TaskInfo, status: TaskStatus) {
            self.frameworkID = frameworkID
            self.task = task
            self.status = status
        }
    }

    /// One task status change. The agent sends a task's updates one at a time, in order, and
    /// resends an update until the framework's ACKNOWLEDGE for its uuid comes back.
    public struct StatusUpdate: Hashable, Sendable, Codable {
        public var frameworkID: FrameworkID
        public var status: TaskStatus

        enum CodingKeys: String, CodingKey { case frameworkID = "framework_id", status }

        public init(frameworkID: FrameworkID, status: TaskStatus) {
            self.frameworkID = frameworkID
            self.status = status
        }
    }
}
