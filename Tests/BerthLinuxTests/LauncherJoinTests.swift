import BerthCore
import BerthLinux
import Glibc
import Testing

/// The child joins its cgroup itself, before anything else (see `Launcher.spawn`); a write that
/// fails there is reported as that step. /dev/full stands in for a cgroup file refusing the
/// write (ENOSPC is also what a v1 cpuset without CPUs answers), so this needs no root.
struct LauncherJoinTests {
    @Test func aJoinThatFailsIsReportedAsTheStepWithTheFile() throws {
        var spec = LaunchSpec()
        spec.namespaces = []
        spec.argv = ["/bin/true"]
        let process = try Launcher.spawn(spec, joinFiles: ["/dev/null", "/dev/full"])
        #expect(!process.startedInCgroup)
        // The join comes before the child waits to be released, so it may have ended by now;
        // here it always has (waited for without reaping), and the release must not hide why.
        var info = siginfo_t()
        #expect(waitid(P_PID, id_t(process.pid), &info, WEXITED | WNOWAIT) == 0)
        try process.release()
        let failure = try #require(throws: LaunchFailure.self) { try process.awaitExec() }
        #expect(failure.step == "join the cgroup by writing to /dev/full", "\(failure)")
        #expect(failure.errno == ENOSPC)
        let status = try process.wait()
        #expect(status == .exited(125), "\(status)")
    }

    @Test func aJoinFileThatCannotBeOpenedStartsNothing() {
        var spec = LaunchSpec()
        spec.namespaces = []
        spec.argv = ["/bin/true"]
        #expect(throws: SystemError.self) { try Launcher.spawn(spec, joinFiles: ["/nonexistent/berth-x/tasks"]) }
    }
}
