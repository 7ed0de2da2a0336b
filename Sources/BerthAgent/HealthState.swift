import BerthProtocol

/// What Mesos' health checker decides from one check's result. Pure: the clock is passed in,
/// so grace period and failure counting are tested with tables.
///
/// - A failure within the grace period (counted from the task's start) is ignored until the
///   first success; after a success the grace period no longer applies.
/// - The first result that counts, and every change of health, is reported (TASK_RUNNING with
///   `healthy`, reason REASON_TASK_HEALTH_CHECK_STATUS_UPDATED).
/// - `consecutive_failures` failures in a row kill the task.
struct HealthState: Codable, Sendable, Equatable {
    var gracePeriod: Double
    var failuresToKill: Int
    /// When the task's container started, in seconds since the epoch: wall-clock time, so it
    /// still means something to the agent that adopts the container after a restart.
    var startedAt: Double
    /// The health last reported; nil before the first result that counts.
    var healthy: Bool?
    var everHealthy = false
    var consecutiveFailures = 0

    init(check: HealthCheck, startedAt: Double) {
        gracePeriod = check.gracePeriod
        failuresToKill = check.failuresToKill
        self.startedAt = startedAt
    }

    struct Decision: Equatable {
        /// Report this health now (it is the first, or it changed).
        var report: Bool?
        var kill = false
    }

    mutating func record(success: Bool, at now: Double) -> Decision {
        if success {
            everHealthy = true
            consecutiveFailures = 0
            let changed = healthy != true
            healthy = true
            return Decision(report: changed ? true : nil)
        }
        if !everHealthy && now - startedAt < gracePeriod { return Decision(report: nil) }
        consecutiveFailures += 1
        let changed = healthy != false
        healthy = false
        return Decision(report: changed ? false : nil, kill: consecutiveFailures >= failuresToKill)
    }
}
