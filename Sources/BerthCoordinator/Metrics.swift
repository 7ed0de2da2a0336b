import BerthCore
import BerthProtocol
import Hummingbird
import BerthMetrics
import NIOCore

/// Counters since start that the registry cannot be asked for afterwards.
struct Statistics: Sendable, Equatable {
    /// Tasks that reached each terminal state (Mesos' master/tasks_finished and the like count
    /// transitions, so tasks removed with their framework still count).
    var terminalTasks: [TaskState: UInt64] = [:]
    var lastCycle: Duration = .zero
    var longestCycle: Duration = .zero

    mutating func countTransition(from old: TaskState?, to new: TaskState) {
        guard let old, !old.isTerminal, new.isTerminal else { return }
        terminalTasks[new, default: 0] += 1
    }

    mutating func recordCycle(_ duration: Duration) {
        lastCycle = duration
        longestCycle = max(longestCycle, duration)
    }
}

extension MetricsSnapshot {
    /// The coordinator's keys that only grow: Prometheus counters.
    static let coordinatorCounters: Set<String> = Set(TaskState.allCases.filter(\.isTerminal).map(MetricsSnapshot.taskKey))
        .union(["allocator/mesos/allocation_runs"])

    static func taskKey(_ state: TaskState) -> String {
        "master/tasks_" + state.rawValue.dropFirst("TASK_".count).lowercased()
    }
}

extension Coordinator {
    public func metricsSnapshot() -> MetricsSnapshot {
        var values: [String: Double] = [
            "master/elected": 1,
            "master/uptime_secs": now.seconds,
            "master/outstanding_offers": Double(offers.count),
            "allocator/mesos/allocation_runs": Double(counters.cycles),
            "allocator/mesos/allocation_run_ms": statistics.lastCycle.seconds * 1000,
            "allocator/mesos/allocation_run_ms/max": statistics.longestCycle.seconds * 1000,
        ]

        // Agents recovered after a restart are inactive until they register again: not offered.
        let active = agents.values.filter(\.isOfferable)
        let unreachable = agents.values.filter { !$0.reachable }.count
        values["master/slaves_active"] = Double(active.count)
        values["master/slaves_inactive"] = Double(agents.count - active.count - unreachable)
        values["master/slaves_connected"] = Double(active.filter { $0.channel != nil }.count)
        values["master/slaves_disconnected"] = Double(active.filter { $0.channel == nil }.count)
        values["master/slaves_unreachable"] = Double(unreachable)

        let connected = frameworks.values.filter { $0.channel != nil }.count
        values["master/frameworks_active"] = Double(connected)
        values["master/frameworks_inactive"] = Double(frameworks.count - connected)
        values["master/frameworks_connected"] = Double(connected)
        values["master/frameworks_disconnected"] = Double(frameworks.count - connected)

        // Totals over active agents and use by live tasks on them, as Mesos counts them.
        var total = Resources()
        for agent in active { total += agent.total }
        var used = Resources()
        for task in tasks.values where !task.status.state.isTerminal && agents[task.agent]?.isOfferable == true { used += task.info.resources }
        for name in ["cpus", "mem", "disk", "gpus"] {
            let all = total.scalar(named: name).doubleValue
            let inUse = used.scalar(named: name).doubleValue
            values["master/\(name)_total"] = all
            values["master/\(name)_used"] = inUse
            values["master/\(name)_percent"] = all > 0 ? inUse / all : 0
        }

        for state in TaskState.allCases {
            values[MetricsSnapshot.taskKey(state)] = state.isTerminal
                ? Double(statistics.terminalTasks[state] ?? 0)
                : Double(tasks.values.filter { $0.status.state == state }.count)
        }
        return MetricsSnapshot(values: values, counters: MetricsSnapshot.coordinatorCounters)
    }
}

enum MetricsRoutes {
    static func add(to router: Router<some RequestContext>, coordinator: Coordinator) {
        router.get("/metrics/snapshot") { _, _ in try HTTPSupport.json(await coordinator.metricsSnapshot().values) }
        router.get("/metrics") { _, _ in
            let text = await coordinator.metricsSnapshot().prometheusText()
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
    }
}
