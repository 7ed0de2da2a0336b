import BerthCgroups
import BerthCore
import Testing

/// The v2 driver against a temporary tree that imitates cgroupfs: values land in the right files, stats parse.
@Suite("cgroup v2 driver (fake tree)")
struct CgroupV2DriverTests {
    let tree: FakeCgroupTree
    let manager: CgroupV2Manager

    init() throws {
        tree = try FakeCgroupTree()
        try tree.files("parent", v2ParentFiles)
        manager = CgroupV2Manager(mountPoint: tree.root, parent: "/parent", selfPID: 4242)
    }

    @Test("limits land in their files", arguments: [
        (CgroupLimits(cpus: 0.5, memoryBytes: 32 << 20, pids: 20),
         ["cpu.max": "50000 100000", "cpu.weight": "20", "memory.max": "33554432", "memory.swap.max": "0", "pids.max": "20"]),
        (CgroupLimits(cpus: 2),
         ["cpu.max": "200000 100000", "cpu.weight": "79", "memory.max": "max", "memory.swap.max": "max", "pids.max": "max"]),
        (CgroupLimits(),
         ["cpu.max": "max 100000", "cpu.weight": "100", "memory.max": "max", "memory.swap.max": "max", "pids.max": "max"]),
        (CgroupLimits(memoryBytes: 1 << 30, pids: 1),
         ["cpu.max": "max 100000", "memory.max": "1073741824", "memory.swap.max": "0", "pids.max": "1"]),
    ])
    func cgroupV2CreateWritesLimits(limits: CgroupLimits, expected: [String: String]) throws {
        try tree.files("parent/c1", v2ChildFiles)
        let cgroup = try manager.create(name: "c1", limits: limits)
        #expect(cgroup.version == .v2)
        #expect(cgroup.name == "c1")
        #expect(cgroup.paths == [tree.path("parent/c1")])
        for (file, value) in expected {
            #expect(try tree.read("parent/c1/" + file).trimmed == value, "\(file)")
        }
        #expect(try tree.read("parent/cgroup.subtree_control") == "+cpu +memory +pids")
    }

    @Test("the parent's subtree_control is left alone when the controllers are already on")
    func cgroupV2SubtreeAlreadyEnabled() throws {
        try tree.files("parent", ["cgroup.subtree_control": "cpu memory pids\n"])
        try tree.files("parent/c1", v2ChildFiles)
        _ = try manager.create(name: "c1", limits: CgroupLimits(cpus: 1))
        #expect(try tree.read("parent/cgroup.subtree_control") == "cpu memory pids\n")
    }

    @Test("only the controllers still off are enabled")
    func cgroupV2SubtreePartlyEnabled() throws {
        try tree.files("parent", ["cgroup.subtree_control": "memory\n"])
        try tree.files("parent/c1", v2ChildFiles)
        _ = try manager.create(name: "c1", limits: CgroupLimits())
        #expect(try tree.read("parent/cgroup.subtree_control") == "+cpu +pids")
    }

    @Test("a kernel without swap accounting has no memory.swap.max: skipped")
    func cgroupV2WithoutSwapAccounting() throws {
        var files = v2ChildFiles
        files["memory.swap.max"] = nil
        try tree.files("parent/c1", files)
        _ = try manager.create(name: "c1", limits: CgroupLimits(memoryBytes: 64 << 20))
        #expect(try tree.read("parent/c1/memory.max").trimmed == "67108864")
        #expect(!tree.exists("parent/c1/memory.swap.max"))
    }

    @Test("a limit whose controller the parent lacks is a clear error; without the limit it is fine")
    func cgroupV2MissingController() throws {
        try tree.files("parent", ["cgroup.controllers": "cpu pids\n"])
        try tree.files("parent/c1", v2ChildFiles)
        let error = #expect(throws: BerthError.self) {
            try manager.create(name: "c1", limits: CgroupLimits(memoryBytes: 64 << 20))
        }
        #expect(error?.code == .cgroup)
        #expect(error?.message.contains("cgroup v2 controller memory is not available in \(tree.path("parent")) (not delegated by the parent)") == true,
                "\(error?.message ?? "")")
        #expect(try tree.read("parent/c1/memory.max").trimmed == "max")

        _ = try manager.create(name: "c1", limits: CgroupLimits(cpus: 1, pids: 5))
        #expect(try tree.read("parent/cgroup.subtree_control") == "+cpu +pids")
    }

    @Test("an existing cgroup that runs processes is not taken over")
    func cgroupV2ExistingBusy() throws {
        var files = v2ChildFiles
        files["cgroup.procs"] = "77\n"
        try tree.files("parent/c1", files)
        let error = #expect(throws: BerthError.self) { try manager.create(name: "c1", limits: CgroupLimits(cpus: 1)) }
        #expect(error?.code == .invalidState)
        #expect(try tree.read("parent/c1/cpu.max").trimmed == "max 100000")
    }

    @Test("a failed limit write removes the directory it made")
    func cgroupV2CreateFailureCleansUp() throws {
        // mkdir makes an empty directory here, so the first write finds no cpu.max.
        let error = #expect(throws: BerthError.self) { try manager.create(name: "fresh", limits: CgroupLimits(cpus: 1)) }
        #expect(error?.message.contains("cpu.max") == true, "\(error?.message ?? "")")
        #expect(!tree.exists("parent/fresh"))
    }

    @Test("invalid limits are refused before anything is created")
    func cgroupV2InvalidLimits() throws {
        let error = #expect(throws: BerthError.self) { try manager.create(name: "c1", limits: CgroupLimits(pids: 0)) }
        #expect(error?.code == .invalidArgument)
        #expect(!tree.exists("parent/c1"))
        #expect(try tree.read("parent/cgroup.subtree_control") == "\n")
    }

    @Test("names must be one plain path component", arguments: ["", ".", "..", "a/b", "../x", "berth-self", "cgroup.procs", "a\nb"])
    func cgroupV2InvalidNames(name: String) {
        let error = #expect(throws: BerthError.self) { try manager.create(name: name, limits: CgroupLimits()) }
        #expect(error?.code == .invalidArgument)
    }

    @Test("processes are added through cgroup.procs and listed back")
    func cgroupV2Processes() throws {
        try tree.files("parent/c1", v2ChildFiles)
        let cgroup = try manager.create(name: "c1", limits: CgroupLimits())
        try cgroup.addProcess(1234)
        #expect(try tree.read("parent/c1/cgroup.procs") == "1234")
        try tree.files("parent/c1", ["cgroup.procs": "1234\n1240\n"])
        try tree.files("parent/c1/nested", ["cgroup.procs": "1250\n"])
        #expect(try cgroup.processes() == [1234, 1240, 1250])
    }

    @Test("stats parse from the v2 files")
    func cgroupV2Stats() throws {
        try tree.files("parent/c1", v2ChildFiles)
        let cgroup = try manager.create(name: "c1", limits: CgroupLimits(memoryBytes: 32 << 20, pids: 20))
        try tree.files("parent/c1", [
            "cpu.stat": """
                usage_usec 1500250
                user_usec 1000000
                system_usec 500250
                core_sched.force_idle_usec 0
                nr_periods 40
                nr_throttled 12
                throttled_usec 600000
                nr_bursts 0
                burst_usec 0

                """,
            "memory.current": "8392704\n",
            "memory.peak": "16785408\n",
            "memory.events": "low 0\nhigh 0\nmax 31\noom 2\noom_kill 2\noom_group_kill 0\n",
            "pids.current": "3\n",
        ])
        #expect(try cgroup.stats() == CgroupStats(
            cpuUsageNanos: 1_500_250_000, cpuUserNanos: 1_000_000_000, cpuSystemNanos: 500_250_000,
            throttledPeriods: 12, throttledNanos: 600_000_000, memoryCurrentBytes: 8_392_704,
            memoryPeakBytes: 16_785_408, memoryLimitBytes: 33_554_432, oomKills: 2, pidsCurrent: 3))
        #expect(try cgroup.oomKillCount() == 2)
    }

    @Test("older kernels and missing controllers give nil, not errors")
    func cgroupV2StatsSparse() throws {
        try tree.files("parent/c1", ["cgroup.procs": "", "cpu.stat": "usage_usec 10\nuser_usec 6\nsystem_usec 4\n", "memory.max": "max\n"])
        let cgroup = try #require(try manager.open(name: "c1"))
        #expect(try cgroup.stats() == CgroupStats(cpuUsageNanos: 10_000, cpuUserNanos: 6_000, cpuSystemNanos: 4_000))
        #expect(try cgroup.oomKillCount() == 0)
    }

    @Test("stats of a cgroup that is gone say so")
    func cgroupV2StatsGone() throws {
        try tree.files("parent/c1", v2ChildFiles)
        let cgroup = try manager.create(name: "c1", limits: CgroupLimits())
        try tree.remove("parent/c1")
        let error = #expect(throws: BerthError.self) { try cgroup.stats() }
        #expect(error?.code == .notFound)
    }

    @Test("killAll uses cgroup.kill when the kernel has it")
    func cgroupV2KillAll() throws {
        try tree.files("parent/c1", v2ChildFiles)
        let cgroup = try manager.create(name: "c1", limits: CgroupLimits())
        try cgroup.killAll()
        #expect(try tree.read("parent/c1/cgroup.kill") == "1")
    }

    @Test("open finds an existing cgroup, nil otherwise")
    func cgroupV2Open() throws {
        #expect(try manager.open(name: "c1") == nil)
        try tree.files("parent/c1", v2ChildFiles)
        let cgroup = try #require(try manager.open(name: "c1"))
        #expect(cgroup.paths == [tree.path("parent/c1")])
    }

    @Test("destroy removes the directory and nested ones, and is idempotent")
    func cgroupV2Destroy() throws {
        try tree.files("parent/c1", v2ChildFiles)
        try tree.files("parent/c1/inner", ["cgroup.procs": ""])
        let cgroup = try manager.create(name: "c1", limits: CgroupLimits())
        // cgroupfs lets rmdir remove a cgroup with its control files; a plain directory does not.
        try tree.removeFiles(under: "parent/c1")
        try cgroup.destroy()
        #expect(!tree.exists("parent/c1"))
        try cgroup.destroy()
    }

    @Test("summary names the controllers and the parent")
    func cgroupV2Summary() throws {
        #expect(manager.summary == "cgroup v2: cpu,memory,pids under \(tree.path("parent"))")
        try tree.files("parent", ["cgroup.controllers": "cpu\n"])
        #expect(manager.summary == "cgroup v2: cpu under \(tree.path("parent")) (not delegated: memory,pids)")
    }
}
