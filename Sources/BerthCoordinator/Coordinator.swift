import BerthAllocator
import BerthCore
import BerthProtocol
import Foundation
import Logging

extension BerthError.Code {
    /// The caller is not who it claims: an unsubscribed framework, an unregistered agent (HTTP 403).
    public static let forbidden = BerthError.Code(rawValue: "forbidden")
}

/// The coordinator's registry of agents, frameworks, offers and tasks. Every change goes through
/// this actor; the HTTP routes and the services only call it.
public actor Coordinator {
    let configuration: CoordinatorConfiguration
    let logger: Logger
    /// Prefix of every ID this coordinator hands out, so IDs of two runs never collide.
    let instanceID: String
    private let started = ContinuousClock.now

    var agents: [AgentID: AgentRecord] = [:]
    var frameworks: [FrameworkID: FrameworkRecord] = [:]
    var offers: [OfferID: OfferRecord] = [:]
    var tasks: [TaskKey: TaskRecord] = [:]
    var filters: [OfferFilter] = []
    var counters = (frameworks: 0, agents: 0, offers: 0, cycles: UInt64(0))

    /// Wakes the allocation service early: buffered to one, since one cycle serves any number of changes.
    private let allocationRequests: AsyncStream<Void>.Continuation
    nonisolated let allocationWakeups: AsyncStream<Void>

    public init(configuration: CoordinatorConfiguration, logger: Logger, instanceID: String = UUID().uuidString) {
        self.configuration = configuration
        self.logger = logger
        self.instanceID = instanceID
        (allocationWakeups, allocationRequests) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Seconds since this coordinator started: what filter and failover deadlines are kept in.
    var now: Timestamp {
        Timestamp(seconds: (ContinuousClock.now - started).seconds)
    }

    /// Wall-clock seconds since the epoch, for status update timestamps.
    var wallClock: Double { Date().timeIntervalSince1970 }

    /// Asks for an allocation cycle soon: after resources were freed or a framework wants offers.
    func requestAllocation() {
        allocationRequests.yield()
    }

    /// Closes every stream, so HTTP connections end and the server can shut down gracefully.
    public func closeStreams() {
        for framework in frameworks.values { framework.channel?.close() }
        for agent in agents.values { agent.channel?.close() }
    }

    static func makeStreamID() -> String { UUID().uuidString.lowercased() }

    func nextFrameworkID() -> FrameworkID {
        counters.frameworks += 1
        return FrameworkID("\(instanceID)-\(String(format: "%04d", counters.frameworks))")
    }

    func nextAgentID() -> AgentID {
        counters.agents += 1
        return AgentID("\(instanceID)-S\(counters.agents)")
    }

    func nextOfferID() -> OfferID {
        counters.offers += 1
        return OfferID("\(instanceID)-O\(counters.offers)")
    }

    /// Sends a status update to the framework, when it is connected, and records it on the task.
    func deliver(_ status: TaskStatus, to framework: FrameworkID) {
        let key = TaskKey(framework: framework, task: status.taskID)
        if tasks[key] != nil { tasks[key]?.status = status }
        frameworks[framework]?.send(.update(status))
    }

    /// A status update the coordinator itself makes (offer errors, lost agents): no uuid, since
    /// nothing on an agent waits for its acknowledgement.
    func masterStatus(_ task: TaskID, _ state: TaskState, reason: Reason, message: String, agent: AgentID?) -> TaskStatus {
        TaskStatus(taskID: task, state: state, message: message, source: .master, reason: reason, agentID: agent, timestamp: wallClock)
    }
}
