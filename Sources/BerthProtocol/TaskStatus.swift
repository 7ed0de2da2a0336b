import BerthCore

/// A task's state as the framework sees it in UPDATE events, and as agents report it.
public struct TaskStatus: Hashable, Sendable, Codable {
    public var taskID: TaskID
    public var state: TaskState
    public var message: String?
    public var source: StatusSource?
    public var reason: Reason?
    public var agentID: AgentID?
    public var executorID: ExecutorID?
    /// Seconds since the epoch, as Mesos sends them.
    public var timestamp: Double?
    /// Base64 of the update's UUID. Present when the update needs an ACKNOWLEDGE (those from
    /// agents); absent on the coordinator's own updates (offer errors, reconciliation).
    public var uuid: String?
    public var healthy: Bool?
    public var data: String?
    public var labels: JSONValue?

    enum CodingKeys: String, CodingKey {
        case taskID = "task_id", state, message, source, reason, agentID = "agent_id", executorID = "executor_id"
        case timestamp, uuid, healthy, data, labels
    }

    public init(taskID: TaskID, state: TaskState, message: String? = nil, source: StatusSource? = nil, reason: Reason? = nil,
                agentID: AgentID? = nil, executorID: ExecutorID? = nil, timestamp: Double? = nil, uuid: String? = nil, healthy: Bool? = nil) {
        self.taskID = taskID
        self.state = state
        self.message = message
        self.source = source
        self.reason = reason
        self.agentID = agentID
        self.executorID = executorID
        self.timestamp = timestamp
        self.uuid = uuid
        self.healthy = healthy
    }
}
