import Glibc

/// A child process for the real-kernel tests, started with posix_spawn. Not Foundation's Process:
/// inside the cgroup2 VM its run() stopped at "Could not create wakeup socket pair for CFSocket".
final class ChildProcess {
    let pid: pid_t
    private var input: Int32?
    private(set) var waitStatus: Int32?

    /// Starts `arguments[0]` with stdout and stderr to /dev/null, and stdin from a pipe when `withInput`.
    init(_ arguments: [String], withInput: Bool = false) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var pipeEnds: [Int32] = [-1, -1]
        if withInput {
            guard pipe(&pipeEnds) == 0 else { throw ChildError("pipe", errno) }
            // Close-on-exec, so children spawned by tests running alongside do not hold the write end.
            for end in pipeEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
            posix_spawn_file_actions_adddup2(&actions, pipeEnds[0], 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)

        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for arg in argv { free(arg) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, arguments[0], &actions, nil, argv, environ)
        if withInput { close(pipeEnds[0]) }
        guard result == 0 else {
            if withInput { close(pipeEnds[1]) }
            throw ChildError("posix_spawn \(arguments[0])", result)
        }
        self.pid = pid
        self.input = withInput ? pipeEnds[1] : nil
    }

    deinit {
        if let input { close(input) }
        if waitStatus == nil {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }

    func send(_ line: String) throws {
        guard let input else { throw ChildError("send: no stdin pipe", EBADF) }
        let bytes = Array((line + "\n").utf8)
        guard bytes.withUnsafeBytes({ write(input, $0.baseAddress, $0.count) }) == bytes.count else { throw ChildError("write to child", errno) }
    }

    /// Reaps the child when it has exited within `seconds`; false when it is still running.
    @discardableResult
    func wait(seconds: Double) -> Bool {
        if waitStatus != nil { return true }
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        repeat {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                waitStatus = status
                return true
            }
            usleep(20_000)
        } while ContinuousClock.now < deadline
        return false
    }

    /// The signal that ended the child (after `wait`), nil when it exited normally or still runs.
    var terminatingSignal: Int32? {
        guard let waitStatus, waitStatus & 0x7f != 0 else { return nil }
        return waitStatus & 0x7f
    }
}

struct ChildError: Error, CustomStringConvertible {
    let description: String
    init(_ step: String, _ code: Int32) { description = "\(step): errno \(code)" }
}
