/// Mesos' task states, spelled as in its JSON. The coordinator-side states (LOST, UNREACHABLE,
/// GONE, DROPPED, UNKNOWN) describe what the coordinator knows when an agent is out of reach.
public enum TaskState: String, Hashable, Sendable, Codable, CaseIterable {
    case staging = "TASK_STAGING"
    case starting = "TASK_STARTING"
    case running = "TASK_RUNNING"
    case killing = "TASK_KILLING"
    case finished = "TASK_FINISHED"
    case failed = "TASK_FAILED"
    case killed = "TASK_KILLED"
    case error = "TASK_ERROR"
    case lost = "TASK_LOST"
    case dropped = "TASK_DROPPED"
    case unreachable = "TASK_UNREACHABLE"
    case gone = "TASK_GONE"
    case goneByOperator = "TASK_GONE_BY_OPERATOR"
    case unknown = "TASK_UNKNOWN"

    /// Terminal states release the task's resources; UNREACHABLE does not (the agent may come back).
    public var isTerminal: Bool {
        switch self {
        case .finished, .failed, .killed, .error, .lost, .dropped, .gone, .goneByOperator: true
        case .staging, .starting, .running, .killing, .unreachable, .unknown: false
        }
    }
}

/// Who said what a status update says.
public enum StatusSource: String, Hashable, Sendable, Codable {
    case master = "SOURCE_MASTER"
    case agent = "SOURCE_AGENT"
    case executor = "SOURCE_EXECUTOR"
}

/// Why a task changed state, in Mesos' names. A struct rather than an enum so reasons added by
/// newer Mesos versions (or agents) pass through.
public struct Reason: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
    public var description: String { rawValue }

    public static let agentRemoved = Reason(rawValue: "REASON_AGENT_REMOVED")
    public static let agentReregistered = Reason(rawValue: "REASON_AGENT_REREGISTERED")
    public static let agentRestarted = Reason(rawValue: "REASON_AGENT_RESTARTED")
    public static let agentUnknown = Reason(rawValue: "REASON_AGENT_UNKNOWN")
    public static let agentDisconnected = Reason(rawValue: "REASON_AGENT_DISCONNECTED")
    public static let commandExecutorFailed = Reason(rawValue: "REASON_COMMAND_EXECUTOR_FAILED")
    public static let containerLaunchFailed = Reason(rawValue: "REASON_CONTAINER_LAUNCH_FAILED")
    public static let containerLimitationMemory = Reason(rawValue: "REASON_CONTAINER_LIMITATION_MEMORY")
    public static let containerLimitationDisk = Reason(rawValue: "REASON_CONTAINER_LIMITATION_DISK")
    public static let containerPreempted = Reason(rawValue: "REASON_CONTAINER_PREEMPTED")
    public static let executorTerminated = Reason(rawValue: "REASON_EXECUTOR_TERMINATED")
    public static let frameworkRemoved = Reason(rawValue: "REASON_FRAMEWORK_REMOVED")
    public static let gcError = Reason(rawValue: "REASON_GC_ERROR")
    public static let invalidFrameworkID = Reason(rawValue: "REASON_INVALID_FRAMEWORKID")
    public static let invalidOffers = Reason(rawValue: "REASON_INVALID_OFFERS")
    public static let masterDisconnected = Reason(rawValue: "REASON_MASTER_DISCONNECTED")
    public static let reconciliation = Reason(rawValue: "REASON_RECONCILIATION")
    public static let resourcesUnknown = Reason(rawValue: "REASON_RESOURCES_UNKNOWN")
    public static let taskGroupInvalid = Reason(rawValue: "REASON_TASK_GROUP_INVALID")
    public static let taskGroupUnauthorized = Reason(rawValue: "REASON_TASK_GROUP_UNAUTHORIZED")
    public static let taskHealthCheckStatusUpdated = Reason(rawValue: "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED")
    public static let taskInvalid = Reason(rawValue: "REASON_TASK_INVALID")
    public static let taskKilledDuringLaunch = Reason(rawValue: "REASON_TASK_KILLED_DURING_LAUNCH")
    public static let taskUnknown = Reason(rawValue: "REASON_TASK_UNKNOWN")
    public static let taskUnauthorized = Reason(rawValue: "REASON_TASK_UNAUTHORIZED")
}
