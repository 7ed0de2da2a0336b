import BerthCgroups
import BerthCore
import BerthProtocol
import Foundation

/// One entry of `GET /monitor/statistics`, in the shape of Mesos' agent endpoint (a command
/// task is its own executor), plus the container ID and the OOM kill count.
public struct ContainerStatisticsEntry: Codable, Sendable {
    public var executorID: String
    public var executorName: String
    public var frameworkID: FrameworkID
    public var source: String
    public var containerID: String
    public var statistics: Values

    enum CodingKeys: String, CodingKey {
        case executorID = "executor_id", executorName = "executor_name", frameworkID = "framework_id", source
        case containerID = "container_id", statistics
    }

    public struct Values: Codable, Sendable {
        public var timestamp: Double
        public var cpusUserTimeSecs: Double
        public var cpusSystemTimeSecs: Double
        public var cpusLimit: Double?
        public var cpusNrThrottled: UInt64
        public var cpusThrottledTimeSecs: Double
        public var memTotalBytes: UInt64
        public var memMaxBytes: UInt64?
        public var memLimitBytes: UInt64?
        public var memOomKills: UInt64
        public var processes: UInt64?

        enum CodingKeys: String, CodingKey {
            case timestamp, cpusUserTimeSecs = "cpus_user_time_secs", cpusSystemTimeSecs = "cpus_system_time_secs"
            case cpusLimit = "cpus_limit", cpusNrThrottled = "cpus_nr_throttled", cpusThrottledTimeSecs = "cpus_throttled_time_secs"
            case memTotalBytes = "mem_total_bytes", memMaxBytes = "mem_max_bytes", memLimitBytes = "mem_limit_bytes"
            case memOomKills = "mem_oom_kills", processes
        }
    }
}

extension Agent {
    /// Usage of every running container, read from its cgroup now. A container whose cgroup is
    /// already gone (it just ended) is left out.
    public func statistics() -> [ContainerStatisticsEntry] {
        let now = Date().timeIntervalSince1970
        var entries: [ContainerStatisticsEntry] = []
        for (key, task) in tasks.sorted(by: { ($0.key.framework.value, $0.key.task) < ($1.key.framework.value, $1.key.task) }) {
            guard let containerID = task.checkpoint.containerID, !task.checkpoint.latest.state.isTerminal,
                  let cgroup = try? cgroups.open(name: "berth-\(containerID)"), let stats = try? cgroup.stats() else { continue }
            let cpus = task.checkpoint.task.resources.scalar(named: "cpus")
            entries.append(ContainerStatisticsEntry(
                executorID: key.task.value, executorName: task.checkpoint.task.name, frameworkID: key.framework, source: key.task.value,
                containerID: containerID,
                statistics: .init(timestamp: now, cpusUserTimeSecs: Double(stats.cpuUserNanos) / 1e9, cpusSystemTimeSecs: Double(stats.cpuSystemNanos) / 1e9,
                                  cpusLimit: cpus == .zero ? nil : Double(cpus.description), cpusNrThrottled: stats.throttledPeriods,
                                  cpusThrottledTimeSecs: Double(stats.throttledNanos) / 1e9, memTotalBytes: stats.memoryCurrentBytes,
                                  memMaxBytes: stats.memoryPeakBytes, memLimitBytes: stats.memoryLimitBytes, memOomKills: stats.oomKills,
                                  processes: stats.pidsCurrent)))
        }
        return entries
    }
}
