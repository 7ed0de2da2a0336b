import BerthCore

/// A call from a framework to `POST /api/v1/scheduler`: a type and the payload for that type,
/// as Mesos' v1 scheduler API defines them.
public struct Call: Hashable, Sendable, Codable {
    public enum Kind: String, Hashable, Sendable, Codable, CaseIterable {
        case subscribe = "SUBSCRIBE"
        case teardown = "TEARDOWN"
        case accept = "ACCEPT"
        case decline = "DECLINE"
        case acceptInverseOffers = "ACCEPT_INVERSE_OFFERS"
        case declineInverseOffers = "DECLINE_INVERSE_OFFERS"
        case revive = "REVIVE"
        case kill = "KILL"
        case shutdown = "SHUTDOWN"
        case acknowledge = "ACKNOWLEDGE"
        case acknowledgeOperationStatus = "ACKNOWLEDGE_OPERATION_STATUS"
        case reconcile = "RECONCILE"
        case reconcileOperations = "RECONCILE_OPERATIONS"
        case message = "MESSAGE"
        case request = "REQUEST"
        case suppress = "SUPPRESS"
        case updateFramework = "UPDATE_FRAMEWORK"
    }

    public var frameworkID: FrameworkID?
    public var type: Kind
    public var subscribe: Subscribe?
    public var accept: Accept?
    public var decline: Decline?
    public var revive: Revive?
    public var suppress: Suppress?
    public var kill: Kill?
    public var shutdown: Shutdown?
    public var acknowledge: Acknowledge?
    public var reconcile: Reconcile?
    public var message: Message?
    public var updateFramework: UpdateFramework?

    enum CodingKeys: String, CodingKey {
        case frameworkID = "framework_id", type, subscribe, accept, decline, revive, suppress, kill, shutdown
        case acknowledge, reconcile, message, updateFramework = "update_framework"
    }

    public init(type: Kind, frameworkID: FrameworkID? = nil) {
        self.type = type
        self.frameworkID = frameworkID
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let typeName = try container.decode(String.self, forKey: .type)
        guard let type = Kind(rawValue: typeName) else {
            throw DecodingError.dataCorruptedError(forKey: .type, in: container, debugDescription:
                "unknown call type \"\(typeName)\"; expected one of \(Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.type = type
        frameworkID = try container.decodeIfPresent(FrameworkID.self, forKey: .frameworkID)
        subscribe = try container.decodeIfPresent(Subscribe.self, forKey: .subscribe)
        accept = try container.decodeIfPresent(Accept.self, forKey: .accept)
        decline = try container.decodeIfPresent(Decline.self, forKey: .decline)
        revive = try container.decodeIfPresent(Revive.self, forKey: .revive)
        suppress = try container.decodeIfPresent(Suppress.self, forKey: .suppress)
        kill = try container.decodeIfPresent(Kill.self, forKey: .kill)
        shutdown = try container.decodeIfPresent(Shutdown.self, forKey: .shutdown)
        acknowledge = try container.decodeIfPresent(Acknowledge.self, forKey: .acknowledge)
        reconcile = try container.decodeIfPresent(Reconcile.self, forKey: .reconcile)
        message = try container.decodeIfPresent(Message.self, forKey: .message)
        updateFramework = try container.decodeIfPresent(UpdateFramework.self, forKey: .updateFramework)
    }

    /// Checks what JSON decoding cannot: the payload the type needs is there, and so is
    /// `framework_id` on every call but SUBSCRIBE. The message names the missing field.
    public func validate() throws {
        func missing(_ field: String) -> BerthError {
            BerthError(.invalidArgument, "\(type.rawValue) call without \"\(field)\"; add it as the scheduler API documents")
        }
        if type != .subscribe && frameworkID == nil { throw missing("framework_id") }
        switch type {
        case .subscribe:
            guard let subscribe else { throw missing("subscribe") }
            if let given = frameworkID, let inInfo = subscribe.frameworkInfo.id, given != inInfo {
                throw BerthError(.invalidArgument, "SUBSCRIBE: framework_id \(given) differs from framework_info.id \(inInfo); send the same id in both")
            }
        case .accept: if accept == nil { throw missing("accept") }
        case .decline: if decline == nil { throw missing("decline") }
        case .kill: if kill == nil { throw missing("kill") }
        case .shutdown: if shutdown == nil { throw missing("shutdown") }
        case .acknowledge: if acknowledge == nil { throw missing("acknowledge") }
        case .message: if message == nil { throw missing("message") }
        case .updateFramework: if updateFramework == nil { throw missing("update_framework") }
        case .teardown, .revive, .suppress, .reconcile, .request, .acceptInverseOffers, .declineInverseOffers,
             .acknowledgeOperationStatus, .reconcileOperations:
            break
        }
    }

    public struct Subscribe: Hashable, Sendable, Codable {
        public var frameworkInfo: FrameworkInfo
        public var suppressedRoles: [String]?

        enum CodingKeys: String, CodingKey { case frameworkInfo = "framework_info", suppressedRoles = "suppressed_roles" }

        public init(frameworkInfo: FrameworkInfo, suppressedRoles: [String]? = nil) {
            self.frameworkInfo = frameworkInfo
            self.suppressedRoles = suppressedRoles
        }
    }

    public struct Accept: Hashable, Sendable, Codable {
        public var offerIDs: [OfferID]
        public var operations: [Operation]?
        public var filters: Filters?

        enum CodingKeys: String, CodingKey { case offerIDs = "offer_ids", operations, filters }

        public init(offerIDs: [OfferID], operations: [Operation], filters: Filters? = nil) {
            self.offerIDs = offerIDs
            self.operations = operations
            self.filters = filters
        }
    }

    public struct Decline: Hashable, Sendable, Codable {
        public var offerIDs: [OfferID]
        public var filters: Filters?

        enum CodingKeys: String, CodingKey { case offerIDs = "offer_ids", filters }

        public init(offerIDs: [OfferID], filters: Filters? = nil) {
            self.offerIDs = offerIDs
            self.filters = filters
        }
    }

    /// REVIVE and SUPPRESS: for the roles given, or all of the framework's roles when none are.
    public struct Revive: Hashable, Sendable, Codable {
        public var roles: [String]?
        public init(roles: [String]? = nil) { self.roles = roles }
    }

    public typealias Suppress = Revive

    public struct Kill: Hashable, Sendable, Codable {
        public var taskID: TaskID
        public var agentID: AgentID?
        public var killPolicy: KillPolicy?

        enum CodingKeys: String, CodingKey { case taskID = "task_id", agentID = "agent_id", killPolicy = "kill_policy" }

        public init(taskID: TaskID, agentID: AgentID? = nil) {
            self.taskID = taskID
            self.agentID = agentID
        }
    }

    public struct Shutdown: Hashable, Sendable, Codable {
        public var executorID: ExecutorID
        public var agentID: AgentID

        enum CodingKeys: String, CodingKey { case executorID = "executor_id", agentID = "agent_id" }
    }

    public struct Acknowledge: Hashable, Sendable, Codable {
        public var agentID: AgentID
        public var taskID: TaskID
        /// Base64, as it came in the update's status.uuid.
        public var uuid: String

        enum CodingKeys: String, CodingKey { case agentID = "agent_id", taskID = "task_id", uuid }

        public init(agentID: AgentID, taskID: TaskID, uuid: String) {
            self.agentID = agentID
            self.taskID = taskID
            self.uuid = uuid
        }
    }

    /// Explicit with tasks listed; implicit (every task the coordinator knows) when empty.
    public struct Reconcile: Hashable, Sendable, Codable {
        public var tasks: [Task]?

        public init(tasks: [Task]? = nil) { self.tasks = tasks }

        public struct Task: Hashable, Sendable, Codable {
            public var taskID: TaskID
            public var agentID: AgentID?

            enum CodingKeys: String, CodingKey { case taskID = "task_id", agentID = "agent_id" }

            public init(taskID: TaskID, agentID: AgentID? = nil) {
                self.taskID = taskID
                self.agentID = agentID
            }
        }
    }

    public struct Message: Hashable, Sendable, Codable {
        public var agentID: AgentID
        public var executorID: ExecutorID
        /// Base64.
        public var data: String

        enum CodingKeys: String, CodingKey { case agentID = "agent_id", executorID = "executor_id", data }
    }

    public struct UpdateFramework: Hashable, Sendable, Codable {
        public var frameworkInfo: FrameworkInfo
        public var suppressedRoles: [String]?

        enum CodingKeys: String, CodingKey { case frameworkInfo = "framework_info", suppressedRoles = "suppressed_roles" }
    }
}

/// One operation of an ACCEPT. The type stays a string so operations Berth does not support yet
/// (RESERVE, CREATE, ...) decode, and are refused with a message rather than as malformed JSON.
public struct Operation: Hashable, Sendable, Codable {
    public var type: String
    public var launch: Launch?
    public var launchGroup: LaunchGroup?

    enum CodingKeys: String, CodingKey { case type, launch, launchGroup = "launch_group" }

    public static func launch(_ tasks: [TaskInfo]) -> Operation {
        Operation(type: "LAUNCH", launch: Launch(taskInfos: tasks))
    }

    /// A task group: started together, and ended together when one of them fails.
    public static func launchGroup(_ tasks: [TaskInfo], executor: JSONValue? = nil) -> Operation {
        Operation(type: "LAUNCH_GROUP", launchGroup: LaunchGroup(executor: executor, taskGroup: .init(tasks: tasks)))
    }

    public init(type: String, launch: Launch? = nil, launchGroup: LaunchGroup? = nil) {
        self.type = type
        self.launch = launch
        self.launchGroup = launchGroup
    }

    public struct Launch: Hashable, Sendable, Codable {
        public var taskInfos: [TaskInfo]
        enum CodingKeys: String, CodingKey { case taskInfos = "task_infos" }
        public init(taskInfos: [TaskInfo]) { self.taskInfos = taskInfos }
    }

    public struct LaunchGroup: Hashable, Sendable, Codable {
        public var executor: JSONValue?
        public var taskGroup: TaskGroup

        enum CodingKeys: String, CodingKey { case executor, taskGroup = "task_group" }

        public init(executor: JSONValue?, taskGroup: TaskGroup) {
            self.executor = executor
            self.taskGroup = taskGroup
        }

        public struct TaskGroup: Hashable, Sendable, Codable {
            public var tasks: [TaskInfo]
            public init(tasks: [TaskInfo]) { self.tasks = tasks }
        }
    }

    /// The tasks this operation launches: LAUNCH's, or LAUNCH_GROUP's group; none for others.
    public var tasks: [TaskInfo] {
        switch type {
        case "LAUNCH": launch?.taskInfos ?? []
        case "LAUNCH_GROUP": launchGroup?.taskGroup.tasks ?? []
        default: []
        }
    }
}
