import BerthCgroups
import BerthCore
import BerthLinux
import FoundationEssentials
import Glibc

/// How a command run inside a running container ended (`ContainerExec.run`).
public struct ExecResult: Sendable, Equatable {
    /// Nil when it was killed at its timeout.
    public var status: ExitStatus?
    public var timedOut: Bool
    /// Its stdout and stderr together, at most the last `ContainerExec.outputLimit` bytes.
    public var output: String

    public var succeeded: Bool { status == .exited(0) }
}

/// Runs a command inside a running container, as `docker exec` and Mesos' command checks do:
/// in the container's cgroup and namespaces, as its user, with its capabilities, seccomp filter
/// and working directory; SIGKILL at the timeout.
public enum ContainerExec {
    public static let outputLimit = 4096

    /// `configuration` is the container's own (user, environment, working directory, rootfs);
    /// `argv` and `env` (added to the container's) are the command's. Blocking.
    public static func run(_ argv: [String], env: [String], container id: String, configuration: ContainerConfiguration, pid: Int32,
                           cgroups: any CgroupManager, timeout: Duration) throws -> ExecResult {
        guard let cgroup = try cgroups.open(name: "berth-\(id)") else {
            throw BerthError(.invalidState, "container \(id.prefix(12)) has no cgroup: it is not running")
        }
        // Against PID reuse: the recorded PID must still be one of the container's processes.
        guard try cgroup.processes().contains(pid) else {
            throw BerthError(.invalidState, "container \(id.prefix(12)) is not running (its process \(pid) is gone)")
        }
        var configuration = configuration
        // The image's files as the container sees them: its root may be mounted only there.
        configuration.rootfsView = "/proc/\(pid)/root"
        configuration.rootfsMount = nil
        configuration.command = argv
        configuration.env += env
        let pipe = try Launcher.pipe()
        var pipeFDs: [Int32] = [pipe.read, pipe.write]
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer {
            close(pipeFDs[0])
            if pipeFDs[1] >= 0 { close(pipeFDs[1]) }
            if null >= 0 { close(null) }
        }
        configuration.stdio = [null >= 0 ? null : nil, pipeFDs[1], pipeFDs[1]]
        let container = Container(id: id, configuration: configuration, cgroups: cgroups)
        let spec = try container.execSpec()
        let process = try Launcher.enter(spec, pid: pid, joinFiles: cgroup.selfJoinFiles)
        close(pipeFDs[1])
        pipeFDs[1] = -1
        let commandPID = process.commandPID()
        let deadline = ContinuousClock.now + timeout
        var output: [UInt8] = []
        var timedOut = false
        var exited = false
        var pipeOpen = true
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !exited {
            let left = ContinuousClock.now.duration(to: deadline)
            if left <= .zero {
                timedOut = true
                process.killAll(commandPID: commandPID)
                break
            }
            var fds = [pollfd(fd: pipeOpen ? pipeFDs[0] : -1, events: Int16(POLLIN), revents: 0), pollfd(fd: process.pidfd, events: Int16(POLLIN), revents: 0)]
            let milliseconds = Int32(clamping: left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)
            let ready = poll(&fds, 2, milliseconds)
            if ready < 0 && errno != EINTR { throw SystemError("wait for the command in the container", errno: errno) }
            if fds[0].revents != 0 {
                let n = read(pipeFDs[0], &buffer, buffer.count)
                if n > 0 { output = Array((output + buffer[0..<n]).suffix(outputLimit)) } else if n == 0 || errno != EINTR { pipeOpen = false }
            }
            if fds[1].revents != 0 { exited = true }
        }
        let status = try process.wait()
        // What the command wrote just before it ended, without waiting for a background child
        // that still holds the pipe.
        _ = fcntl(pipeFDs[0], F_SETFL, O_NONBLOCK)
        while true {
            let n = read(pipeFDs[0], &buffer, buffer.count)
            if n <= 0 { break }
            output = Array((output + buffer[0..<n]).suffix(outputLimit))
        }
        if !timedOut, let commandPID { kill(-commandPID, SIGKILL) }
        return ExecResult(status: timedOut ? nil : status, timedOut: timedOut,
                          output: String(String(decoding: output, as: UTF8.self).trimmingWhitespace))
    }
}

extension Container {
    /// The launch spec of a command run inside this container while it runs: its user,
    /// environment, capabilities and seccomp filter, in its working directory; no namespaces of
    /// its own (it enters the container's) and SIGKILL when the caller dies.
    func execSpec() throws -> LaunchSpec {
        let plan = try makePlan()
        var spec = try plan.launchSpec()
        spec.namespaces = []
        spec.parentDeathSignal = SIGKILL
        let workdir = try ContainerPlan.containerPath(configuration.workingDirectory, what: "working directory")
        spec.ops = [SetupOp(.chdir, label: "chdir \(workdir)", target: workdir, mode: 0o755)]
        return spec
    }
}
