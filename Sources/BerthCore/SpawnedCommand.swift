import FoundationEssentials
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The output of a finished command.
public struct CommandResult: Sendable, CustomStringConvertible {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }

    /// `key=value` lines of stdout, as the probe prints them.
    public var values: [String: String] {
        var result: [String: String] = [:]
        for line in stdout.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            result[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        return result
    }

    public var description: String { "status \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
}


/// A child process started with posix_spawn, its stdout and stderr captured through pipes.
/// Not Foundation's Process: inside the cgroup2 VM its run() hangs at "Could not create wakeup
/// socket pair for CFSocket".
public final class SpawnedCommand {
    public let pid: pid_t
    private static let spawnLock = Mutex(())
    private var stdoutFD: Int32
    private var stderrFD: Int32
    private var stdout = Data()
    private var stderr = Data()
    private var status: Int32?

    public init(_ arguments: [String], stdin: String? = nil) throws {
        // Serialized with other spawns of this kind so none inherits another's pipe ends before
        // they are marked close-on-exec (Glibc's module map has no pipe2).
        let (pid, stdoutFD, stderrFD, stdinFD) = try Self.spawnLock.withLock { _ in try Self.spawn(arguments) }
        self.pid = pid
        self.stdoutFD = stdoutFD
        self.stderrFD = stderrFD
        if let stdin {
            let bytes = Array(stdin.utf8)
            _ = bytes.withUnsafeBytes { write(stdinFD, $0.baseAddress, $0.count) }
        }
        close(stdinFD)
    }

    /// Starts the command with pipes on its stdin, stdout and stderr; returns its PID and this
    /// side's ends of the pipes.
    private static func spawn(_ arguments: [String]) throws -> (pid: pid_t, stdout: Int32, stderr: Int32, stdin: Int32) {
        var outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1], inPipe: [Int32] = [-1, -1]
        guard pipe(&outPipe) == 0, pipe(&errPipe) == 0, pipe(&inPipe) == 0 else {
            throw SystemError("pipe", errno: errno)
        }
        for fd in outPipe + errPipe + inPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, arguments[0], &actions, nil, argv, environ)
        close(outPipe[1]); close(errPipe[1]); close(inPipe[0])
        guard result == 0 else {
            close(outPipe[0]); close(errPipe[0]); close(inPipe[1])
            throw BerthError(.notFound, "run \(arguments[0]): \(Errno.name(result)) (\(Errno.message(result)))", underlying: SystemError("posix_spawn \(arguments[0])", errno: result))
        }
        return (pid, outPipe[0], errPipe[0], inPipe[1])
    }

    deinit {
        if stdoutFD >= 0 { close(stdoutFD) }
        if stderrFD >= 0 { close(stderrFD) }
        if status == nil {
            kill(pid, SIGKILL)
            var st: Int32 = 0
            waitpid(pid, &st, 0)
        }
    }

    /// What stdout has carried so far (read by `waitForOutput`).
    public var outputSoFar: String { String(decoding: stdout, as: UTF8.self) }

    /// Reads output until stdout contains `text` or both pipes close.
    public func waitForOutput(_ text: String) {
        while !String(decoding: stdout, as: UTF8.self).contains(text), pump(timeoutMilliseconds: -1) {}
    }

    /// Reads what is available; false once both pipes are closed.
    @discardableResult
    private func pump(timeoutMilliseconds: Int32) -> Bool {
        var fds: [pollfd] = []
        if stdoutFD >= 0 { fds.append(pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)) }
        if stderrFD >= 0 { fds.append(pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0)) }
        if fds.isEmpty { return false }
        let ready = poll(&fds, nfds_t(fds.count), timeoutMilliseconds)
        if ready < 0 && errno == EINTR { return true }
        if ready <= 0 { return true }
        var buffer = [UInt8](repeating: 0, count: 65536)
        for entry in fds where entry.revents != 0 {
            let n = read(entry.fd, &buffer, buffer.count)
            if n > 0 {
                if entry.fd == stdoutFD { stdout.append(contentsOf: buffer[0..<n]) } else { stderr.append(contentsOf: buffer[0..<n]) }
            } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                close(entry.fd)
                if entry.fd == stdoutFD { stdoutFD = -1 } else { stderrFD = -1 }
            }
        }
        return true
    }

    /// Reads all output, waits for the exit and returns both.
    public func finish() throws -> CommandResult {
        while pump(timeoutMilliseconds: -1) {}
        var st: Int32 = 0
        while waitpid(pid, &st, 0) < 0 {
            guard errno == EINTR else { throw SystemError("waitpid", errno: errno) }
        }
        status = st
        let code = st & 0x7f == 0 ? (st >> 8) & 0xff : 128 + (st & 0x7f)
        return CommandResult(status: code, stdout: String(decoding: stdout, as: UTF8.self),
                             stderr: String(decoding: stderr, as: UTF8.self))
    }
}

extension SpawnedCommand {
    /// Runs a program to completion and captures its output.
    public static func run(_ executable: String, _ arguments: [String], stdin: String? = nil) throws -> CommandResult {
        try SpawnedCommand([executable] + arguments, stdin: stdin).finish()
    }
}
