import BerthCore
import CBerthShim
import Glibc

/// A command started inside a running container (`Launcher.enter`): the process in between,
/// which exits with the command's status, and the command's own PID on the host.
public final class EnteredProcess: @unchecked Sendable {
    /// The process that joined the container and waits for the command.
    public let pid: Int32
    /// A pidfd of `pid`: pollable for its exit.
    public let pidfd: Int32
    private var errorFD: Int32
    private var pidFD: Int32
    private var reaped = false

    init(pid: Int32, pidfd: Int32, errorFD: Int32, pidFD: Int32) {
        self.pid = pid
        self.pidfd = pidfd
        self.errorFD = errorFD
        self.pidFD = pidFD
    }

    deinit {
        if !reaped {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
        }
        for fd in [errorFD, pidFD, pidfd] where fd >= 0 { close(fd) }
    }

    /// The command's PID on the host (it leads its own process group), once it was forked;
    /// nil when entering failed before.
    public func commandPID() -> Int32? {
        guard pidFD >= 0 else { return nil }
        defer { close(pidFD); pidFD = -1 }
        var value: Int32 = 0
        let n = withUnsafeMutableBytes(of: &value) { read(pidFD, $0.baseAddress, 4) }
        return n == 4 ? value : nil
    }

    /// SIGKILL to the command's process group and to the process in between.
    public func killAll(commandPID: Int32?) {
        if let commandPID, commandPID > 0 { kill(-commandPID, SIGKILL) }
        if !reaped { kill(pid, SIGKILL) }
    }

    /// Blocks until the process in between exits, reaps it and says how the command ended;
    /// a failure to enter the container is thrown with its step.
    public func wait() throws -> ExitStatus {
        let status = try SpawnedProcess.reap(pid)
        reaped = true
        if let failure = readFailure() { throw failure }
        // The process in between exits with 128+N for a command killed by signal N.
        switch ExitStatus(waitStatus: status) {
        case .exited(let code) where code > 128 && code < 128 + 65: return .signaled(code - 128)
        case let other: return other
        }
    }

    private func readFailure() -> LaunchFailure? {
        guard errorFD >= 0 else { return nil }
        defer { close(errorFD); errorFD = -1 }
        var report = berth_child_error()
        let size = MemoryLayout<berth_child_error>.size
        let got = withUnsafeMutableBytes(of: &report) { read(errorFD, $0.baseAddress, size) }
        guard got == size else { return nil }
        return LaunchFailure(report)
    }
}

extension Launcher {
    /// A close-on-exec pipe: (read end, write end).
    public static func pipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard berth_pipe_cloexec(&fds) == 0 else { throw SystemError("create a pipe", errno: errno) }
        return (fds[0], fds[1])
    }

    /// The namespaces a command joins in a running container, in the order they are entered:
    /// the mount namespace last, since entering it changes the root.
    public static let enteredNamespaces = ["cgroup", "ipc", "uts", "net", "pid", "mnt"]

    /// Starts `spec`'s command inside the running container whose first process is `pid`: in
    /// its cgroups (the middle process writes "0" into each of `joinFiles`, the cgroup's
    /// `selfJoinFiles`), namespaces and root directory, with `spec`'s user, capabilities,
    /// seccomp filter, environment and stdio; its ops (a chdir) run before the exec. No Swift
    /// code runs in the forked processes.
    public static func enter(_ spec: LaunchSpec, pid: Int32, joinFiles: [String]) throws -> EnteredProcess {
        guard let first = spec.argv.first, !first.isEmpty else {
            throw BerthError(.invalidArgument, "no command given to run in the container")
        }
        var opened: [Int32] = []
        defer { opened.forEach { close($0) } }
        var cgroupFDs: [Int32] = []
        for file in joinFiles {
            let fd = open(file, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { throw SystemError("open \(file)", errno: errno) }
            opened.append(fd)
            cgroupFDs.append(fd)
        }
        var namespaceFDs: [Int32] = []
        for name in enteredNamespaces {
            let path = "/proc/\(pid)/ns/\(name)"
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw SystemError("open \(path)", errno: errno) }
            opened.append(fd)
            namespaceFDs.append(fd)
        }
        let rootPath = "/proc/\(pid)/root"
        let rootFD = open(rootPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { throw SystemError("open \(rootPath)", errno: errno) }
        opened.append(rootFD)
        var errorFD: Int32 = -1
        var pidFD: Int32 = -1
        let (child, err) = try withConfiguration(spec, cgroupFD: -1) { config in
            cgroupFDs.withUnsafeBufferPointer { cgroups in
                namespaceFDs.withUnsafeBufferPointer { namespaces in
                    (berth_enter(&config, cgroups.baseAddress, cgroups.count, namespaces.baseAddress, namespaces.count, rootFD, &errorFD, &pidFD), errno)
                }
            }
        }
        guard child > 0 else { throw SystemError("fork a command into the container", errno: err) }
        return EnteredProcess(pid: child, pidfd: berth_pidfd_open(child), errorFD: errorFD, pidFD: pidFD)
    }
}
