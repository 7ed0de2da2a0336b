import BerthCgroups
import BerthRuntime
import BerthTestSupport
import Foundation
import Glibc
import Testing

/// `berth run` against the real kernel. Runs natively (cgroup v1 on hybrid hosts) and, through
/// CgroupV2VMTests, inside a pure cgroup v2 kernel. Serialized: the leftover checks look at the
/// whole host.
@Suite("berth run as root", .serialized, .requiresRoot)
struct RunRootTests {
    let rootfs: String

    init() throws {
        rootfs = try Fixtures.busyboxRootfs()
    }

    /// Runs `berth run --rootfs R OPTIONS -- COMMAND`, then checks nothing was left behind.
    func run(_ options: [String] = [], _ command: [String], stdin: String? = nil) throws -> CommandResult {
        let result = try Fixtures.berth(["run", "--rootfs", rootfs] + options + ["--"] + command, stdin: stdin)
        let left = Leftovers.find(rootfs: rootfs)
        #expect(left.isEmpty, "left on the host after \(command): \(left)")
        return result
    }

    @Test func detectsTheHostsCgroupVersion() throws {
        let manager = try Cgroups.detect()
        if TestHost.insideCgroup2VM { #expect(manager.version == .v2) }
        let result = try Fixtures.berth(["version"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("cgroup \(manager.version.rawValue)"), "\(result)")
    }

    @Test func cpuLimitHoldsASpinToHalfACPU() throws {
        // Above 0.6 means the quota is not enforced. Below 0.4 can also mean the machine was busy
        // with other work for a while, so a low reading gets one more try.
        var ratios: [Double] = []
        for _ in 0..<2 {
            let result = try run(["--cpus", "0.5"], ["/bin/probe", "spin", "3"])
            #expect(result.status == 0, "\(result)")
            let cpu = try #require(Double(result.values["cpu_seconds"] ?? ""), "\(result)")
            let wall = try #require(Double(result.values["wall_seconds"] ?? ""), "\(result)")
            ratios.append(cpu / wall)
            #expect(cpu / wall <= 0.6, "used \(cpu / wall) CPU-seconds per second with --cpus 0.5: \(result)")
            if cpu / wall >= 0.4 { break }
        }
        #expect(ratios.last.map { $0 >= 0.4 && $0 <= 0.6 } == true, "CPU-seconds per second: \(ratios)")
    }

    @Test func memoryLimitEndsInAnOOMKillThatIsReported() throws {
        let result = try run(["--memory", "32M"], ["/bin/probe", "alloc", "100"])
        #expect(result.status == 137, "\(result)")
        #expect(result.stderr.contains("memory limit of 32 MiB reached"), "\(result)")
        #expect(result.values["done"] == nil)
    }

    @Test func allocationWithinTheMemoryLimitSucceeds() throws {
        let result = try run(["--memory", "32M"], ["/bin/probe", "alloc", "16"])
        #expect(result.status == 0, "\(result)")
        #expect(result.values["done"] == "1", "\(result)")
        #expect(!result.stderr.contains("memory limit"))
    }

    @Test func pidsLimitStopsForksAndTheContainerStillExitsCleanly() throws {
        let result = try run(["--pids", "20"], ["/bin/probe", "fork", "50"])
        #expect(result.status == 0, "\(result)")
        let forked = try #require(Int(result.values["forked"] ?? ""), "\(result)")
        #expect(forked < 20 && forked > 0, "\(result)")
        #expect(result.values["first_error"] == "EAGAIN", "\(result)")
    }

    @Test func isolationMatchesTheOCIDefaults() throws {
        let result = try run(["--hostname", "berth-test"], ["/bin/probe", "caps"])
        #expect(result.status == 0, "\(result)")
        let v = result.values
        #expect(v["pid"] == "1")
        #expect(v["hostname"] == "berth-test")
        #expect(v["cap_eff"] == "00000000a80425fb", "Docker's default 14 capabilities")
        #expect(v["cap_bnd"] == "00000000a80425fb", "the bounding set is dropped too")
        #expect(v["no_new_privs"] == "1")
        #expect(v["seccomp"] == "2", "a seccomp filter is loaded")
        #expect(v["uid"] == "0" && v["cwd"] == "/")
    }

    @Test func hostProcessesAndMountsAreInvisible() throws {
        let result = try run([], ["/bin/sh", "-c", "ls /proc | grep -c '^[0-9]'; cut -d' ' -f5 /proc/self/mountinfo"])
        #expect(result.status == 0, "\(result)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let processes = try #require(Int(lines.first ?? ""))
        #expect(processes <= 4, "sees \(processes) processes: \(result)")
        let allowed = ["/", "/proc", "/dev", "/sys", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf"]
        for mountPoint in lines.dropFirst() {
            #expect(allowed.contains { mountPoint == $0 || mountPoint.hasPrefix($0 == "/" ? "/\u{0}" : $0 + "/") },
                    "host mount visible: \(mountPoint)")
        }
    }

    /// /etc/hostname and /etc/hosts name the container; the files are its own to change, and
    /// nothing of how they were staged in /dev is left to see.
    @Test func etcFilesAreTheContainersOwn() throws {
        let script = "cat /etc/hostname; grep -c inside /etc/hosts; echo '10.1.1.1 extra' >> /etc/hosts && grep -c extra /etc/hosts; ls -a /dev | grep -c berth || true"
        let result = try run(["--hostname", "inside"], ["/bin/sh", "-c", script])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout == "inside\n1\n1\n0\n", "\(result)")
        #expect(try String(contentsOfFile: "/etc/hosts", encoding: .utf8).contains("extra") == false, "the host's /etc/hosts is untouched")
        let next = try run([], ["/bin/sh", "-c", "grep -c extra /etc/hosts || true"])
        #expect(next.stdout == "0\n", "another container's write is not seen: \(next)")
    }

    @Test func procPathsAreMaskedOrReadOnly() throws {
        // Which of these exist depends on the kernel's configuration: check the ones this host has.
        let fm = FileManager.default
        let sysrqExists = fm.fileExists(atPath: "/proc/sysrq-trigger")
        let sysrq = try run([], ["/bin/probe", "write", "/proc/sysrq-trigger"])
        #expect(sysrq.values["write"] == (sysrqExists ? "EROFS" : "ENOENT"), "\(sysrq)")
        let procSys = try run([], ["/bin/probe", "write", "/proc/sys/kernel/hostname"])
        #expect(procSys.values["write"] == "EROFS", "\(procSys)")
        for file in ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug"] where fm.fileExists(atPath: file) {
            let read = try run([], ["/bin/sh", "-c", "wc -c < \(file)"])
            #expect(read.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "\(file) is not masked: \(read)")
        }
        for dir in ["/proc/acpi", "/sys/firmware", "/proc/scsi"] where fm.fileExists(atPath: dir) {
            let list = try run([], ["/bin/sh", "-c", "ls -A \(dir) | wc -l"])
            #expect(list.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "\(dir) is not masked: \(list)")
        }
    }

    @Test func onlyStdioIsInherited() throws {
        let result = try run([], ["/bin/probe", "fds"])
        #expect(result.values["open_fds"] == "0,1,2", "\(result)")
    }

    @Test func defaultSeccompDeniesKeyctlUnshareAndMount() throws {
        let result = try run([], ["/bin/probe", "syscalls", "keyctl", "unshare", "mount", "getpid", "read"])
        #expect(result.status == 0, "\(result)")
        let v = result.values
        #expect(v["keyctl"] == "EPERM" && v["unshare"] == "EPERM" && v["mount"] == "EPERM", "\(result)")
        #expect(v["getpid"] == "OK" && v["read"] == "OK", "ordinary system calls work: \(result)")
    }

    @Test func unconfinedLetsKeyctlThrough() throws {
        let result = try run(["--seccomp", "unconfined"], ["/bin/probe", "syscalls", "keyctl", "caps"])
        #expect(result.values["keyctl"] != "EPERM", "\(result)")
        let caps = try run(["--seccomp", "unconfined"], ["/bin/probe", "caps"])
        #expect(caps.values["seccomp"] == "0", "\(caps)")
    }

    @Test func capSysAdminOpensMountButNeverKeyctl() throws {
        let result = try run(["--cap-add", "SYS_ADMIN"], ["/bin/probe", "syscalls", "mount", "keyctl"])
        #expect(result.values["mount"] == "OK", "\(result)")
        #expect(result.values["keyctl"] == "EPERM", "\(result)")
    }

    @Test func customProfileFromJSON() throws {
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("berth-seccomp-\(getpid()).json")
        defer { try? FileManager.default.removeItem(at: profile) }
        // Allow everything but getpid, which fails with EACCES.
        try #"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["getpid"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}"#
            .write(to: profile, atomically: true, encoding: .utf8)
        let result = try run(["--seccomp", profile.path], ["/bin/probe", "syscalls", "getpid", "keyctl"])
        #expect(result.values["getpid"] == "EACCES", "\(result)")
        #expect(result.values["keyctl"] != "EPERM", "\(result)")
    }

    @Test func userEnvWorkdirAndHostname() throws {
        let result = try run(["--user", "app", "--env", "GREETING=hi there", "--workdir", "/home/app", "--hostname", "web1"],
                             ["/bin/sh", "-c", "/bin/probe caps; echo greeting=$GREETING; echo home=$HOME"])
        let v = result.values
        #expect(result.status == 0, "\(result)")
        #expect(v["uid"] == "1000" && v["gid"] == "1000" && v["groups"] == "100", "\(result)")
        #expect(v["cap_eff"] == "0000000000000000", "a non-root user has no effective capabilities")
        #expect(v["cwd"] == "/home/app" && v["hostname"] == "web1" && v["greeting"] == "hi there" && v["home"] == "/home/app")
    }

    @Test func readOnlyRoot() throws {
        let readOnly = try run(["--read-only"], ["/bin/probe", "write", "/berth-ro-test"])
        #expect(readOnly.values["write"] == "EROFS", "\(readOnly)")
        let writable = try run([], ["/bin/sh", "-c", "/bin/probe write /tmp/berth-rw-test && rm /tmp/berth-rw-test"])
        #expect(writable.values["write"] == "OK", "\(writable)")
    }

    @Test func networkNoneHasOnlyLoopbackAndHostSharesTheHosts() throws {
        let none = try run(["--network", "none"], ["/bin/sh", "-c", "tail -n +3 /proc/net/dev | cut -d: -f1"])
        #expect(none.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) } == ["lo"], "\(none)")
        let up = try run(["--network", "none"], ["/bin/sh", "-c", "cat /sys/class/net/lo/operstate /sys/class/net/lo/flags"])
        #expect(up.stdout.contains("0x9"), "loopback is up: \(up)")
        let host = try run(["--network", "host"], ["/bin/sh", "-c", "tail -n +3 /proc/net/dev | wc -l"])
        let hostInterfaces = try String(contentsOfFile: "/proc/net/dev", encoding: .utf8).split(separator: "\n").count - 2
        #expect(Int(host.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) == hostInterfaces, "\(host)")
    }

    @Test func stdinStdoutAndExitStatusPassThrough() throws {
        let result = try run([], ["/bin/sh", "-c", "cat; echo err >&2; exit 3"], stdin: "hello\n")
        #expect(result.status == 3)
        #expect(result.stdout == "hello\n")
        #expect(result.stderr == "err\n")
    }

    @Test func missingCommandExits127AndNamesIt() throws {
        let absolute = try run([], ["/bin/nope"])
        #expect(absolute.status == 127)
        #expect(absolute.stderr == "berth: exec /bin/nope: no such file in the rootfs\n", "\(absolute)")
        let searched = try run([], ["nope"])
        #expect(searched.status == 127)
        #expect(searched.stderr.contains("exec nope: executable file not found"), "\(searched)")
    }

    @Test func nonExecutableCommandExits126() throws {
        let result = try run([], ["/etc/passwd"])
        #expect(result.status == 126, "\(result)")
        #expect(result.stderr.contains("exec /etc/passwd: EACCES"), "\(result)")
    }

    @Test func setupFailuresExit125NamingTheStep() throws {
        let workdir = try run(["--workdir", "/etc/passwd"], ["/bin/true"])
        #expect(workdir.status == 125)
        #expect(workdir.stderr.contains("change to working directory /etc/passwd: ENOTDIR"), "\(workdir)")
        let missing = try Fixtures.berth(["run", "--rootfs", "/nonexistent-berth-root", "--", "/bin/true"])
        #expect(missing.status == 125)
        #expect(missing.stderr.contains("/nonexistent-berth-root"), "\(missing)")
        let badUser = try run(["--user", "ghost"], ["/bin/true"])
        #expect(badUser.status == 125 && badUser.stderr.contains("user \"ghost\" not found"), "\(badUser)")
        let badMemory = try run(["--memory", "lots"], ["/bin/true"])
        #expect(badMemory.status == 125 && badMemory.stderr.contains("lots"), "\(badMemory)")
    }

    @Test func sigtermReachesTheContainer() throws {
        let result = try runAndSignal(["/bin/probe", "trap-term", "7"], signal: SIGTERM)
        #expect(result.status == 7, "\(result)")
    }

    @Test func sigkillFollowsWhenTheStopTimeoutPasses() throws {
        let start = ContinuousClock.now
        // pid 1 without a handler ignores SIGTERM: only the SIGKILL after the timeout ends it.
        let result = try runAndSignal(["/bin/probe", "sleep", "60"], options: ["--stop-timeout", "1"], signal: SIGTERM)
        #expect(result.status == 137, "\(result)")
        #expect(ContinuousClock.now - start < .seconds(30))
    }

    @Test func statsAreReadableWhileTheContainerRuns() throws {
        var config = ContainerConfiguration(rootfs: rootfs, command: ["/bin/sh", "-c", "/bin/probe alloc 8 >/dev/null; /bin/probe spin 1.5 >/dev/null"])
        config.limits = CgroupLimits(cpus: 1, memoryBytes: 64 << 20, pids: 50)
        let container = Container(configuration: config, cgroups: try Cgroups.detect())
        try container.start()
        defer { container.remove() }
        // Poll rather than sleep a fixed time: under emulation in the VM the same work is slower.
        var stats = try container.stats()
        let deadline = ContinuousClock.now + .seconds(30)
        while (stats.cpuUsageNanos <= 100_000_000 || (stats.memoryPeakBytes ?? 8 << 20) < 8 << 20), ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.1)
            stats = try container.stats()
        }
        #expect(stats.cpuUsageNanos > 100_000_000, "\(stats)")
        #expect(stats.memoryCurrentBytes > 0 && stats.memoryLimitBytes == 64 << 20, "\(stats)")
        #expect((stats.memoryPeakBytes ?? 8 << 20) >= 8 << 20, "\(stats)")
        #expect(stats.oomKills == 0)
        let exit = try container.wait()
        #expect(exit.code == 0 && !exit.oomKilled)
        #expect(Leftovers.find(rootfs: rootfs).isEmpty)
    }

    /// v2: the kernel starts the process in its cgroup. v1 has no single cgroup to clone into:
    /// the child joins its cgroup in every hierarchy itself, before anything of the command runs.
    @Test func theProcessStartsInItsCgroupInEveryHierarchy() throws {
        let manager = try Cgroups.detect()
        var config = ContainerConfiguration(rootfs: rootfs, command: ["/bin/sleep", "30"])
        config.limits = CgroupLimits(memoryBytes: 64 << 20)
        let container = Container(configuration: config, cgroups: manager)
        try container.start()
        let cloned = container.clonedIntoCgroup
        let pid = try #require(container.pid)
        // Read from the host's cgroup namespace: full paths, one line per hierarchy.
        let lines = try String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8).split(separator: "\n")
        container.killAll()
        _ = try container.wait()
        #expect(cloned == (manager.version == .v2))
        // "ID:CONTROLLERS:PATH"; CONTROLLERS comma-separated ("cpu,cpuacct"), empty on v2.
        for controller in manager.version == .v2 ? [""] : ["memory", "cpu", "pids"] {
            let line = lines.first { line in
                let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
                guard fields.count == 3 else { return false }
                let names = fields[1].split(separator: ",").map(String.init)
                return controller.isEmpty ? names.isEmpty : names.contains(controller)
            }
            #expect(line?.hasSuffix("/berth-\(container.id)") == true, "\(controller): \(lines)")
        }
        #expect(Leftovers.find(rootfs: rootfs).isEmpty)
    }

    /// A command run inside a running container, as a command health check is: the container's
    /// namespaces, cgroup, user, environment and working directory, its output and exit status.
    @Test func execRunsACommandInsideARunningContainer() throws {
        let manager = try Cgroups.detect()
        var config = ContainerConfiguration(rootfs: rootfs, command: ["/bin/sleep", "30"])
        config.hostname = "inside"
        config.user = "65534:65534"
        config.env = ["GREETING=hi"]
        config.workingDirectory = "/bin"
        config.limits = CgroupLimits(memoryBytes: 64 << 20)
        let container = Container(configuration: config, cgroups: manager)
        try container.start()
        defer { container.remove() }
        let pid = try #require(container.pid)
        func exec(_ script: String, timeout: Duration = .seconds(20)) throws -> ExecResult {
            try ContainerExec.run(["/bin/sh", "-c", script], env: ["EXTRA=x"], container: container.id, configuration: config, pid: pid,
                                  cgroups: manager, timeout: timeout)
        }
        let inside = try exec("""
            echo $(hostname) $(cat /proc/1/comm) $(id -u) $GREETING $EXTRA $(pwd); \
            [ "$(cat /proc/self/cgroup)" = "$(cat /proc/1/cgroup)" ] && echo same cgroups
            """)
        #expect(inside.status == .exited(0), "\(inside)")
        #expect(inside.output == "inside sleep 65534 hi x /bin\nsame cgroups", "\(inside)")

        let failing = try exec("echo bad >&2; exit 3")
        #expect(failing.status == .exited(3))
        #expect(failing.output == "bad")
        #expect(!failing.succeeded)

        // At the timeout the command and what it started are killed; the container goes on.
        let start = ContinuousClock.now
        let slow = try exec("sleep 20 & sleep 20", timeout: .milliseconds(500))
        #expect(slow.timedOut && slow.status == nil, "\(slow)")
        #expect(ContinuousClock.now - start < .seconds(5))
        let cgroup = try #require(try manager.open(name: "berth-\(container.id)"))
        let deadline = ContinuousClock.now + .seconds(5)
        while try cgroup.processes() != [pid], ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(try cgroup.processes() == [pid], "only the container's own process is left")
    }

    /// Starts `berth run`, waits until the command is running, sends `signal` to berth itself.
    func runAndSignal(_ command: [String], options: [String] = [], signal: Int32) throws -> CommandResult {
        let child = try SpawnedCommand([TestHost.berthBinary, "run", "--rootfs", rootfs] + options + ["--"] + command)
        if command.contains("trap-term") {
            child.waitForOutput("ready=1") // the handler is installed
        } else {
            Thread.sleep(forTimeInterval: 0.5)
        }
        kill(child.pid, signal)
        let result = try child.finish()
        let left = Leftovers.find(rootfs: rootfs)
        #expect(left.isEmpty, "left on the host: \(left)")
        return result
    }
}
