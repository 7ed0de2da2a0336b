import BerthCore
import Glibc
import Logging

/// The cgroup v1 driver: per container, one directory in each controller's hierarchy.
public struct CgroupV1Manager: CgroupManager {
    /// Controller → absolute parent directory, e.g. "memory" → "/sys/fs/cgroup/memory/process_api/abc".
    /// cpu and cpuacct may map to the same directory when they are mounted together. Only cpu,
    /// cpuacct, memory and pids are kept; a container does not join the other hierarchies.
    public let controllers: [String: String]
    /// Whether a cgroup2 mount exists beside the v1 ones; for the summary only.
    public let hybrid: Bool
    let logger: Logger?

    /// The hierarchies a container joins, in the order they are written.
    static let managed = ["cpu", "cpuacct", "memory", "pids"]

    public init(controllers: [String: String], hybrid: Bool = false, logger: Logger? = nil) {
        self.controllers = controllers.filter { Self.managed.contains($0.key) }
        self.hybrid = hybrid
        self.logger = logger
    }

    public var version: CgroupVersion { .v1 }

    public var summary: String {
        let present = Self.managed.filter { controllers[$0] != nil }
        // Controllers mounted together share a directory; name it once.
        var groups: [(names: [String], dir: String)] = []
        for controller in present {
            guard let dir = controllers[controller] else { continue }
            if let index = groups.firstIndex(where: { $0.dir == dir }) {
                groups[index].names.append(controller)
            } else {
                groups.append(([controller], dir))
            }
        }
        let missing = Self.managed.filter { controllers[$0] == nil }
        return "cgroup v1\(hybrid ? " (hybrid host)" : ""): \(present.joined(separator: ","))"
            + (groups.isEmpty ? "" : "; " + groups.map { "\($0.names.joined(separator: ",")) under \($0.dir)" }.joined(separator: ", "))
            + (missing.isEmpty ? "" : " (not mounted: \(missing.joined(separator: ",")))")
    }

    public func create(name: String, limits: CgroupLimits) throws -> any Cgroup {
        try CgroupName.validate(name)
        try limits.validate()
        for controller in limits.requiredControllers where controllers[controller] == nil {
            let option = ["cpu": "--cpus", "memory": "--memory", "pids": "--pids"][controller] ?? controller
            throw BerthError(.cgroup, "cgroup v1 controller \(controller) is not mounted (no cgroup mount with the \(controller) option in /proc/self/mountinfo), so \(option) cannot be enforced; mount it (mount -t cgroup -o \(controller) cgroup /sys/fs/cgroup/\(controller)) or run without \(option)")
        }

        let cgroup = CgroupV1(name: name, directories: controllers.mapValues { joinCgroupPath($0, name) })
        var created: [String] = []
        do {
            for path in cgroup.paths {
                if try CgroupFiles.makeDirectory(path) {
                    created.append(path)
                } else {
                    // A leftover of a crash may be reused, but never one that still runs something.
                    let pids = try CgroupTeardown.processes(in: path)
                    guard pids.isEmpty else {
                        throw BerthError(.invalidState, "cgroup \(path) already exists and runs processes \(pids.map(String.init).joined(separator: " ")); destroy it first or choose another name")
                    }
                }
            }
            if let dir = cgroup.directories["cpu"] { try CPUController.applyV1(limits.cpus, in: dir) }
            if let dir = cgroup.directories["memory"] { try MemoryController.applyV1(limits.memoryBytes, in: dir) }
            if let dir = cgroup.directories["pids"] { try PidsController.apply(limits.pids, in: dir) }
        } catch {
            for path in created.reversed() { try? CgroupFiles.removeCgroupTree(path) }
            throw cgroupError("cgroup \(name): create with limits (\(limits))", error)
        }
        logger?.debug("created cgroup", metadata: ["paths": "\(cgroup.paths.joined(separator: ","))", "limits": "\(limits)"])
        return cgroup
    }

    public func open(name: String) throws -> (any Cgroup)? {
        try CgroupName.validate(name)
        let existing = controllers.mapValues { joinCgroupPath($0, name) }.filter { CgroupFiles.exists($0.value) }
        return existing.isEmpty ? nil : CgroupV1(name: name, directories: existing)
    }
}

/// One v1 cgroup: a directory per controller hierarchy.
struct CgroupV1: Cgroup {
    let name: String
    /// Controller → directory; only controllers of `CgroupV1Manager.managed` are used.
    let directories: [String: String]

    var version: CgroupVersion { .v1 }

    /// Each directory once (cpu and cpuacct may share one), in `managed` order.
    var paths: [String] {
        var seen: [String] = []
        for controller in CgroupV1Manager.managed {
            if let dir = directories[controller], !seen.contains(dir) { seen.append(dir) }
        }
        return seen
    }

    var cloneTarget: String? { nil }
    var selfJoinFiles: [String] { paths.map { $0 + "/tasks" } }

    func addProcess(_ pid: Int32) throws {
        for path in paths {
            do {
                try CgroupFiles.write(path + "/cgroup.procs", "\(pid)")
            } catch {
                throw cgroupError("cgroup \(name): add process \(pid)", error)
            }
        }
    }

    func processes() throws -> [Int32] {
        do {
            return try allProcesses()
        } catch {
            throw cgroupError("cgroup \(name): list processes", error)
        }
    }

    /// Every hierarchy: a process may have been added to some before a failure.
    private func allProcesses() throws -> [Int32] {
        var pids = Set<Int32>()
        for path in paths { pids.formUnion(try CgroupTeardown.processes(in: path)) }
        return pids.sorted()
    }

    func stats() throws -> CgroupStats {
        guard paths.contains(where: CgroupFiles.exists) else {
            throw BerthError(.notFound, "cgroup \(name) does not exist at \(paths.joined(separator: ", ")) (destroyed?)")
        }
        var stats = CgroupStats()
        do {
            if let dir = directories["cpuacct"] { try CPUController.readV1Usage(dir, into: &stats) }
            if let dir = directories["cpu"] { try CPUController.readV1Throttling(dir, into: &stats) }
            if let dir = directories["memory"] { try MemoryController.readV1(dir, into: &stats) }
            if let dir = directories["pids"] { try PidsController.read(dir, into: &stats) }
        } catch {
            throw cgroupError("cgroup \(name): read stats", error)
        }
        return stats
    }

    func oomKillCount() throws -> UInt64 {
        guard let dir = directories["memory"] else { return 0 }
        do {
            return try MemoryController.oomKillsV1(dir)
        } catch {
            throw cgroupError("cgroup \(name): read memory.oom_control", error)
        }
    }

    func killAll() throws {
        // v1 has no cgroup.kill: signal what is listed until nothing is.
        try CgroupTeardown.killUntilEmpty(name) { try allProcesses() }
    }

    func destroy() throws {
        try CgroupTeardown.destroy(self) { try allProcesses() }
    }
}
