import BerthCgroups
import BerthCore
import Glibc
import Testing

/// The v1 driver against a temporary tree laid out like this host: cpu and cpuacct mounted apart,
/// memory under a deeper parent.
@Suite("cgroup v1 driver (fake tree)")
struct CgroupV1DriverTests {
    let tree: FakeCgroupTree
    let parents: [String: String]

    init() throws {
        tree = try FakeCgroupTree()
        parents = [
            "cpu": tree.path("cpu"), "cpuacct": tree.path("cpuacct"),
            "memory": tree.path("memory/process_api/abc"), "pids": tree.path("pids"),
        ]
        for dir in parents.values { try tree.files(String(dir.dropFirst(tree.root.count + 1)), ["cgroup.procs": ""]) }
    }

    func makeChild(_ name: String, memory: [String: String] = v1MemoryFiles) throws {
        try tree.files("cpu/" + name, v1CPUFiles)
        try tree.files("cpuacct/" + name, v1CPUAcctFiles)
        try tree.files("memory/process_api/abc/" + name, memory)
        try tree.files("pids/" + name, v1PidsFiles)
    }

    @Test("limits land in each controller's files", arguments: [
        (CgroupLimits(cpus: 0.5, memoryBytes: 32 << 20, pids: 20), [
            "cpu/c1/cpu.cfs_period_us": "100000", "cpu/c1/cpu.cfs_quota_us": "50000", "cpu/c1/cpu.shares": "512",
            "memory/process_api/abc/c1/memory.limit_in_bytes": "33554432",
            "memory/process_api/abc/c1/memory.memsw.limit_in_bytes": "33554432", "pids/c1/pids.max": "20",
        ]),
        (CgroupLimits(), [
            "cpu/c1/cpu.cfs_quota_us": "-1", "cpu/c1/cpu.shares": "1024",
            "memory/process_api/abc/c1/memory.limit_in_bytes": "-1",
            "memory/process_api/abc/c1/memory.memsw.limit_in_bytes": "-1", "pids/c1/pids.max": "max",
        ]),
        (CgroupLimits(cpus: 3), ["cpu/c1/cpu.cfs_quota_us": "300000", "cpu/c1/cpu.shares": "3072"]),
    ])
    func cgroupV1CreateWritesLimits(limits: CgroupLimits, expected: [String: String]) throws {
        try makeChild("c1")
        let manager = CgroupV1Manager(controllers: parents)
        let cgroup = try manager.create(name: "c1", limits: limits)
        #expect(cgroup.version == .v1)
        #expect(cgroup.paths == [tree.path("cpu/c1"), tree.path("cpuacct/c1"), tree.path("memory/process_api/abc/c1"), tree.path("pids/c1")])
        for (file, value) in expected {
            #expect(try tree.read(file).trimmed == value, "\(file)")
        }
    }

    /// Each write of the CFS period or quota makes the kernel check every cgroup of the hierarchy:
    /// a period that is already right (a new cgroup's default) is left alone.
    @Test("the CFS period is written only when it differs")
    func cgroupV1PeriodWrittenOnlyWhenItDiffers() throws {
        try makeChild("c1")
        try makeChild("c2")
        try tree.files("cpu/c2", ["cpu.cfs_period_us": "250000\n"])
        let period = tree.path("cpu/c1/cpu.cfs_period_us")
        let past = timespec(tv_sec: 1_000_000, tv_nsec: 0)
        var times = [past, past]
        #expect(utimensat(AT_FDCWD, period, &times, 0) == 0)
        let manager = CgroupV1Manager(controllers: parents)
        _ = try manager.create(name: "c1", limits: CgroupLimits(cpus: 0.5))
        var status = stat()
        #expect(stat(period, &status) == 0)
        #expect(status.st_mtim.tv_sec == past.tv_sec, "the default period was written again")
        #expect(try tree.read("cpu/c1/cpu.cfs_quota_us").trimmed == "50000")
        _ = try manager.create(name: "c2", limits: CgroupLimits(cpus: 0.5))
        #expect(try tree.read("cpu/c2/cpu.cfs_period_us").trimmed == "100000")
    }

    @Test("without swap accounting there is no memsw file: skipped")
    func cgroupV1WithoutMemsw() throws {
        var memory = v1MemoryFiles
        memory["memory.memsw.limit_in_bytes"] = nil
        try makeChild("c1", memory: memory)
        _ = try CgroupV1Manager(controllers: parents).create(name: "c1", limits: CgroupLimits(memoryBytes: 8 << 20))
        #expect(try tree.read("memory/process_api/abc/c1/memory.limit_in_bytes") == "8388608")
        #expect(!tree.exists("memory/process_api/abc/c1/memory.memsw.limit_in_bytes"))
    }

    @Test("cpu and cpuacct mounted together share one directory, written and joined once")
    func cgroupV1Comounted() throws {
        let shared = tree.path("cpu,cpuacct")
        try tree.files("cpu,cpuacct/c1", v1CPUFiles.merging(v1CPUAcctFiles) { a, _ in a })
        try tree.files("memory/process_api/abc/c1", v1MemoryFiles)
        let manager = CgroupV1Manager(controllers: ["cpu": shared, "cpuacct": shared, "memory": parents["memory"] ?? ""])
        let cgroup = try manager.create(name: "c1", limits: CgroupLimits(cpus: 1))
        #expect(cgroup.paths == [shared + "/c1", tree.path("memory/process_api/abc/c1")])
        #expect(try tree.read("cpu,cpuacct/c1/cpu.cfs_quota_us") == "100000")
        try cgroup.addProcess(99)
        #expect(try tree.read("cpu,cpuacct/c1/cgroup.procs") == "99")
        #expect(try tree.read("memory/process_api/abc/c1/cgroup.procs") == "99")
        #expect(manager.summary == "cgroup v1: cpu,cpuacct,memory; cpu,cpuacct under \(shared), memory under \(tree.path("memory/process_api/abc")) (not mounted: pids)")
    }

    @Test("a limit without its controller mount is a clear error", arguments: [
        ("memory", CgroupLimits(memoryBytes: 8 << 20), "--memory"),
        ("cpu", CgroupLimits(cpus: 1), "--cpus"),
        ("pids", CgroupLimits(pids: 10), "--pids"),
    ])
    func cgroupV1MissingController(controller: String, limits: CgroupLimits, option: String) throws {
        var controllers = parents
        controllers[controller] = nil
        let error = #expect(throws: BerthError.self) { try CgroupV1Manager(controllers: controllers).create(name: "c1", limits: limits) }
        #expect(error?.code == .cgroup)
        #expect(error?.message.contains("cgroup v1 controller \(controller) is not mounted") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains(option) == true)
        #expect(!tree.exists("cpuacct/c1"))
    }

    @Test("no pids mount is fine when no pids limit is asked for")
    func cgroupV1WithoutPidsMount() throws {
        try makeChild("c1")
        var controllers = parents
        controllers["pids"] = nil
        let cgroup = try CgroupV1Manager(controllers: controllers).create(name: "c1", limits: CgroupLimits(cpus: 1, memoryBytes: 8 << 20))
        #expect(cgroup.paths.count == 3)
        #expect(try cgroup.stats().pidsCurrent == nil)
    }

    @Test("a failed limit write removes the directories it made")
    func cgroupV1CreateFailureCleansUp() throws {
        let error = #expect(throws: BerthError.self) {
            try CgroupV1Manager(controllers: parents).create(name: "fresh", limits: CgroupLimits(cpus: 1))
        }
        #expect(error?.message.contains("cpu.cfs_period_us") == true, "\(error?.message ?? "")")
        for dir in ["cpu", "cpuacct", "memory/process_api/abc", "pids"] { #expect(!tree.exists(dir + "/fresh")) }
    }

    @Test("stats parse from the v1 files of each hierarchy")
    func cgroupV1Stats() throws {
        try makeChild("c1")
        let cgroup = try CgroupV1Manager(controllers: parents).create(name: "c1", limits: CgroupLimits(memoryBytes: 32 << 20, pids: 20))
        try tree.files("cpuacct/c1", ["cpuacct.usage": "2500000000\n", "cpuacct.stat": "user 150\nsystem 50\n"])
        try tree.files("cpu/c1", ["cpu.stat": "nr_periods 30\nnr_throttled 7\nthrottled_time 350000000\nnr_bursts 0\nburst_time 0\n"])
        try tree.files("memory/process_api/abc/c1", [
            "memory.usage_in_bytes": "4194304\n", "memory.max_usage_in_bytes": "33554432\n",
            "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n",
        ])
        try tree.files("pids/c1", ["pids.current": "2\n"])
        let tick = UInt64(1_000_000_000 / sysconf(Int32(_SC_CLK_TCK)))
        #expect(try cgroup.stats() == CgroupStats(
            cpuUsageNanos: 2_500_000_000, cpuUserNanos: 150 * tick, cpuSystemNanos: 50 * tick,
            throttledPeriods: 7, throttledNanos: 350_000_000, memoryCurrentBytes: 4_194_304,
            memoryPeakBytes: 33_554_432, memoryLimitBytes: 33_554_432, oomKills: 1, pidsCurrent: 2))
        #expect(try cgroup.oomKillCount() == 1)
    }

    @Test("the unlimited v1 memory limit reads as nil; no oom_kill line (before 4.13) as 0")
    func cgroupV1StatsUnlimited() throws {
        var memory = v1MemoryFiles
        memory["memory.oom_control"] = "oom_kill_disable 0\nunder_oom 0\n"
        try makeChild("c1", memory: memory)
        let cgroup = try #require(try CgroupV1Manager(controllers: parents).open(name: "c1"))
        let stats = try cgroup.stats()
        #expect(stats.memoryLimitBytes == nil)
        #expect(stats.oomKills == 0)
    }

    @Test("processes are the union over the hierarchies")
    func cgroupV1Processes() throws {
        try makeChild("c1")
        let cgroup = try CgroupV1Manager(controllers: parents).create(name: "c1", limits: CgroupLimits())
        try tree.files("cpu/c1", ["cgroup.procs": "10\n11\n"])
        try tree.files("memory/process_api/abc/c1", ["cgroup.procs": "11\n12\n"])
        #expect(try cgroup.processes() == [10, 11, 12])
    }

    @Test("open, destroy and destroy again")
    func cgroupV1OpenDestroy() throws {
        let manager = CgroupV1Manager(controllers: parents)
        #expect(try manager.open(name: "c1") == nil)
        try makeChild("c1")
        let cgroup = try #require(try manager.open(name: "c1"))
        #expect(cgroup.paths.count == 4)
        for dir in ["cpu", "cpuacct", "memory/process_api/abc", "pids"] { try tree.removeFiles(under: dir + "/c1") }
        try cgroup.destroy()
        for dir in ["cpu", "cpuacct", "memory/process_api/abc", "pids"] { #expect(!tree.exists(dir + "/c1")) }
        try cgroup.destroy()
        #expect(try manager.open(name: "c1") == nil)
    }

    @Test("summary of a hybrid host")
    func cgroupV1Summary() {
        let manager = CgroupV1Manager(controllers: [
            "cpu": "/sys/fs/cgroup/cpu", "cpuacct": "/sys/fs/cgroup/cpuacct",
            "memory": "/sys/fs/cgroup/memory/process_api/abc", "pids": "/sys/fs/cgroup/pids",
        ], hybrid: true)
        #expect(manager.summary == "cgroup v1 (hybrid host): cpu,cpuacct,memory,pids; cpu under /sys/fs/cgroup/cpu, cpuacct under /sys/fs/cgroup/cpuacct, memory under /sys/fs/cgroup/memory/process_api/abc, pids under /sys/fs/cgroup/pids")
    }
}
