import ArgumentParser
import BerthCore
import Foundation

/// `berth-bench run`: the start-to-exit cost of a trivial container, berth against runc.
struct RunBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Time `berth run` against `runc run` on the same rootfs and memory limit.",
        discussion: """
            Runs `berth run --rootfs R --memory M -- /bin/true`, `runc run` on an OCI bundle of \
            the same rootfs and limit, and a bare `unshare --fork --pid --mount --uts --ipc --net \
            --mount-proc /bin/true` as a floor, interleaved round by round after untimed warm-up \
            rounds. Prints key=value lines: medians, p90, min and max wall time in milliseconds, \
            the ratio berth/runc, and each runtime's peak RSS (ru_maxrss, measured through GNU \
            time in a few extra untimed runs). Needs root and runc (apt-get install runc; \
            scripts/install-deps.sh installs it).
            """)

    /// The issue's target: berth at most this fraction of runc's time.
    static let goalRatio = 0.25
    /// Untimed runs of each runtime under GNU time, after the timed rounds; the peak is their maximum.
    static let rssRuns = 3

    @Option(help: ArgumentHelp("The berth binary (default: berth beside this executable).", valueName: "path"))
    var berth: String?

    @Option(help: ArgumentHelp("Root filesystem directory (default: the one rootfs/build.sh builds).", valueName: "dir"))
    var rootfs: String?

    @Option(help: ArgumentHelp("The Berth package, for rootfs/build.sh (default: found above this executable).", valueName: "dir"))
    var packageRoot: String?

    @Option(help: ArgumentHelp("Timed runs of each command.", valueName: "n"))
    var runs: Int = 30

    @Option(help: ArgumentHelp("Untimed warm-up runs of each command, first.", valueName: "n"))
    var warmup: Int = 2

    @Option(help: ArgumentHelp("Memory limit for both runtimes, as berth run --memory reads it.", valueName: "size"))
    var memory: String = "64m"

    @Option(help: ArgumentHelp("The runc binary (default: runc in PATH).", valueName: "path"))
    var runc: String?

    // unconditionalSingleValue, so that values that look like options (--seccomp) are taken.
    @Option(name: .customLong("berth-arg"), parsing: .unconditionalSingleValue,
            help: ArgumentHelp("An extra argument for berth run, before -- (repeatable).", valueName: "arg"))
    var berthArgs: [String] = []

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        guard warmup >= 0 else { throw ValidationError("--warmup must be 0 or more") }
    }

    func run() throws {
        let runcPath = try locateRunc()
        let memoryBytes = try ByteSize.parse(memory)
        let workDirectory = try Self.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: workDirectory) }
        let commands = try Commands(berth: Tool.locateBerth(berth), berthArgs: berthArgs, runc: runcPath, unshare: Tool.find("unshare"),
                                    rootfs: locateRootfs(), memory: memory, bundle: workDirectory + "/bundle")
        try FileManager.default.createDirectory(atPath: commands.bundle, withIntermediateDirectories: false)
        try RuncBundle.create(in: commands.bundle, runc: runcPath, rootfs: commands.rootfs, command: ["/bin/true"], memoryBytes: memoryBytes)
        let runner = try ChildRunner(stderrPath: workDirectory + "/stderr")

        let loadBefore = Tool.loadAverage()
        var berthRuns: [ChildRun] = []
        var runcRuns: [ChildRun] = []
        var unshareRuns: [ChildRun] = []
        // Interleaved, so that a burst of load elsewhere on the host hits all three alike.
        for round in 0..<(warmup + runs) {
            let berthRun = try runner.runExpectingSuccess(commands.berthArgv, what: "berth run")
            let runcRun = try commands.runc(round: "\(round)", runner: runner) { argv in
                try runner.runExpectingSuccess(argv, what: "runc run")
            }
            let unshareRun = try runner.runExpectingSuccess(commands.unshareArgv, what: "unshare")
            guard round >= warmup else { continue }
            berthRuns.append(berthRun)
            runcRuns.append(runcRun)
            unshareRuns.append(unshareRun)
        }
        let loadAfter = Tool.loadAverage()
        let (berthRSS, runcRSS) = try measurePeakRSS(commands, runner: runner, output: workDirectory + "/rss")

        guard let berthWall = Summary(berthRuns.map(\.wallMilliseconds)),
              let runcWall = Summary(runcRuns.map(\.wallMilliseconds)),
              let unshareWall = Summary(unshareRuns.map(\.wallMilliseconds)),
              let berthCPU = Summary(berthRuns.map(\.cpuMilliseconds)),
              let runcCPU = Summary(runcRuns.map(\.cpuMilliseconds))
        else { throw BerthError(.invalidState, "no timed runs") }  // validate() requires runs >= 1

        var report = Report()
        report.add("benchmark", "run")
        report.add("runs", runs)
        report.add("warmup_runs", warmup)
        report.add("kernel", Tool.kernelRelease())
        report.add("cpus", ProcessInfo.processInfo.activeProcessorCount)
        report.add("loadavg_1m_before", loadBefore)
        report.add("loadavg_1m_after", loadAfter)
        report.add("rootfs", commands.rootfs)
        report.add("memory_limit_bytes", String(memoryBytes))
        report.add("berth_binary", commands.berth)
        report.add("berth_build", Tool.buildConfiguration(of: commands.berth))
        report.add("berth_swift_stdlib", Tool.swiftStdlibLinkage(of: commands.berth))
        report.add("berth_command", commands.berthArgv.joined(separator: " "))
        report.add("runc_binary", runcPath)
        report.add("runc_version", Self.runcVersion(runcPath))
        report.add(series: "berth", berthWall)
        report.add("berth_cpu_median_ms", milliseconds: berthCPU.median)
        report.add("berth_peak_rss_kib", berthRSS.map(String.init) ?? "unavailable")
        report.add(series: "runc", runcWall)
        report.add("runc_cpu_median_ms", milliseconds: runcCPU.median)
        report.add("runc_peak_rss_kib", runcRSS.map(String.init) ?? "unavailable")
        report.add(series: "unshare", unshareWall)
        let ratio = berthWall.median / runcWall.median
        report.add("ratio_berth_to_runc", String(format: "%.3f", ratio))
        report.add("goal_ratio", String(Self.goalRatio))
        report.add("goal_met", ratio <= Self.goalRatio ? "yes" : "no")
        report.print()
    }

    /// The largest ru_maxrss of a few untimed runs of each runtime, or nil when GNU time is missing
    /// (the timings are still worth printing then).
    private func measurePeakRSS(_ commands: Commands, runner: ChildRunner, output: String) throws -> (berth: Int?, runc: Int?) {
        let peakRSS: PeakRSS
        do {
            peakRSS = try PeakRSS.locate(outputPath: output)
        } catch {
            FileHandle.standardError.write(Data("berth-bench: peak RSS not measured: \(error)\n".utf8))
            return (nil, nil)
        }
        var berth: [Int] = []
        var runc: [Int] = []
        for round in 0..<Self.rssRuns {
            berth.append(try peakRSS.measure(commands.berthArgv, runner: runner, what: "berth run (under time)"))
            runc.append(try commands.runc(round: "rss-\(round)", runner: runner) { argv in
                try peakRSS.measure(argv, runner: runner, what: "runc run (under time)")
            })
        }
        return (berth.max(), runc.max())
    }

    private func locateRunc() throws -> String {
        if let runc {
            guard access(runc, X_OK) == 0 else { throw BerthError(.notFound, "--runc \(runc): not an executable file") }
            return try Tool.resolve(runc, what: "runc binary")
        }
        do {
            return try Tool.find("runc")
        } catch {
            throw BerthError(.notFound, """
                runc is not installed (not in PATH, /usr/sbin or /sbin): the benchmark compares against it. \
                Install it with `apt-get install runc` (scripts/install-deps.sh does), or pass --runc PATH
                """)
        }
    }

    /// --rootfs, else what rootfs/build.sh prints as its last line (it rebuilds only on change).
    private func locateRootfs() throws -> String {
        if let rootfs { return try Tool.resolve(rootfs, what: "--rootfs") }
        return try Tool.packageScriptPath("rootfs/build.sh", packageRoot: packageRoot, what: "rootfs")
    }

    static func runcVersion(_ runc: String) -> String {
        guard let output = try? Tool.capture([runc, "--version"]),
              let first = output.split(separator: "\n").first else { return "unknown" }
        // "runc version 1.1.5+ds1"
        return first.split(separator: " ").last.map(String.init) ?? "unknown"
    }

    static func makeTemporaryDirectory() throws -> String {
        var template = Array("/tmp/berth-bench.XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.flatMap { mkdtemp($0) }
        }
        guard made != nil else { throw SystemError("create a temporary directory in /tmp", errno: errno) }
        return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The three commands under test, with absolute paths.
struct Commands {
    let berth: String
    let runcPath: String
    let rootfs: String
    let bundle: String
    let berthArgv: [String]
    let unshareArgv: [String]
    /// Unique per berth-bench process, so that a container left behind by an interrupted run
    /// cannot make a later one fail with "container exists".
    let idPrefix = "berth-bench-\(getpid())-"

    init(berth: String, berthArgs: [String], runc: String, unshare: String, rootfs: String, memory: String, bundle: String) {
        self.berth = berth
        self.runcPath = runc
        self.rootfs = rootfs
        self.bundle = bundle
        berthArgv = [berth, "run", "--rootfs", rootfs, "--memory", memory] + berthArgs + ["--", "/bin/true"]
        unshareArgv = [unshare, "--fork", "--pid", "--mount", "--uts", "--ipc", "--net", "--mount-proc", "/bin/true"]
    }

    /// Calls `body` with a `runc run` command line for a container of its own. A foreground run
    /// deletes its container when it ends; a failed one may not have, so delete it then.
    func runc<T>(round: String, runner: ChildRunner, _ body: ([String]) throws -> T) throws -> T {
        let id = idPrefix + round
        do {
            return try body([runcPath, "run", "--bundle", bundle, id])
        } catch {
            _ = try? runner.run([runcPath, "delete", "--force", id])
            throw error
        }
    }
}

extension ChildRunner {
    /// Runs `argv` and throws with its stderr unless it exits 0: a benchmark of failing runs
    /// would measure error paths.
    func runExpectingSuccess(_ argv: [String], what: String) throws -> ChildRun {
        let result = try run(argv)
        guard result.exitedCleanly else {
            let stderr = lastStderr()
            throw BerthError(.launch, """
                \(what) failed (\(result.statusDescription)): \(argv.joined(separator: " "))\
                \(stderr.isEmpty ? "" : "\n" + stderr)
                """)
        }
        return result
    }
}
