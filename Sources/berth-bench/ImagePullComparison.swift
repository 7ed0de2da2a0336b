import BerthCore
import Foundation

/// The registry half of `berth-bench image`: the generated image is pushed once to a loopback
/// registry, then pulled into a fresh store by `berth image pull` and by `skopeo copy … oci:DIR`,
/// and unpacked through the CLI by `berth image unpack` (the same work as the library figure plus
/// process start, store lookup and diff ID checks).
struct ImagePullComparison {
    let layout: String
    let tag: String
    let workDirectory: String
    let runner: ChildRunner
    let runs: Int

    func measure(into report: inout Report) throws {
        let berth = try Tool.locateBerth(nil, needsFull: true)
        let skopeo = try Tool.find("skopeo")
        let registry = try BenchRegistry(directory: workDirectory + "/registry")
        defer { registry.stop() }
        let ref = "\(registry.host)/bench/image:1"
        _ = try runner.runExpectingSuccess([skopeo, "--insecure-policy", "copy", "--dest-tls-verify=false",
                                            "oci:\(layout):\(tag)", "docker://\(ref)"], what: "skopeo copy (push)")
        var berthPull: [Double] = [], skopeoPull: [Double] = [], berthUnpack: [Double] = []
        // Trees are removed only at the end: ext4 is slow to create files right after many were
        // deleted (see the unpack section of docs/benchmarks.md), which would charge the next run.
        let targets = "\(workDirectory)/pull-runs"
        try FileManager.default.createDirectory(atPath: targets, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: targets) }
        for round in 0..<runs {
            sync()
            let home = "\(targets)/home-\(round)"
            berthPull.append(try runner.runExpectingSuccess([berth, "image", "pull", "--home", home, ref], what: "berth image pull").wallMilliseconds)
            let target = "\(targets)/unpacked-\(round)"
            sync()
            berthUnpack.append(try runner.runExpectingSuccess([berth, "image", "unpack", "--home", home, ref, target],
                                                              what: "berth image unpack").wallMilliseconds)
            sync()
            let copy = "\(targets)/skopeo-\(round)"
            skopeoPull.append(try runner.runExpectingSuccess([skopeo, "--insecure-policy", "copy", "--src-tls-verify=false",
                                                              "docker://\(ref)", "oci:\(copy):1"], what: "skopeo copy (pull)").wallMilliseconds)
        }
        guard let pull = Summary(berthPull), let reference = Summary(skopeoPull), let unpack = Summary(berthUnpack) else { return }
        report.add("pull_berth_ms", milliseconds: pull.median)
        report.add("pull_skopeo_ms", milliseconds: reference.median)
        report.add("pull_ratio_skopeo", String(format: "%.3f", pull.median / reference.median))
        report.add("pull_goal_met", pull.median <= reference.median ? "yes" : "no")
        report.add("unpack_berth_cli_ms", milliseconds: unpack.median)
    }
}
