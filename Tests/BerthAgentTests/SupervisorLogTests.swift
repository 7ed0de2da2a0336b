import BerthCore
import BerthTestSupport
import Foundation
import Testing

/// `berth-supervise --logs`: the pipes it copies into the sandbox, rotated by size, drained
/// before the exit is recorded. A shell as the supervisor's HELPER starts the "container" in the
/// background, writes its PID and exits, so no root is needed.
struct SupervisorLogTests {
    static var supervisor: String { TestHost.productsDirectory.appendingPathComponent("berth-supervise").path }

    static func temporaryDirectory() throws -> String {
        var template = Array("/tmp/berth-supervise-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw FixtureError("mkdtemp: errno \(errno)") }
        let base = String(cString: made)
        for directory in ["sandbox", "state"] { try FileManager.default.createDirectory(atPath: "\(base)/\(directory)", withIntermediateDirectories: true) }
        return base
    }

    static func run(_ base: String, maxBytes: Int, keep: Int, container: String) throws -> CommandResult {
        let helper = "/bin/sh -c '\(container)' & echo $! > \(base)/state/pid"
        return try Fixtures.run(supervisor, ["--logs", "\(base)/sandbox", String(maxBytes), String(keep), "\(base)/state", "/bin/sh", "-c", helper])
    }

    static func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "<missing>" }

    @Test func outputIsRotatedBySizeAndAllOfItIsThereWhenTheExitIsRecorded() throws {
        let base = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let result = try Self.run(base, maxBytes: 200, keep: 2,
                                  container: "i=0; while [ $i -lt 100 ]; do echo line$i; i=$((i+1)); done; echo err >&2; exit 3")
        #expect(result.status == 0, "\(result)")
        #expect(Self.read("\(base)/state/exit") == "768\n", "wait status of exit 3")
        let files = try FileManager.default.contentsOfDirectory(atPath: "\(base)/sandbox").sorted()
        #expect(files == ["stderr", "stdout", "stdout.1", "stdout.2"])
        for file in files {
            let size = try FileManager.default.attributesOfItem(atPath: "\(base)/sandbox/\(file)")[.size] as? Int ?? -1
            #expect(size <= 200, "\(file) is \(size) bytes")
        }
        // 690 bytes in all: the newest 490 are kept, in order across the files.
        let everything = (0..<100).map { "line\($0)\n" }.joined()
        let kept = ["stdout.2", "stdout.1", "stdout"].map { Self.read("\(base)/sandbox/\($0)") }.joined()
        #expect(kept == String(everything.suffix(490)))
        #expect(Self.read("\(base)/sandbox/stderr") == "err\n")
    }

    @Test func aLinkPlantedInTheSandboxIsNotWrittenThrough() throws {
        let base = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: base) }
        try Data("precious\n".utf8).write(to: URL(fileURLWithPath: "\(base)/outside"))
        // The task replaces its stdout with a link to a host file, then writes enough to rotate.
        let result = try Self.run(base, maxBytes: 50, keep: 1,
                                  container: "rm -f \(base)/sandbox/stdout; ln -s \(base)/outside \(base)/sandbox/stdout; i=0; while [ $i -lt 20 ]; do echo line$i; i=$((i+1)); done")
        #expect(result.status == 0, "\(result)")
        #expect(Self.read("\(base)/outside") == "precious\n")
        var info = stat()
        #expect(lstat("\(base)/sandbox/stdout", &info) == 0 && info.st_mode & S_IFMT == S_IFREG, "stdout is a regular file again")
    }
}

/// `berth-supervise DIR` with a launch plan on stdin, as the agent runs it. The plans that start
/// containers are exercised by the agent's end-to-end tests; here, what a bad plan does.
struct SupervisorPlanInputTests {
    @Test func aPlanItCannotReadStartsNothingAndSaysWhy() throws {
        let base = try SupervisorLogTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let garbage = "\(base)/plan"
        try Data("BSP2 this is not a plan".utf8).write(to: URL(fileURLWithPath: garbage))
        let result = try Fixtures.run("/bin/sh", ["-c", "exec \"$0\" \"$1\" < \"$2\"", SupervisorLogTests.supervisor, "\(base)/state", garbage])
        #expect(result.status == 125, "\(result)")
        #expect(result.stderr.contains("cannot start the container: the launch plan (23 bytes) cannot be read"), "\(result.stderr)")
        #expect(result.stderr.contains("same build"))
        #expect(!FileManager.default.fileExists(atPath: "\(base)/state/pid"))
        #expect(!FileManager.default.fileExists(atPath: "\(base)/state/exit"))
    }
}
