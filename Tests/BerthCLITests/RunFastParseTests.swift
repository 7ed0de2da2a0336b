import ArgumentParser
@testable import berth_full
import BerthRunCLI
import BerthTestSupport
import Testing

/// `berth run`'s own reading of its arguments (RunOptions.parseFast) gives what ArgumentParser
/// gives, or leaves the line to it.
struct RunFastParseTests {
    static let taken: [[String]] = [
        ["--rootfs", "/r", "--", "/bin/true"],
        ["--rootfs", "/r", "--memory", "64m", "--", "/bin/true"],
        ["--rootfs=/r", "--cpus=0.5", "--pids", "20", "--", "sh", "-c", "echo hi"],
        ["--rootfs", "/r", "--network", "host", "--hostname", "box", "-e", "A=1", "--env", "B=2", "--env=C=3", "--", "env"],
        ["--rootfs", "/r", "-w", "/tmp", "-u", "1000:1000", "--read-only", "--cap-add", "NET_ADMIN", "--cap-drop", "ALL",
         "--cap-add", "CHOWN", "--seccomp", "unconfined", "--stop-timeout", "3", "--log-level", "debug", "--", "id"],
        ["busybox"],
        ["--pull", "never", "--insecure", "--entrypoint", "", "--home", "/h", "localhost:5000/app:1", "serve", "--port", "80"],
        ["--workdir", "/srv", "--user", "app", "alpine", "--", "ls", "-l"],
        ["--rootfs", "/r", "--", "--weird", "-x"],
        ["alpine", "--cpus", "2"],
        // Accepted by both; the run then says that no command was given.
        ["--rootfs", "/r", "--"],
    ]

    static let leftToArgumentParser: [[String]] = [
        ["--help"], ["-h"], ["--rootfs", "/r"], [],
        ["--cpus", "half", "busybox"], ["--cpus", "-1", "busybox"], ["--pull", "sometimes", "busybox"],
        ["--memory", "64m", "--memory", "32m", "busybox"], ["--workdir", "/a", "-w", "/b", "busybox"],
        ["--read-only", "--read-only", "busybox"], ["--insecure=true", "busybox"], ["-e=A=1", "busybox"],
        ["--env", "NOEQUALS", "busybox"], ["--unknown", "busybox"], ["-x", "busybox"], ["--rootfs"],
        ["--hostname", "--rootfs", "/r", "--", "true"], ["--version"],
    ]

    @Test(arguments: taken)
    func readsWhatArgumentParserReads(_ arguments: [String]) throws {
        let fast = try #require(RunOptions.parseFast(arguments[...]), "left to ArgumentParser: \(arguments)")
        let parsed = try RunCommand.parse(arguments)
        try parsed.validate()
        #expect(fast == parsed.options, "\(arguments)")
    }

    @Test(arguments: leftToArgumentParser)
    func leavesTheRestToArgumentParser(_ arguments: [String]) {
        #expect(RunOptions.parseFast(arguments[...]) == nil, "\(arguments)")
    }

    @Test(arguments: [
        (["--help"], true), (["-h"], true), (["--rootfs", "/r", "--help"], true), (["--env", "A=1", "-h", "busybox"], true),
        (["--read-only", "--help"], true), (["busybox", "ls", "-h"], false), (["--", "ls", "--help"], false),
        (["--rootfs", "/r", "--", "sh", "--help"], false), (["--hostname", "x", "alpine", "--help"], false),
    ])
    func helpIsForBerthOnlyAmongItsOptions(_ arguments: [String], _ asks: Bool) {
        #expect(RunOptions.asksForHelp(arguments[...]) == asks, "\(arguments)")
    }

    @Test func runHelpPrintsTheHelp() throws {
        let result = try Fixtures.berth(["run", "--rootfs", "/r", "--help"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("USAGE: berth run"), "\(result)")
    }
}
