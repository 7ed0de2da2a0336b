import BerthCore

/// Which cgroup hierarchy the host gives us: v2 (one unified tree) or v1 (a tree per controller).
public enum CgroupVersion: String, Sendable {
    case v1, v2
}

/// The resource limits of one container. nil means unlimited.
public struct CgroupLimits: Sendable, Equatable, CustomStringConvertible {
    /// CPUs worth of time per period, as `--cpus 0.5`.
    public var cpus: Double?
    public var memoryBytes: Int64?
    public var pids: Int?

    public init(cpus: Double? = nil, memoryBytes: Int64? = nil, pids: Int? = nil) {
        self.cpus = cpus
        self.memoryBytes = memoryBytes
        self.pids = pids
    }

    /// Docker's floor: below this a container's runtime and shell are OOM-killed before they do anything.
    public static let minimumMemoryBytes: Int64 = 6 << 20
    /// One millisecond of CPU per 100 ms period: the smallest quota the kernel accepts.
    public static let minimumCPUs = 0.01
    /// Far above any machine, low enough that the quota stays well inside the kernel's range.
    public static let maximumCPUs = 100_000.0
    /// PID_MAX_LIMIT: pids.max rejects anything larger.
    public static let maximumPids = 4_194_304

    /// Throws `.invalidArgument` with what was wrong and what to give instead.
    public func validate() throws {
        if let cpus {
            guard cpus.isFinite, cpus > 0 else {
                throw BerthError(.invalidArgument, "cpus \(cpus) is not a positive number; give a CPU count such as --cpus 0.5 or --cpus 2")
            }
            guard cpus >= Self.minimumCPUs else {
                throw BerthError(.invalidArgument, "cpus \(cpus) is below the smallest share the kernel enforces (\(Self.minimumCPUs): 1 ms per 100 ms); give --cpus \(Self.minimumCPUs) or more")
            }
            guard cpus <= Self.maximumCPUs else {
                throw BerthError(.invalidArgument, "cpus \(cpus) is more than \(Int(Self.maximumCPUs)); give the number of CPUs the task may use, or no limit")
            }
        }
        if let memoryBytes, memoryBytes < Self.minimumMemoryBytes {
            let shown = memoryBytes < 0 ? "\(memoryBytes) bytes" : ByteSize.format(memoryBytes)
            throw BerthError(.invalidArgument, "memory limit \(shown) is too small: a container needs at least \(ByteSize.format(Self.minimumMemoryBytes)); give --memory 6m or more")
        }
        if let pids {
            guard pids >= 1 else {
                throw BerthError(.invalidArgument, "pids limit \(pids) would not even let the first process start; give --pids 1 or more")
            }
            guard pids <= Self.maximumPids else {
                throw BerthError(.invalidArgument, "pids limit \(pids) is above the kernel's maximum \(Self.maximumPids); give a smaller number or no limit")
            }
        }
    }

    /// The controllers these limits cannot do without.
    public var requiredControllers: [String] {
        var names: [String] = []
        if cpus != nil { names.append("cpu") }
        if memoryBytes != nil { names.append("memory") }
        if pids != nil { names.append("pids") }
        return names
    }

    public var description: String {
        let parts = [
            cpus.map { "cpus \($0)" },
            memoryBytes.map { "memory \(ByteSize.format($0))" },
            pids.map { "pids \($0)" },
        ].compactMap { $0 }
        return parts.isEmpty ? "unlimited" : parts.joined(separator: ", ")
    }
}

/// What a running cgroup has used, in the units of `cpuacct`/`cpu.stat` converted to nanoseconds and bytes.
public struct CgroupStats: Sendable, Equatable {
    public var cpuUsageNanos: UInt64
    public var cpuUserNanos: UInt64
    public var cpuSystemNanos: UInt64
    public var throttledPeriods: UInt64
    public var throttledNanos: UInt64
    public var memoryCurrentBytes: UInt64
    /// nil when the kernel does not track it (v2 before Linux 5.19).
    public var memoryPeakBytes: UInt64?
    /// nil when unlimited.
    public var memoryLimitBytes: UInt64?
    public var oomKills: UInt64
    /// nil without a pids controller.
    public var pidsCurrent: UInt64?

    public init(cpuUsageNanos: UInt64 = 0, cpuUserNanos: UInt64 = 0, cpuSystemNanos: UInt64 = 0,
                throttledPeriods: UInt64 = 0, throttledNanos: UInt64 = 0, memoryCurrentBytes: UInt64 = 0,
                memoryPeakBytes: UInt64? = nil, memoryLimitBytes: UInt64? = nil, oomKills: UInt64 = 0,
                pidsCurrent: UInt64? = nil) {
        self.cpuUsageNanos = cpuUsageNanos
        self.cpuUserNanos = cpuUserNanos
        self.cpuSystemNanos = cpuSystemNanos
        self.throttledPeriods = throttledPeriods
        self.throttledNanos = throttledNanos
        self.memoryCurrentBytes = memoryCurrentBytes
        self.memoryPeakBytes = memoryPeakBytes
        self.memoryLimitBytes = memoryLimitBytes
        self.oomKills = oomKills
        self.pidsCurrent = pidsCurrent
    }
}

/// One container's cgroup. On v1 that is one directory per controller hierarchy.
public protocol Cgroup: Sendable {
    var name: String { get }
    var version: CgroupVersion { get }
    /// Absolute directories, for logs and tests.
    var paths: [String] { get }
    /// The directory a process can be cloned straight into (clone3 with CLONE_INTO_CGROUP):
    /// the cgroup on v2, nil on v1, where a clone can only land in one hierarchy.
    var cloneTarget: String? { get }
    /// Files a single-threaded process writes "0" into to move itself into the cgroup: v1's
    /// `tasks` in each hierarchy (moving only the writing thread skips the kernel's threadgroup
    /// lock, whose RCU grace period makes a move by PID wait ~10 ms), v2's `cgroup.procs`.
    var selfJoinFiles: [String] { get }
    /// Moves the process (all its threads) into the cgroup, in every hierarchy on v1.
    func addProcess(_ pid: Int32) throws
    func processes() throws -> [Int32]
    func stats() throws -> CgroupStats
    func oomKillCount() throws -> UInt64
    /// SIGKILL to every process in the cgroup.
    func killAll() throws
    /// Kills what is left, waits for it to go, removes the directories. Safe to call twice.
    func destroy() throws
}

public protocol CgroupManager: Sendable {
    var version: CgroupVersion { get }
    /// One line for logs and status output: version, host kind, controllers, where.
    var summary: String { get }
    /// Creates the cgroup with every limit already written, so nothing ever runs in it unlimited.
    func create(name: String, limits: CgroupLimits) throws -> any Cgroup
    /// An existing cgroup of that name (agent recovery), nil when there is none.
    func open(name: String) throws -> (any Cgroup)?
}

/// Names become directory names next to the caller's own cgroup, so they must be one plain path component.
enum CgroupName {
    /// Where the v2 driver moves this process when its cgroup must be free of processes.
    static let selfLeaf = "berth-self"

    static func validate(_ name: String) throws {
        let problem: String? =
            if name.isEmpty { "is empty" }
            else if name == "." || name == ".." { "is a relative path" }
            else if name.contains("/") { "contains \"/\"" }
            else if name.contains(where: { $0.isNewline || $0 == "\0" }) { "contains a newline or NUL" }
            else if name.utf8.count > 255 { "is longer than 255 bytes" }
            else if name == selfLeaf { "is reserved for berth's own process" }
            else if name.hasPrefix("cgroup.") { "starts with \"cgroup.\", which the kernel uses for its own files" }
            else { nil }
        if let problem {
            throw BerthError(.invalidArgument, "cgroup name \"\(name)\" \(problem); use one plain path component such as berth-<container id>")
        }
    }
}
