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
    /// Where every change is written before it is answered; nil keeps state in memory only.
    let store: CoordinatorStore?

    var agents: [AgentID: AgentRecord] = [:]
    /// When agents' silence was last checked (first: when the coordinator was made): a check
    /// much later than its interval means the coordinator itself was not running in between.
    var lastAgentCheck = Timestamp(seconds: 0)
    var frameworks: [FrameworkID: FrameworkRecord] = [:]
    var offers: [OfferID: OfferRecord] = [:]
    var tasks = TaskTable()
    var filters: [OfferFilter] = []
    /// Kills for tasks on agents that were not connected when they were asked for; sent when the
    /// agent registers again (if it still runs the task).
    var pendingKills: [AgentID: [TaskKey: AgentEvent.Kill]] = [:]
    /// Tasks of each framework that finished since its completed tasks were last pruned.
    var completedSincePrune: [FrameworkID: Int] = [:]
    /// Torn down or timed out in this run: they may not re-subscribe under their IDs.
    var removedFrameworks: Set<FrameworkID> = []
    /// The last removed frameworks and their tasks as they were then, oldest first, for /state.
    var completedFrameworks: [(framework: FrameworkRecord, tasks: [TaskRecord])] = []
    var counters = (frameworks: 0, agents: 0, offers: 0, cycles: UInt64(0))

    /// Operator-set weights and quotas (`/weights`, `/quota`), stored as settings and restored at start.
    var roleSettings = RoleSettings()
    /// Counters behind `/metrics` that the registry cannot derive; they restart at zero, as Mesos' do.
    var statistics = Statistics()
    /// Where frameworks reach this coordinator, for SUBSCRIBED's master_info; set once it listens.
    var address: MasterInfo.Address?

    /// Wakes the allocation service early: buffered to one, since one cycle serves any number of changes.
    private let allocationRequests: AsyncStream<Void>.Continuation
    nonisolated let allocationWakeups: AsyncStream<Void>
    /// Agent connections' calls waiting for the actor (`submit`).
    nonisolated let inbox = CoordinatorInbox()

    /// With `configuration.home` set, opens the state database there and takes up where the last
    /// run left off (see `Coordinator+Recovery.swift`).
    public init(configuration: CoordinatorConfiguration, logger: Logger, instanceID: String = UUID().uuidString) throws {
        self.configuration = configuration
        self.logger = logger
        self.instanceID = instanceID
        (allocationWakeups, allocationRequests) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        guard let home = configuration.home else {
            store = nil
            return
        }
        let store = try CoordinatorStore(directory: home + "/coordinator")
        self.store = store
        let recovered = try Recovery.restore(from: store, at: Timestamp(seconds: 0), logger: logger)
        (agents, frameworks, tasks) = (recovered.agents, recovered.frameworks, TaskTable(recovered.tasks))
        roleSettings = try RoleSettings(restoring: recovered.settings)
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

    static func makeStreamID() -> String { RandomUUID().string }

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

    /// Records a status on its task (on disk first), then sends it to the framework when it is
    /// connected. A status the store cannot take is still applied and sent, and logged: the
    /// framework must not wait on a failing disk.
    func deliver(_ status: TaskStatus, to framework: FrameworkID) {
        let known = knownStatuses([(framework, status)])
        do {
            try store?.saveStatuses(known)
        } catch {
            logger.error("status not recorded", metadata: ["task": "\(status.taskID)", "error": "\(error)"])
        }
        apply(known)
        frameworks[framework]?.send(.update(status))
    }

    /// Sets tasks' latest statuses, in the store first; statuses of unknown tasks are skipped.
    func record(_ statuses: [(FrameworkID, TaskStatus)]) throws {
        let known = knownStatuses(statuses)
        try store?.saveStatuses(known)
        apply(known)
    }

    private func knownStatuses(_ statuses: [(FrameworkID, TaskStatus)]) -> [(FrameworkID, TaskStatus)] {
        statuses.filter { tasks[TaskKey(framework: $0.0, task: $0.1.taskID)] != nil }
    }

    /// The in-memory half of recording: the task's status, the metrics' transition counts, and
    /// pruning of old completed tasks.
    private func apply(_ known: [(FrameworkID, TaskStatus)]) {
        for (framework, status) in known {
            let key = TaskKey(framework: framework, task: status.taskID)
            statistics.countTransition(from: tasks[key]?.status.state, to: status.state)
            if status.state.isTerminal, tasks[key]?.status.state.isTerminal == false {
                completedSincePrune[framework, default: 0] += 1
            }
            tasks[key]?.status = status
        }
        for framework in Set(known.map(\.0)) where completedSincePrune[framework, default: 0] > configuration.maxCompletedTasksPerFramework / 10 {
            forgetOldCompletedTasks(of: framework)
        }
    }

    /// Keeps the newest `maxCompletedTasksPerFramework` finished tasks of a framework. Runs after
    /// every tenth of that many tasks finish, so its scan costs little per task.
    func forgetOldCompletedTasks(of framework: FrameworkID) {
        completedSincePrune[framework] = 0
        let completed = tasks.values.filter { $0.framework == framework && $0.status.state.isTerminal }
        let excess = completed.count - configuration.maxCompletedTasksPerFramework
        guard excess > 0 else { return }
        let oldest = completed.sorted { ($0.status.timestamp ?? 0) < ($1.status.timestamp ?? 0) }.prefix(excess)
        do {
            try store?.removeTasks(oldest.map { ($0.framework, $0.info.taskID) })
        } catch {
            logger.error("cannot forget old completed tasks; will retry", metadata: ["framework": "\(framework)", "error": "\(error)"])
            return
        }
        for task in oldest { tasks[TaskKey(framework: framework, task: task.info.taskID)] = nil }
    }

    /// A status update the coordinator itself makes (offer errors, lost agents): no uuid, since
    /// nothing on an agent waits for its acknowledgement.
    func masterStatus(_ task: TaskID, _ state: TaskState, reason: Reason, message: String, agent: AgentID?) -> TaskStatus {
        TaskStatus(taskID: task, state: state, message: message, source: .master, reason: reason, agentID: agent, timestamp: wallClock)
    }
}
