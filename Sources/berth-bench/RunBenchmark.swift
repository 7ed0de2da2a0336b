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
        let berthPath = try locateBerth()
        let runcPath = try locateRunc()
        let unsharePath = try Tool.find("unshare")
        let rootfsPath = try locateRootfs()
        let memoryBytes = try ByteSize.parse(memory)

        let workDirectory = try Self.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: workDirectory) }
        let bundle = workDirectory + "/bundle"
        try FileManager.default.createDirectory(atPath: bundle, withIntermediateDirectories: false)
        try RuncBundle.create(in: bundle, runc: runcPath, rootfs: rootfsPath, command: ["/bin/true"], memoryBytes: memoryBytes)
        let runner = try ChildRunner(stderrPath: workDirectory + "/stderr")

        let berthArgv = [berthPath, "run", "--rootfs", rootfsPath, "--memory", memory] + berthArgs + ["--", "/bin/true"]
        let unshareArgv = [unsharePath, "--fork", "--pid", "--mount", "--uts", "--ipc", "--net", "--mount-proc", "/bin/true"]
        // Unique per process and round, so a container left behind by an interrupted run cannot
        // make the next one fail with "container exists".
        let idPrefix = "berth-bench-\(getpid())-"

        let loadBefore = Tool.loadAverage()
        var berthRuns: [ChildRun] = []
        var runcRuns: [ChildRun] = []
        var unshareRuns: [ChildRun] = []
        // Interleaved, so that a burst of load elsewhere on the host hits all three alike.
        for round in 0..<(warmup + runs) {
            let berthRun = try runner.runExpectingSuccess(berthArgv, what: "berth run")
            let id = idPrefix + String(round)
            let runcRun = try deletingOnFailure(runner, runc: runcPath, id: id) {
                try runner.runExpectingSuccess(runcArgv(runcPath, bundle: bundle, id: id), what: "runc run")
            }
            let unshareRun = try runner.runExpectingSuccess(unshareArgv, what: "unshare")
            guard round >= warmup else { continue }
            berthRuns.append(berthRun)
            runcRuns.append(runcRun)
            unshareRuns.append(unshareRun)
        }
        let loadAfter = Tool.loadAverage()

        var berthRSS: [Int] = []
        var runcRSS: [Int] = []
        do {
            let peakRSS = try PeakRSS.locate(outputPath: workDirectory + "/rss")
            for round in 0..<Self.rssRuns {
                berthRSS.append(try peakRSS.measure(berthArgv, runner: runner, what: "berth run (under time)"))
                let id = idPrefix + "rss-" + String(round)
                runcRSS.append(try deletingOnFailure(runner, runc: runcPath, id: id) {
                    try peakRSS.measure(runcArgv(runcPath, bundle: bundle, id: id), runner: runner, what: "runc run (under time)")
                })
            }
        } catch let error as BerthError where error.code == .notFound || error.code == .unsupported {
            FileHandle.standardError.write(Data("berth-bench: peak RSS not measured: \(error)\n".utf8))
        }

        // validate() guarantees runs >= 1, so every series has samples.
        guard let berthWall = Summary(berthRuns.map(\.wallMilliseconds)),
              let runcWall = Summary(runcRuns.map(\.wallMilliseconds)),
              let unshareWall = Summary(unshareRuns.map(\.wallMilliseconds)),
              let berthCPU = Summary(berthRuns.map(\.cpuMilliseconds)),
              let runcCPU = Summary(runcRuns.map(\.cpuMilliseconds))
        else { throw BerthError(.invalidState, "no timed runs") }

        var report = Report()
        report.add("benchmark", "run")
        report.add("runs", runs)
        report.add("warmup_runs", warmup)
        report.add("kernel", Tool.kernelRelease())
        report.add("cpus", ProcessInfo.processInfo.activeProcessorCount)
        report.add("loadavg_1m_before", loadBefore)
        report.add("loadavg_1m_after", loadAfter)
        report.add("rootfs", rootfsPath)
        report.add("memory_limit_bytes", String(memoryBytes))
        report.add("berth_binary", berthPath)
        report.add("berth_build", Tool.buildConfiguration(of: berthPath))
        report.add("berth_swift_stdlib", Tool.swiftStdlibLinkage(of: berthPath))
        report.add("berth_command", berthArgv.joined(separator: " "))
        report.add("runc_binary", runcPath)
        report.add("runc_version", Self.runcVersion(runcPath))
        report.add(series: "berth", berthWall)
        report.add("berth_cpu_median_ms", milliseconds: berthCPU.median)
        report.add("berth_peak_rss_kib", berthRSS.max().map(String.init) ?? "unavailable")
        report.add(series: "runc", runcWall)
        report.add("runc_cpu_median_ms", milliseconds: runcCPU.median)
        report.add("runc_peak_rss_kib", runcRSS.max().map(String.init) ?? "unavailable")
        report.add(series: "unshare", unshareWall)
        let ratio = berthWall.median / runcWall.median
        report.add("ratio_berth_to_runc", String(format: "%.3f", ratio))
        report.add("goal_ratio", String(Self.goalRatio))
        report.add("goal_met", ratio <= Self.goalRatio ? "yes" : "no")
        report.print()
    }

    /// A foreground `runc run` deletes its container when it ends; one that failed may not have.
    private func runcArgv(_ runc: String, bundle: String, id: String) -> [String] {
        [runc, "run", "--bundle", bundle, id]
    }

    private func deletingOnFailure<T>(_ runner: ChildRunner, runc: String, id: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            _ = try? runner.run([runc, "delete", "--force", id])
            throw error
        }
    }

    private func locateBerth() throws -> String {
        let path = try berth ?? Tool.executableDirectory() + "/berth"
        guard access(path, X_OK) == 0 else {
            if berth != nil { throw BerthError(.notFound, "--berth \(path): not an executable file") }
            throw BerthError(.notFound, """
                no berth beside berth-bench (\(path)): build it with `swift build -c release --product berth` \
                using the same scratch path, or pass --berth PATH
                """)
        }
        return try Tool.resolve(path, what: "berth binary")
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
        let root: String
        if let packageRoot {
            root = packageRoot
        } else {
            guard let found = Tool.packageRoot(above: try Tool.executableDirectory()) else {
                throw BerthError(.notFound, "no Package.swift above this executable: pass --package-root DIR or --rootfs DIR")
            }
            root = found
        }
        let script = root + "/rootfs/build.sh"
        guard access(script, X_OK) == 0 else {
            throw BerthError(.notFound, "\(script) is missing or not executable: pass --package-root DIR or --rootfs DIR")
        }
        let output = try Tool.capture([script])
        guard let last = output.split(separator: "\n").last(where: { !$0.allSatisfy(\.isWhitespace) }) else {
            throw BerthError(.invalidState, "\(script) printed no rootfs path")
        }
        return try Tool.resolve(String(last).trimmingWhitespace(), what: "rootfs from \(script)")
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
