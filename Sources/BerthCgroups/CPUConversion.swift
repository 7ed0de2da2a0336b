/// From `--cpus` to the numbers the kernel takes. Pure, so the tables are tested directly.
public enum CPUConversion {
    /// CFS period in microseconds, as Docker and Mesos use.
    public static let defaultPeriod = 100_000
    /// cpu.shares range of the kernel (MIN_SHARES, MAX_SHARES).
    public static let sharesRange = 2...262_144
    /// cpu.weight range of cgroup v2.
    public static let weightRange = 1...10_000
    /// cpu.shares of a cgroup without a CPU limit.
    public static let defaultShares = 1024
    /// cpu.weight of a cgroup without a CPU limit.
    public static let defaultWeight = 100

    /// Microseconds of CPU per period: 0.5 CPUs → 50 000 of 100 000.
    public static func quota(cpus: Double, period: Int = defaultPeriod) -> Int {
        clamped((cpus * Double(period)).rounded(), to: 1...Int(Int32.max) * 1000)
    }

    /// Mesos and Docker: 1024 shares per CPU, at least the kernel's minimum of 2.
    public static func shares(cpus: Double) -> Int {
        clamped((cpus * 1024).rounded(), to: sharesRange)
    }

    /// runc's v1 → v2 mapping, so a task gets the same relative weight on either hierarchy.
    public static func weight(shares: Int) -> Int {
        let shares = min(max(shares, sharesRange.lowerBound), sharesRange.upperBound)
        let weight = 1 + ((shares - 2) * 9999) / 262_142
        return min(max(weight, weightRange.lowerBound), weightRange.upperBound)
    }

    /// Int(Double) traps on NaN, infinity and overflow; clamp first.
    private static func clamped(_ value: Double, to range: ClosedRange<Int>) -> Int {
        guard value.isFinite else { return value > 0 ? range.upperBound : range.lowerBound }
        if value <= Double(range.lowerBound) { return range.lowerBound }
        if value >= Double(range.upperBound) { return range.upperBound }
        return Int(value)
    }
}
