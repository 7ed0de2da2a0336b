import ArgumentParser
import BerthCore
import BerthImage
import BerthOCI
import Foundation
import Logging

/// `berth-bench image`: LayerUnpacker against `tar -xzf` and `umoci unpack` on the same image,
/// then `berth image pull` against `skopeo copy` from a loopback registry.
struct ImageUnpackBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Time unpacking (berth vs tar -xzf vs umoci unpack) and pulling (berth vs skopeo) of the same OCI image.",
        discussion: """
            Generates (once, in --work) an OCI layout of 5 gzip layers, about 200 MiB and 10,000 \
            files unpacked, with deterministic content. Then, round by round after untimed warm-up \
            rounds: berth (LayerUnpacker, in this process, over the 5 blobs into a fresh directory), \
            `tar -xzf` of the same blobs in order into a fresh directory (5 processes, times summed), \
            and `umoci unpack`, each into a new directory; `sync` runs before each step, outside \
            the timing. On disk the directories are kept until the end: ext4 searches longer for a \
            free inode right after many were deleted (recently_deleted), which would charge one \
            step for the deletions of the one before. With --tmpfs they go on a tmpfs mounted over \
            the output directory and are removed after each step. Prints key=value lines: medians, \
            min and max in ms and the ratios of the medians. Then the image is pushed to a \
            docker-registry on loopback and pulled --runs times into a fresh store by `berth image \
            pull` and into a fresh OCI layout by `skopeo copy`, and unpacked once per run by `berth \
            image unpack` (the CLI, end to end). Needs root (owners are restored, tmpfs is \
            mounted), umoci, docker-registry and skopeo, and the berth binary beside berth-bench.
            """)

    /// The target: berth at most this multiple of tar's time.
    static let goalRatio = 1.1

    @Option(help: ArgumentHelp("Work directory: the generated image is kept there for later runs (default: a temporary directory, removed at the end).", valueName: "dir"))
    var work: String?

    @Option(help: ArgumentHelp("Timed runs of each unpacker.", valueName: "n"))
    var runs: Int = 5

    @Option(help: ArgumentHelp("Untimed warm-up runs of each unpacker, first.", valueName: "n"))
    var warmup: Int = 1

    @Flag(help: "Time berth only (for profiling).")
    var berthOnly = false

    @Flag(help: "Skip the registry part (pull timings).")
    var skipPull = false

    @Flag(help: "Unpack onto a tmpfs instead of the work directory's file system.")
    var tmpfs = false

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        guard warmup >= 0 else { throw ValidationError("--warmup must be 0 or more") }
    }

    func run() throws {
        let workDirectory = try work.map { path in
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            return try Tool.resolve(path, what: "--work")
        } ?? RunBenchmark.makeTemporaryDirectory()
        defer { if work == nil { try? FileManager.default.removeItem(atPath: workDirectory) } }

        let fixture = UnpackImageFixture(layout: workDirectory + "/layout")
        if !fixture.isComplete {
            FileHandle.standardError.write(Data("berth-bench: generating the image in \(fixture.layout)\n".utf8))
            try fixture.create(scratch: workDirectory)
        }
        let layers = try fixture.layers()
        let tar = try Tool.find("tar")
        let umoci = try Tool.find("umoci")
        let runner = try ChildRunner(stderrPath: workDirectory + "/stderr")
        let outputs = OutputDirectories(base: workDirectory + "/out", tmpfs: tmpfs)
        try outputs.prepare()
        defer { outputs.removeAll() }

        var berthTimes: [Double] = [], tarTimes: [Double] = [], umociTimes: [Double] = []
        // CPU time (user + system, all threads and children): steadier than wall time on a shared host.
        var berthCPU: [Double] = [], tarCPU: [Double] = [], umociCPU: [Double] = []
        var report: UnpackReport?
        for round in 0..<(warmup + runs) {
            let timed = round >= warmup
            let berth = try timeBerth(layers, fixture: fixture, into: outputs.next("berth-\(round)"))
            report = berth.last
            if timed {
                berthTimes.append(berth.milliseconds)
                berthCPU.append(berth.cpuMilliseconds)
            }
            if berthOnly { continue }

            let tarOutput = try outputs.next("tar-\(round)")
            var tarNanoseconds: UInt64 = 0, tarCPUNanoseconds: UInt64 = 0
            for layer in layers {
                let tarRun = try runner.runExpectingSuccess([tar, "-xzf", fixture.blobPath(layer.digest), "-C", tarOutput], what: "tar -xzf")
                tarNanoseconds += tarRun.wallNanoseconds
                tarCPUNanoseconds += tarRun.cpuNanoseconds
            }
            if timed {
                tarTimes.append(Double(tarNanoseconds) / 1e6)
                tarCPU.append(Double(tarCPUNanoseconds) / 1e6)
            }

            // umoci wants to create its bundle directory itself.
            let bundle = try outputs.next("umoci-\(round)", create: false)
            let umociRun = try runner.runExpectingSuccess([umoci, "unpack", "--image", "\(fixture.layout):\(UnpackImageFixture.tag)", bundle], what: "umoci unpack")
            if timed {
                umociTimes.append(umociRun.wallMilliseconds)
                umociCPU.append(umociRun.cpuMilliseconds)
            }
        }

        var lines = Report()
        lines.add("benchmark", "image")
        lines.add("load_average", Tool.loadAverage())
        lines.add("runs", runs)
        lines.add("warmup_runs", warmup)
        lines.add("cpus", ProcessInfo.processInfo.activeProcessorCount)
        lines.add("layers", layers.count)
        lines.add("compressed_bytes", String(layers.reduce(0) { $0 + $1.size }))
        lines.add("entries_last_layer", report.map { String($0.entries) } ?? "unknown")
        lines.add("berth_build", Tool.buildConfiguration(of: ((try? Tool.executableDirectory()) ?? "") + "/berth-bench"))
        lines.add("target", tmpfs ? "tmpfs" : "disk")
        guard let berth = Summary(berthTimes) else { throw BerthError(.invalidState, "no timed runs") }
        lines.add("unpack_berth_ms", milliseconds: berth.median)
        lines.add("unpack_berth_min_ms", milliseconds: berth.min)
        lines.add("unpack_berth_max_ms", milliseconds: berth.max)
        if let cpu = Summary(berthCPU) { lines.add("unpack_berth_cpu_ms", milliseconds: cpu.median) }
        if let tarSummary = Summary(tarTimes), let umociSummary = Summary(umociTimes) {
            lines.add("unpack_tar_ms", milliseconds: tarSummary.median)
            lines.add("unpack_tar_min_ms", milliseconds: tarSummary.min)
            if let cpu = Summary(tarCPU) { lines.add("unpack_tar_cpu_ms", milliseconds: cpu.median) }
            lines.add("unpack_umoci_ms", milliseconds: umociSummary.median)
            lines.add("unpack_umoci_min_ms", milliseconds: umociSummary.min)
            if let cpu = Summary(umociCPU) { lines.add("unpack_umoci_cpu_ms", milliseconds: cpu.median) }
            let ratio = berth.median / tarSummary.median
            lines.add("ratio_tar", String(format: "%.3f", ratio))
            lines.add("ratio_umoci", String(format: "%.3f", berth.median / umociSummary.median))
            lines.add("goal_ratio_tar", String(Self.goalRatio))
            lines.add("goal_met", ratio <= Self.goalRatio ? "yes" : "no")
            lines.add("goal_ratio_umoci", "0.3")
            lines.add("goal_umoci_met", berth.median / umociSummary.median <= 0.3 ? "yes" : "no")
        }
        if !berthOnly && !skipPull {
            try ImagePullComparison(layout: fixture.layout, tag: UnpackImageFixture.tag, workDirectory: workDirectory,
                                    runner: runner, runs: runs).measure(into: &lines)
        }
        lines.print()
    }

    /// LayerUnpacker over every layer in order, timed on the monotonic clock.
    private func timeBerth(_ layers: [Descriptor], fixture: UnpackImageFixture, into output: String) throws -> (milliseconds: Double, cpuMilliseconds: Double, last: UnpackReport?) {
        let unpacker = LayerUnpacker(logger: Logger(label: "berth-bench.unpack"))
        let cpuStart = Self.processCPUNanoseconds()
        let start = ChildRunner.monotonicNanoseconds()
        var last: UnpackReport?
        for (index, layer) in layers.enumerated() {
            guard let compression = LayerCompression(mediaType: layer.mediaType) else {
                throw BerthError(.unsupported, "layer \(index + 1) has media type \(layer.mediaType), not a layer type")
            }
            last = try unpacker.apply(LayerSource(path: fixture.blobPath(layer.digest), compression: compression, imageName: "bench",
                                                  layerIndex: index, layerCount: layers.count, digest: layer.digest), to: output)
        }
        let wall = Double(ChildRunner.monotonicNanoseconds() - start) / 1e6
        return (wall, Double(Self.processCPUNanoseconds() - cpuStart) / 1e6, last)
    }

    /// User + system time of this process, all threads (the decompression thread included).
    private static func processCPUNanoseconds() -> UInt64 {
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        return ChildRunner.nanoseconds(usage.ru_utime) + ChildRunner.nanoseconds(usage.ru_stime)
    }
}

/// Where each timed step unpacks: a new directory per step, under `base`.
final class OutputDirectories {
    let base: String
    let tmpfs: Bool
    private var previous: String?

    init(base: String, tmpfs: Bool) {
        self.base = base
        self.tmpfs = tmpfs
    }

    func prepare() throws {
        removeAll()
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        if tmpfs { try Tool.capture(["mount", "-t", "tmpfs", "-o", "size=2g", "berth-bench", base]) }
    }

    /// A new directory for the next step (created unless `create` is false), after `sync` so
    /// that no step pays for the dirty pages of the one before.
    func next(_ name: String, create: Bool = true) throws -> String {
        // On tmpfs, deleting is cheap and has no after-effects; memory is what runs out there.
        if tmpfs, let previous { try? FileManager.default.removeItem(atPath: previous) }
        sync()
        let path = base + "/" + name
        if create { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false) }
        previous = path
        return path
    }

    func removeAll() {
        if tmpfs { _ = try? Tool.capture(["umount", base]) }
        try? FileManager.default.removeItem(atPath: base)
    }
}
