import Foundation

/// A temporary directory laid out like cgroupfs. The kernel creates the control files of a new
/// cgroup itself; here the test creates them up front, and the drivers find the directory already
/// there (which they accept when it runs no processes) with the files to write into.
final class FakeCgroupTree {
    let root: String

    init() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("berth-cgroup-fake-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        root = url.path
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func path(_ relative: String) -> String { root + "/" + relative }

    /// Creates the files (and their directories) under `directory`.
    func files(_ directory: String, _ contents: [String: String]) throws {
        try FileManager.default.createDirectory(atPath: path(directory), withIntermediateDirectories: true)
        for (name, content) in contents {
            try content.write(toFile: path(directory + "/" + name), atomically: false, encoding: .utf8)
        }
    }

    func read(_ relative: String) throws -> String {
        try String(contentsOfFile: path(relative), encoding: .utf8)
    }

    func exists(_ relative: String) -> Bool {
        FileManager.default.fileExists(atPath: path(relative))
    }

    func remove(_ relative: String) throws {
        try FileManager.default.removeItem(atPath: path(relative))
    }

    /// Imitates cgroupfs, where rmdir ignores the control files: leaves only the directories.
    func removeFiles(under relative: String) throws {
        let fm = FileManager.default
        for name in try fm.contentsOfDirectory(atPath: path(relative)) {
            var isDirectory: ObjCBool = false
            let full = path(relative + "/" + name)
            if fm.fileExists(atPath: full, isDirectory: &isDirectory), isDirectory.boolValue {
                try removeFiles(under: relative + "/" + name)
            } else {
                try fm.removeItem(atPath: full)
            }
        }
    }
}

/// What a v2 kernel shows in a fresh child cgroup with cpu, memory and pids enabled.
let v2ChildFiles: [String: String] = [
    "cgroup.procs": "", "cgroup.kill": "", "cgroup.events": "populated 0\nfrozen 0\n",
    "cpu.max": "max 100000\n", "cpu.weight": "100\n", "cpu.stat": "usage_usec 0\nuser_usec 0\nsystem_usec 0\n",
    "memory.max": "max\n", "memory.swap.max": "max\n", "memory.current": "0\n", "memory.peak": "0\n",
    "memory.events": "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n",
    "pids.max": "max\n", "pids.current": "0\n",
]

/// What a v2 kernel shows in the parent: the controllers delegated to it, none enabled yet.
let v2ParentFiles: [String: String] = [
    "cgroup.controllers": "cpuset cpu io memory hugetlb pids rdma misc\n", "cgroup.subtree_control": "\n", "cgroup.procs": "",
]

/// v1, per hierarchy: the files of a fresh cgroup.
let v1CPUFiles: [String: String] = [
    "cgroup.procs": "", "cpu.cfs_period_us": "100000\n", "cpu.cfs_quota_us": "-1\n", "cpu.shares": "1024\n",
    "cpu.stat": "nr_periods 0\nnr_throttled 0\nthrottled_time 0\nnr_bursts 0\nburst_time 0\n",
]
let v1CPUAcctFiles: [String: String] = [
    "cgroup.procs": "", "cpuacct.usage": "0\n", "cpuacct.stat": "user 0\nsystem 0\n",
]
let v1MemoryFiles: [String: String] = [
    "cgroup.procs": "", "memory.limit_in_bytes": "9223372036854771712\n", "memory.memsw.limit_in_bytes": "9223372036854771712\n",
    "memory.usage_in_bytes": "0\n", "memory.max_usage_in_bytes": "0\n",
    "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
]
let v1PidsFiles: [String: String] = ["cgroup.procs": "", "pids.max": "max\n", "pids.current": "0\n"]

extension String {
    var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
