import BerthCore
import Glibc
import Logging

/// The cgroup v2 driver: one directory per container under the caller's own cgroup.
public struct CgroupV2Manager: CgroupManager {
    public let mountPoint: String
    /// The parent cgroup, relative to the mount: "/" or "/user.slice/x.scope".
    public let parent: String
    /// This process, which may have to leave the parent for a leaf (the "no internal processes" rule).
    public let selfPID: Int32
    let logger: Logger?

    /// The controllers Berth enables for its children when the parent has them.
    static let controllers = ["cpu", "memory", "pids"]

    public init(mountPoint: String = "/sys/fs/cgroup", parent: String, selfPID: Int32 = getpid(), logger: Logger? = nil) {
        self.mountPoint = mountPoint
        self.parent = parent
        self.selfPID = selfPID
        self.logger = logger
    }

    public var version: CgroupVersion { .v2 }

    /// The absolute directory children are created in.
    public var parentDirectory: String { joinCgroupPath(mountPoint, parent) }

    public var summary: String {
        let available = (try? CgroupFiles.read(parentDirectory + "/cgroup.controllers")).map(CgroupValues.names) ?? []
        let usable = Self.controllers.filter(available.contains)
        let missing = Self.controllers.filter { !available.contains($0) }
        return "cgroup v2: \(usable.isEmpty ? "no controllers" : usable.joined(separator: ",")) under \(parentDirectory)"
            + (missing.isEmpty ? "" : " (not delegated: \(missing.joined(separator: ",")))")
    }

    public func create(name: String, limits: CgroupLimits) throws -> any Cgroup {
        try CgroupName.validate(name)
        try limits.validate()
        try enableControllers(needed: limits.requiredControllers)

        let cgroup = CgroupV2(name: name, path: joinCgroupPath(parentDirectory, name))
        let created: Bool
        do {
            created = try CgroupFiles.makeDirectory(cgroup.path)
        } catch {
            throw cgroupError("create cgroup \(name)", error)
        }
        if !created {
            // A leftover of a crash may be reused, but never one that still runs something.
            let pids = try CgroupTeardown.processes(in: cgroup.path)
            guard pids.isEmpty else {
                throw BerthError(.invalidState, "cgroup \(cgroup.path) already exists and runs processes \(pids.map(String.init).joined(separator: " ")); destroy it first or choose another name")
            }
        }
        do {
            try CPUController.applyV2(limits.cpus, in: cgroup.path)
            try MemoryController.applyV2(limits.memoryBytes, in: cgroup.path)
            try PidsController.apply(limits.pids, in: cgroup.path)
        } catch {
            if created { try? CgroupFiles.removeCgroupTree(cgroup.path) }
            throw cgroupError("cgroup \(name): set limits (\(limits))", error)
        }
        logger?.debug("created cgroup", metadata: ["path": "\(cgroup.path)", "limits": "\(limits)"])
        return cgroup
    }

    public func open(name: String) throws -> (any Cgroup)? {
        try CgroupName.validate(name)
        let cgroup = CgroupV2(name: name, path: joinCgroupPath(parentDirectory, name))
        return CgroupFiles.exists(cgroup.path) ? cgroup : nil
    }

    /// Makes cpu, memory and pids available to children: each must be in the parent's
    /// cgroup.controllers (delegated to it) and is then switched on in its cgroup.subtree_control.
    func enableControllers(needed: [String]) throws {
        let directory = parentDirectory
        let available: Set<String>
        let enabled: Set<String>
        do {
            available = CgroupValues.names(try CgroupFiles.read(directory + "/cgroup.controllers"))
            enabled = CgroupValues.names(try CgroupFiles.read(directory + "/cgroup.subtree_control"))
        } catch {
            throw cgroupError("cgroup v2 parent \(directory)", error)
        }
        for controller in needed where !available.contains(controller) {
            throw BerthError(.cgroup, "cgroup v2 controller \(controller) is not available in \(directory) (not delegated by the parent); enable it in the parent's cgroup.subtree_control, or run berth where it is delegated (systemd: Delegate=yes, or `systemd-run --scope -p Delegate=yes berth ...`)")
        }
        // The rest only improves stats, so take what the parent offers.
        let missing = Self.controllers.filter { available.contains($0) && !enabled.contains($0) }
        guard !missing.isEmpty else { return }
        let value = missing.map { "+" + $0 }.joined(separator: " ")
        do {
            try CgroupFiles.write(directory + "/cgroup.subtree_control", value)
        } catch let error as SystemError where error.errno == EBUSY {
            // "No internal processes": a non-root cgroup with processes cannot enable controllers
            // for children. When the only process is this one, step aside into a leaf.
            try moveSelfToLeaf(directory: directory, missing: missing, cause: error)
            do {
                try CgroupFiles.write(directory + "/cgroup.subtree_control", value)
            } catch {
                throw cgroupError("enable \(missing.joined(separator: ", ")) for child cgroups of \(directory)", error)
            }
        } catch {
            throw cgroupError("enable \(missing.joined(separator: ", ")) for child cgroups of \(directory)", error)
        }
    }

    private func moveSelfToLeaf(directory: String, missing: [String], cause: SystemError) throws {
        let own: [Int32]
        do {
            own = CgroupFiles.pids(in: try CgroupFiles.read(directory + "/cgroup.procs"))
        } catch {
            throw cgroupError("enable \(missing.joined(separator: ", ")) for child cgroups of \(directory): \(cause); then list its processes", error)
        }
        guard own == [selfPID] else {
            let others = own.filter { $0 != selfPID }.map(String.init).joined(separator: " ")
            let why = own.isEmpty
                ? "the kernel says it is busy (\(cause)) although it lists no processes"
                : "it holds processes other than berth (\(others)), and cgroup v2 enables controllers only for cgroups without processes of their own"
            throw BerthError(.cgroup, "cannot enable \(missing.joined(separator: ", ")) for child cgroups of \(directory): \(why); run berth in a cgroup of its own, e.g. `systemd-run --scope berth ...`", underlying: cause)
        }
        let leaf = directory + "/" + CgroupName.selfLeaf
        do {
            _ = try CgroupFiles.makeDirectory(leaf)
            try CgroupFiles.write(leaf + "/cgroup.procs", "\(selfPID)")
        } catch {
            throw cgroupError("move berth (pid \(selfPID)) out of \(directory) into \(leaf) so controllers can be enabled for children", error)
        }
        logger?.notice("moved berth into a leaf cgroup so its parent can delegate controllers", metadata: ["leaf": "\(leaf)"])
    }
}

/// One v2 cgroup: a single directory.
struct CgroupV2: Cgroup {
    let name: String
    let path: String

    var version: CgroupVersion { .v2 }
    var paths: [String] { [path] }
    var cloneTarget: String? { path }
    var selfJoinFiles: [String] { [path + "/cgroup.procs"] }

    func addProcess(_ pid: Int32) throws {
        do {
            try CgroupFiles.write(path + "/cgroup.procs", "\(pid)")
        } catch {
            throw cgroupError("cgroup \(name): add process \(pid)", error)
        }
    }

    func processes() throws -> [Int32] {
        do {
            return try CgroupTeardown.processes(in: path).sorted()
        } catch {
            throw cgroupError("cgroup \(name): list processes", error)
        }
    }

    func stats() throws -> CgroupStats {
        guard CgroupFiles.exists(path) else {
            throw BerthError(.notFound, "cgroup \(name) does not exist at \(path) (destroyed?)")
        }
        var stats = CgroupStats()
        do {
            try CPUController.readV2(path, into: &stats)
            try MemoryController.readV2(path, into: &stats)
            try PidsController.read(path, into: &stats)
        } catch {
            throw cgroupError("cgroup \(name): read stats", error)
        }
        return stats
    }

    func oomKillCount() throws -> UInt64 {
        do {
            return try MemoryController.oomKillsV2(path)
        } catch {
            throw cgroupError("cgroup \(name): read memory.events", error)
        }
    }

    func killAll() throws {
        do {
            // cgroup.kill (Linux 5.14) kills the whole subtree at once, forks included.
            if try CgroupFiles.writeIfPresent(path + "/cgroup.kill", "1") { return }
            try CgroupTeardown.killUntilEmpty(name) { try CgroupTeardown.processes(in: path) }
        } catch {
            throw cgroupError("cgroup \(name): kill processes", error)
        }
    }

    func destroy() throws {
        try CgroupTeardown.destroy(self) { try CgroupTeardown.processes(in: path) }
    }
}
