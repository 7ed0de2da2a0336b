import BerthCore
import Foundation

/// Peak RSS of a command, measured through GNU time (`time -f %M`), which takes ru_maxrss from
/// wait4 of a child it forked itself.
///
/// Why not wait4 on our own child: posix_spawn clones with CLONE_VM, and at exec the kernel
/// records the high-water RSS of the mm being left, which is berth-bench's own (about 25 MiB),
/// into the child's maxrss. Every runtime would report at least that. A child forked by a small
/// process starts from that process's RSS instead: `time -f %M /bin/true` says about 1 MiB,
/// which is the error of this method. (BusyBox's `time` multiplies ru_maxrss by 4, so not that.)
struct PeakRSS {
    let timePath: String
    let outputPath: String

    /// GNU time in PATH; throws with what to install when it is missing.
    static func locate(outputPath: String) throws -> PeakRSS {
        guard let path = try? Tool.find("time") else {
            throw BerthError(.notFound, "GNU time is not installed (apt-get install time)")
        }
        // `time --version` prints "time (GNU Time) 1.9" on stdout.
        guard let version = try? Tool.capture([path, "--version"]), version.contains("GNU") else {
            throw BerthError(.unsupported, "\(path) is not GNU time (apt-get install time)")
        }
        return PeakRSS(timePath: path, outputPath: outputPath)
    }

    /// Runs `argv` under GNU time and returns its peak RSS in KiB.
    func measure(_ argv: [String], runner: ChildRunner, what: String) throws -> Int {
        _ = try runner.runExpectingSuccess([timePath, "-f", "%M", "-o", outputPath] + argv, what: what)
        let text = try String(contentsOfFile: outputPath, encoding: .utf8)
        guard let last = text.split(separator: "\n").last, let kib = Int(last.trimmingWhitespace()) else {
            throw BerthError(.invalidState, "GNU time wrote \"\(text.trimmingWhitespace())\" to \(outputPath), not a size in KiB")
        }
        return kib
    }
}
