import BerthCgroups
import BerthCore
import BerthTestSupport
import Foundation
import Testing

/// Against the kernel this runs on: v1 on the hybrid development hosts, v2 inside
/// ../shared/tools/cgroup2-vm. Serialized: the OOM and throttling tests are easier to read alone.
@Suite("cgroup drivers on the real kernel", .requiresRoot, .serialized)
struct CgroupKernelTests {
    static let limits = CgroupLimits(cpus: 0.5, memoryBytes: 32 << 20, pids: 20)

    @Test("detect, create with limits, add a process, read stats, destroy leaves nothing")
    func cgroupLifecycleOnRealKernel() throws {
        let manager = try Cgroups.detect()
        #expect(manager.summary.hasPrefix("cgroup \(manager.version.rawValue)"), "\(manager.summary)")
        let name = uniqueName()
        let cgroup = try manager.create(name: name, limits: Self.limits)
        defer { try? cgroup.destroy() }
        #expect(!cgroup.paths.isEmpty)
        for path in cgroup.paths { #expect(FileManager.default.fileExists(atPath: path), "\(path)") }

        switch manager.version {
        case .v2:
            #expect(try readBack(cgroup, "cpu.max") == "50000 100000")
            #expect(try readBack(cgroup, "cpu.weight") == "20")
            #expect(try readBack(cgroup, "memory.max") == "33554432")
            if let swap = try? readBack(cgroup, "memory.swap.max") { #expect(swap == "0") }
            #expect(try readBack(cgroup, "pids.max") == "20")
        case .v1:
            #expect(try readBack(cgroup, "cpu.cfs_period_us") == "100000")
            #expect(try readBack(cgroup, "cpu.cfs_quota_us") == "50000")
            #expect(try readBack(cgroup, "cpu.shares") == "512")
            #expect(try readBack(cgroup, "memory.limit_in_bytes") == "33554432")
            if let memsw = try? readBack(cgroup, "memory.memsw.limit_in_bytes") { #expect(memsw == "33554432") }
            #expect(try readBack(cgroup, "pids.max") == "20")
        }

        let sleeper = try ChildProcess(["/bin/sleep", "5"])
        try cgroup.addProcess(sleeper.pid)
        #expect(try cgroup.processes() == [sleeper.pid])
        // The kernel agrees: the process's own view names our directory in every hierarchy.
        let membership = try String(contentsOfFile: "/proc/\(sleeper.pid)/cgroup", encoding: .utf8)
        #expect(membership.contains("/\(name)\n"), "\(membership)")

        let stats = try cgroup.stats()
        #expect(stats.memoryLimitBytes == 32 << 20)
        #expect(stats.pidsCurrent == 1)
        #expect(stats.oomKills == 0)
        #expect(try cgroup.oomKillCount() == 0)

        let reopened = try #require(try manager.open(name: name))
        #expect(reopened.paths == cgroup.paths)

        try cgroup.destroy()
        #expect(sleeper.wait(seconds: 10))
        #expect(sleeper.terminatingSignal == SIGKILL)
        for path in cgroup.paths { #expect(!FileManager.default.fileExists(atPath: path), "\(path) left behind") }
        try cgroup.destroy()
        #expect(try manager.open(name: name) == nil)
    }

    @Test("an empty cgroup is removed at once, and a busy one still after its processes are killed")
    func destroyTakesTheShortPathOnlyWhenEmpty() throws {
        let manager = try Cgroups.detect()
        let empty = try manager.create(name: uniqueName(), limits: Self.limits)
        try empty.destroy()
        for path in empty.paths { #expect(!FileManager.default.fileExists(atPath: path), "\(path) left behind") }

        let busy = try manager.create(name: uniqueName(), limits: Self.limits)
        defer { try? busy.destroy() }
        let sleeper = try ChildProcess(["/bin/sleep", "5"])
        try busy.addProcess(sleeper.pid)
        try busy.destroy()
        #expect(sleeper.wait(seconds: 10))
        for path in busy.paths { #expect(!FileManager.default.fileExists(atPath: path), "\(path) left behind") }
    }

    @Test("a process that outgrows the memory limit is OOM-killed and counted (no swap to escape to)")
    func cgroupMemoryLimitOOMKills() throws {
        let manager = try Cgroups.detect()
        let cgroup = try manager.create(name: uniqueName(), limits: Self.limits)
        defer { try? cgroup.destroy() }
        // tail buffers a file without newlines whole; it waits for a line so it starts inside the cgroup.
        let hog = try ChildProcess(["/bin/sh", "-c", "read line; exec tail /dev/zero"], withInput: true)
        try cgroup.addProcess(hog.pid)
        try hog.send("go")

        #expect(hog.wait(seconds: 60))
        #expect(hog.terminatingSignal == SIGKILL)
        #expect(try cgroup.oomKillCount() >= 1)
        let stats = try cgroup.stats()
        #expect(stats.oomKills >= 1)
        if let peak = stats.memoryPeakBytes { #expect(peak <= 32 << 20) }
        try cgroup.destroy()
    }

    @Test("a busy loop under --cpus 0.5 is throttled")
    func cgroupCPULimitThrottles() throws {
        let manager = try Cgroups.detect()
        let cgroup = try manager.create(name: uniqueName(), limits: Self.limits)
        defer { try? cgroup.destroy() }
        let spinner = try ChildProcess(["/bin/sh", "-c", "read line; while :; do :; done"], withInput: true)
        try cgroup.addProcess(spinner.pid)
        try spinner.send("go")

        var stats = try cgroup.stats()
        let deadline = Date().addingTimeInterval(20)
        // The kernel adds to throttled_time only when a throttled period ends: wait for both.
        while (stats.throttledPeriods == 0 || stats.throttledNanos == 0) && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
            stats = try cgroup.stats()
        }
        #expect(stats.throttledPeriods > 0)
        #expect(stats.throttledNanos > 0)
        #expect(stats.cpuUsageNanos > 0)
        try cgroup.destroy()
        #expect(spinner.wait(seconds: 10))
        #expect(spinner.terminatingSignal == SIGKILL)
    }

    // MARK: helpers

    func uniqueName() -> String {
        "berth-test-cgroup-\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// The trimmed content of a control file, from whichever of the cgroup's directories has it.
    func readBack(_ cgroup: any Cgroup, _ file: String) throws -> String {
        let path = try #require(cgroup.paths.map { $0 + "/" + file }.first { FileManager.default.fileExists(atPath: $0) },
                                "no \(file) in \(cgroup.paths)")
        return try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// The v2 "no internal processes" handling needs a pure cgroup v2 kernel: scripts/test.sh runs
/// this suite inside ../shared/tools/cgroup2-vm (CgroupV2VMTests), not on hybrid hosts.
@Suite("cgroup v2 delegation on the real kernel", .requiresRoot, .serialized,
       .enabled(if: TestHost.isCI || Cgroups.isCgroup2("/sys/fs/cgroup"), "needs a pure cgroup v2 host: run inside ../shared/tools/cgroup2-vm"))
struct CgroupV2KernelTests {
    @Test("v2 no-internal-processes: the only process in the parent moves into berth-self",)
    func cgroupV2MovesSelfIntoLeaf() throws {
        let outer = try #require(try Cgroups.detect() as? CgroupV2Manager)
        // A parent with controllers delegated to it, and one process standing in for berth.
        let parent = try outer.create(name: CgroupKernelTests().uniqueName(), limits: CgroupLimits())
        defer { try? parent.destroy() }
        let agent = try ChildProcess(["/bin/sleep", "30"])
        try parent.addProcess(agent.pid)

        let parentRelative = String(parent.paths[0].dropFirst(outer.mountPoint.count))
        let manager = CgroupV2Manager(mountPoint: outer.mountPoint, parent: parentRelative, selfPID: agent.pid)
        let child = try manager.create(name: "task", limits: CgroupKernelTests.limits)
        #expect(try CgroupKernelTests().readBack(child, "memory.max") == "33554432")
        let membership = try String(contentsOfFile: "/proc/\(agent.pid)/cgroup", encoding: .utf8)
        #expect(membership == "0::\(parentRelative)/berth-self\n")
        #expect(try String(contentsOfFile: parent.paths[0] + "/cgroup.subtree_control", encoding: .utf8).contains("memory"))

        try parent.destroy()
        #expect(agent.wait(seconds: 10))
        #expect(!FileManager.default.fileExists(atPath: parent.paths[0]))
    }

    @Test("v2 no-internal-processes: other processes in the parent are a clear error",)
    func cgroupV2RefusesSharedParent() throws {
        let outer = try #require(try Cgroups.detect() as? CgroupV2Manager)
        let parent = try outer.create(name: CgroupKernelTests().uniqueName(), limits: CgroupLimits())
        defer { try? parent.destroy() }
        let agent = try ChildProcess(["/bin/sleep", "30"])
        let neighbour = try ChildProcess(["/bin/sleep", "30"])
        try parent.addProcess(agent.pid)
        try parent.addProcess(neighbour.pid)

        let parentRelative = String(parent.paths[0].dropFirst(outer.mountPoint.count))
        let manager = CgroupV2Manager(mountPoint: outer.mountPoint, parent: parentRelative, selfPID: agent.pid)
        let error = #expect(throws: BerthError.self) { try manager.create(name: "task", limits: CgroupKernelTests.limits) }
        #expect(error?.message.contains("\(neighbour.pid)") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("systemd-run --scope") == true)
        #expect(!FileManager.default.fileExists(atPath: parent.paths[0] + "/task"))
        try parent.destroy()
    }

}
