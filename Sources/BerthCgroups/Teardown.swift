import BerthCore
import Glibc

/// Killing and removal, shared by both drivers.
enum CgroupTeardown {
    /// How long a killed cgroup may take to empty before destroy gives up.
    static let emptyTimeout: Duration = .seconds(2)

    /// The processes of a cgroup directory and of the cgroups nested in it; none when it is gone.
    static func processes(in dir: String) throws -> [Int32] {
        var pids = CgroupFiles.pids(in: try CgroupFiles.readIfPresent(dir + "/cgroup.procs") ?? "")
        for child in CgroupFiles.subdirectories(dir) { pids += try processes(in: child) }
        return pids
    }

    /// SIGKILL to whatever `listing` returns, again and again until it returns nothing: a process
    /// may fork between listing and kill. Bounded, so a process stuck in the kernel cannot hang us.
    static func killUntilEmpty(_ name: String, listing: () throws -> [Int32]) throws {
        try waitUntilEmpty(name, listing: listing) { pids in
            // Never signal ourselves or init, whatever a misused cgroup lists.
            for pid in pids where pid > 1 && pid != getpid() { kill(pid, SIGKILL) }
        }
    }

    static func waitUntilEmpty(_ name: String, listing: () throws -> [Int32], eachRound: ([Int32]) -> Void = { _ in }) throws {
        let clock = ContinuousClock()
        let deadline = clock.now + emptyTimeout
        while true {
            let pids = try listing()
            if pids.isEmpty { return }
            guard clock.now < deadline else {
                throw BerthError(.cgroup, "cgroup \(name): processes \(pids.map(String.init).joined(separator: " ")) are still there after SIGKILL and \(emptyTimeout); they may be stuck in the kernel (state D in ps) — remove the cgroup once they exit")
            }
            eachRound(pids)
            usleep(10_000)
        }
    }

    /// killAll, wait for the cgroup to empty, remove every directory (nested cgroups first).
    static func destroy(_ cgroup: some Cgroup, listing: () throws -> [Int32]) throws {
        guard cgroup.paths.contains(where: CgroupFiles.exists) else { return }
        // Usually the container's processes are gone and it made no cgroups of its own: then a
        // plain rmdir succeeds and the kill, list and wait rounds below are not needed. EBUSY
        // (processes left, or nested cgroups) or anything else falls through to them.
        if cgroup.paths.allSatisfy(CgroupFiles.removeIfEmpty) { return }
        try cgroup.killAll()
        try waitUntilEmpty(cgroup.name, listing: listing)
        for path in cgroup.paths {
            do {
                try CgroupFiles.removeCgroupTree(path)
            } catch {
                throw cgroupError("cgroup \(cgroup.name): remove", error)
            }
        }
    }
}
