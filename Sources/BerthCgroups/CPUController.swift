import Glibc

/// cpu (quota and weight) and cpuacct (usage) on both hierarchies.
enum CPUController {
    // v2: cpu.max "QUOTA PERIOD", cpu.weight; usage from cpu.stat in microseconds.
    static func applyV2(_ cpus: Double?, in dir: String) throws {
        let period = CPUConversion.defaultPeriod
        if let cpus {
            try CgroupFiles.write(dir + "/cpu.max", "\(CPUConversion.quota(cpus: cpus, period: period)) \(period)")
            try CgroupFiles.write(dir + "/cpu.weight", "\(CPUConversion.weight(shares: CPUConversion.shares(cpus: cpus)))")
        } else {
            // Reset, in case the directory was reused; absent when the cpu controller is not enabled.
            try CgroupFiles.writeIfPresent(dir + "/cpu.max", "max \(period)")
            try CgroupFiles.writeIfPresent(dir + "/cpu.weight", "\(CPUConversion.defaultWeight)")
        }
    }

    static func readV2(_ dir: String, into stats: inout CgroupStats) throws {
        let values = CgroupValues.keyed(try CgroupFiles.readIfPresent(dir + "/cpu.stat"))
        stats.cpuUsageNanos = (values["usage_usec"] ?? 0) &* 1000
        stats.cpuUserNanos = (values["user_usec"] ?? 0) &* 1000
        stats.cpuSystemNanos = (values["system_usec"] ?? 0) &* 1000
        stats.throttledPeriods = values["nr_throttled"] ?? 0
        stats.throttledNanos = (values["throttled_usec"] ?? 0) &* 1000
    }

    // v1: cpu.cfs_period_us, cpu.cfs_quota_us (-1 = none), cpu.shares.
    static func applyV1(_ cpus: Double?, in dir: String) throws {
        let period = CPUConversion.defaultPeriod
        if let cpus {
            // Period first: the kernel checks quota against the period in place. Each write of
            // either walks every cgroup of the hierarchy (tg_set_bandwidth checks the whole tree,
            // so a burst of launches is quadratic in it): a new cgroup already has the kernel's
            // default period, so the period is written only when it differs.
            if CgroupValues.number(try CgroupFiles.readIfPresent(dir + "/cpu.cfs_period_us")) != UInt64(period) {
                try CgroupFiles.write(dir + "/cpu.cfs_period_us", "\(period)")
            }
            try CgroupFiles.write(dir + "/cpu.cfs_quota_us", "\(CPUConversion.quota(cpus: cpus, period: period))")
            try CgroupFiles.write(dir + "/cpu.shares", "\(CPUConversion.shares(cpus: cpus))")
        } else {
            try CgroupFiles.writeIfPresent(dir + "/cpu.cfs_quota_us", "-1")
            try CgroupFiles.writeIfPresent(dir + "/cpu.shares", "\(CPUConversion.defaultShares)")
        }
    }

    /// Throttling lives in the cpu hierarchy.
    static func readV1Throttling(_ dir: String, into stats: inout CgroupStats) throws {
        let values = CgroupValues.keyed(try CgroupFiles.readIfPresent(dir + "/cpu.stat"))
        stats.throttledPeriods = values["nr_throttled"] ?? 0
        stats.throttledNanos = values["throttled_time"] ?? 0
    }

    /// Usage lives in the cpuacct hierarchy: cpuacct.usage in ns, cpuacct.stat in USER_HZ ticks.
    static func readV1Usage(_ dir: String, into stats: inout CgroupStats) throws {
        stats.cpuUsageNanos = CgroupValues.number(try CgroupFiles.readIfPresent(dir + "/cpuacct.usage")) ?? 0
        let ticks = CgroupValues.keyed(try CgroupFiles.readIfPresent(dir + "/cpuacct.stat"))
        stats.cpuUserNanos = nanos(ticks: ticks["user"] ?? 0)
        stats.cpuSystemNanos = nanos(ticks: ticks["system"] ?? 0)
    }

    /// USER_HZ, 100 on every Linux this runs on; sysconf in case it is not.
    static let ticksPerSecond: UInt64 = {
        let value = sysconf(Int32(_SC_CLK_TCK))
        return value > 0 ? UInt64(value) : 100
    }()

    static func nanos(ticks: UInt64) -> UInt64 {
        ticks &* (1_000_000_000 / ticksPerSecond)
    }
}
