import BerthCore
import BerthMetrics
import BerthProtocol
import Foundation

/// Counts since the agent started that its current tasks cannot tell any more.
struct AgentCounters: Sendable {
    let started = ContinuousClock.now
    /// Tasks that reached each terminal state (Mesos' slave/tasks_finished and the like).
    var terminalTasks: [TaskState: UInt64] = [:]
    /// Containers that could not be started (slave/container_launch_errors).
    var launchErrors: UInt64 = 0
    /// Status updates acknowledged by frameworks (slave/valid_status_updates).
    var acknowledgedUpdates: UInt64 = 0
    /// Images pulled from a registry for a task.
    var imagePulls: UInt64 = 0
    /// Sandboxes and images removed by garbage collection.
    var sandboxesCollected: UInt64 = 0
    var imagesCollected: UInt64 = 0

    mutating func count(_ state: TaskState, reason: Reason?) {
        guard state.isTerminal else { return }
        terminalTasks[state, default: 0] += 1
        if reason == .containerLaunchFailed { launchErrors += 1 }
    }
}

extension Agent {
    static func taskKey(_ state: TaskState) -> String {
        "slave/tasks_" + state.rawValue.dropFirst("TASK_".count).lowercased()
    }

    static let metricCounters: Set<String> = Set(TaskState.allCases.filter(\.isTerminal).map(taskKey))
        .union(["slave/container_launch_errors", "slave/valid_status_updates", "berth/agent/image_pulls",
                "berth/agent/sandboxes_collected", "berth/agent/images_collected"])

    /// `GET /metrics/snapshot` in the names of Mesos' agent, and `GET /metrics` from the same
    /// figures plus each running container's usage as labelled series.
    public func metricsSnapshot() -> MetricsSnapshot {
        var values: [String: Double] = [
            "slave/registered": streamID == nil ? 0 : 1,
            "slave/uptime_secs": (ContinuousClock.now - counters.started) / .seconds(1),
            "slave/container_launch_errors": Double(counters.launchErrors),
            "slave/valid_status_updates": Double(counters.acknowledgedUpdates),
            "berth/agent/image_pulls": Double(counters.imagePulls),
            "berth/agent/sandboxes_collected": Double(counters.sandboxesCollected),
            "berth/agent/images_collected": Double(counters.imagesCollected),
            "berth/agent/status_updates_pending": Double(tasks.values.reduce(0) { $0 + $1.checkpoint.pending.count }),
        ]
        var used = Resources()
        var running = 0
        for task in tasks.values where !task.checkpoint.latest.state.isTerminal {
            used += task.checkpoint.task.resources
            if case .running = task.phase { running += 1 }
        }
        values["slave/executors_running"] = Double(running)
        for name in ["cpus", "mem", "disk", "gpus"] {
            let total = configuration.resources.scalar(named: name).doubleValue
            let inUse = used.scalar(named: name).doubleValue
            values["slave/\(name)_total"] = total
            values["slave/\(name)_used"] = inUse
            values["slave/\(name)_percent"] = total > 0 ? inUse / total : 0
        }
        for state in TaskState.allCases {
            values[Self.taskKey(state)] = state.isTerminal
                ? Double(counters.terminalTasks[state] ?? 0)
                : Double(tasks.values.filter { $0.checkpoint.latest.state == state }.count)
        }
        return MetricsSnapshot(values: values, counters: Self.metricCounters, labeled: containerSamples())
    }

    /// Per running container, labelled with its framework, task and container IDs.
    private func containerSamples() -> [MetricsSnapshot.LabeledSample] {
        var samples: [MetricsSnapshot.LabeledSample] = []
        for entry in statistics() {
            let labels = [("framework_id", entry.frameworkID.value), ("task_id", entry.source), ("container_id", entry.containerID)]
            let values = entry.statistics
            func add(_ name: String, _ help: String, _ value: Double?, counter: Bool = false) {
                guard let value else { return }
                samples.append(.init(name: "berth_container_" + name, help: help, labels: labels, value: value, isCounter: counter))
            }
            add("cpu_user_seconds_total", "CPU time in user mode", values.cpusUserTimeSecs, counter: true)
            add("cpu_system_seconds_total", "CPU time in kernel mode", values.cpusSystemTimeSecs, counter: true)
            add("cpu_throttled_seconds_total", "Time the CPU limit held the container back", values.cpusThrottledTimeSecs, counter: true)
            add("cpu_limit", "CPU limit in CPUs", values.cpusLimit)
            add("memory_bytes", "Memory in use", Double(values.memTotalBytes))
            add("memory_limit_bytes", "Memory limit", values.memLimitBytes.map { Double($0) })
            add("memory_oom_kills_total", "Processes the OOM killer ended", Double(values.memOomKills), counter: true)
            add("processes", "Processes in the container", values.processes.map { Double($0) })
        }
        return samples
    }
}
