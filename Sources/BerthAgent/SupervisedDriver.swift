import BerthCgroups
import BerthCore
import BerthLinux
import BerthRuntime
import Dispatch
import Foundation
import Glibc
import Logging

/// Where the supervisor is (docs/agent.md).
public struct Supervision: Sendable {
    /// The `berth-supervise` executable.
    public var supervisor: String

    public init(supervisor: String) {
        self.supervisor = supervisor
    }

    /// `berth-supervise` beside the running executable; nil when there is none.
    public static func besideExecutable() -> Supervision? {
        guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        let supervisor = (executable as NSString).deletingLastPathComponent + "/berth-supervise"
        guard FileManager.default.isExecutableFile(atPath: supervisor) else { return nil }
        return Supervision(supervisor: supervisor)
    }
}

/// The container's configuration, as JSON in its supervisor's directory: what a command run in
/// the container (a health check) is set up from, also by an agent that adopted it. Only what the
/// agent sets is carried.
public struct SupervisedLaunch: Codable, Sendable {
    public struct Mount: Codable, Sendable {
        var source: String
        var destination: String
        var readOnly: Bool
    }

    var id: String
    var rootfs: String
    var command: [String]
    var env: [String]
    var workingDirectory: String
    var user: String?
    var hostname: String?
    var network: String
    var cpus: Double?
    var memoryBytes: Int64?
    var pids: Int?
    var bindMounts: [Mount]
    /// The supervisor's PID and start time ("PID START"), so a restarted agent finds it again.
    /// Directories made by earlier versions have it in a `supervisor` file beside this one.
    var supervisor: String?

    init(id: String, configuration: ContainerConfiguration) {
        self.id = id
        rootfs = configuration.rootfs
        command = configuration.command
        env = configuration.env
        workingDirectory = configuration.workingDirectory
        user = configuration.user
        hostname = configuration.hostname
        network = configuration.network.rawValue
        cpus = configuration.limits.cpus
        memoryBytes = configuration.limits.memoryBytes
        pids = configuration.limits.pids
        bindMounts = configuration.bindMounts.map { Mount(source: $0.source, destination: $0.destination, readOnly: $0.readOnly) }
    }

    var configuration: ContainerConfiguration {
        var configuration = ContainerConfiguration(rootfs: rootfs, command: command)
        configuration.env = env
        configuration.workingDirectory = workingDirectory
        configuration.user = user
        configuration.hostname = hostname
        configuration.network = ContainerConfiguration.Network(rawValue: network) ?? .none
        configuration.limits = CgroupLimits(cpus: cpus, memoryBytes: memoryBytes, pids: pids)
        configuration.bindMounts = bindMounts.map { BindMount(source: $0.source, destination: $0.destination, readOnly: $0.readOnly) }
        return configuration
    }

    static func file(in directory: String) -> String { directory + "/launch.json" }

    /// The record in a supervised container's directory.
    static func read(in directory: String) throws -> SupervisedLaunch {
        try JSONDecoder().decode(SupervisedLaunch.self, from: Data(contentsOf: URL(fileURLWithPath: file(in: directory))))
    }

    /// A launch failure as one line a person can act on.
    static func describe(_ error: any Error) -> String {
        guard let failure = error as? LaunchFailure else { return "\(error)" }
        switch failure.exitStatus {
        case 127: return "\(failure.step): not found in the container (\(Errno.name(failure.errno)))"
        case 126: return "\(failure.step): not executable (\(Errno.name(failure.errno)))"
        default: return "container setup step \(failure.step) failed with \(Errno.name(failure.errno))"
        }
    }
}

/// Containers under a `berth-supervise` each: they outlive the agent, and a restarted agent
/// adopts them again from `<runtime directory>/containers/<id>`.
struct SupervisedDriver: ContainerDriver {
    let supervision: Supervision
    let directory: String
    /// Where agents before the runtime directory kept their containers (`<home>/agent/containers`):
    /// those still running are adopted from there.
    let legacyDirectory: String?
    let cgroups: any CgroupManager
    /// Done by the supervisor, which copies the container's output from pipes into the sandbox.
    let logRotation: AgentConfiguration.LogRotation?
    let logger: Logger

    var containersOutliveAgent: Bool { true }

    func start(id: String, configuration: ContainerConfiguration, sandbox: String) throws -> any TaskContainer {
        let dir = "\(directory)/\(id)"
        // The plan, the state files and the cgroup are made here; the supervisor only clones and
        // releases the container (no Swift program exec'd per container).
        let container = Container(id: id, configuration: configuration, cgroups: cgroups, logger: logger)
        let supervisorPID: Int32
        do {
            try Directories.create(dir)
            var plan = try container.prepareSupervisorPlan()
            // The supervisor gets the detached rootfs mount as its descriptor 3 (spawnSupervisor).
            plan.spec.ops = plan.spec.ops.map { op in
                op.kind == .moveMount ? .moveMount(op.label, descriptor: Self.rootfsMountDescriptor, target: op.target ?? "") : op
            }
            supervisorPID = try startSupervisor(directory: dir, launch: SupervisedLaunch(id: id, configuration: configuration),
                                                plan: try plan.encoded(), rootfsMount: configuration.rootfsMount,
                                                rootfsLock: configuration.rootfsLock, stdio: configuration.stdio, sandbox: sandbox)
        } catch {
            container.remove()
            try? FileManager.default.removeItem(atPath: dir)
            throw error
        }
        return SupervisedContainer(id: id, directory: dir, supervisorPID: supervisorPID, isChild: true, cgroups: cgroups,
                                   memoryLimit: configuration.limits.memoryBytes, logger: logger)
    }

    /// Starts the supervisor with the plan on its stdin, a socket it answers on once the
    /// container runs or could not start (see Sources/berth-supervise/main.c), and records it
    /// with the container's configuration in `launch.json`. Its PID.
    private func startSupervisor(directory dir: String, launch: SupervisedLaunch, plan: [UInt8], rootfsMount: Int32?, rootfsLock: Int32?,
                                 stdio: [Int32?], sandbox: String) throws -> Int32 {
        var ends: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &ends) == 0 else {
            throw SystemError("socketpair for the container's supervisor", errno: errno)
        }
        let socket = ends[0]
        defer { close(socket) }
        let pid: Int32
        do {
            defer { close(ends[1]) }
            pid = try spawnSupervisor(directory: dir, stdin: ends[1], rootfsMount: rootfsMount, rootfsLock: rootfsLock, stdio: stdio,
                                      sandbox: sandbox)
        }
        let startTime = Pidfd.startTime(of: pid) ?? 0
        var answer = ""
        do {
            // Complete before the container can start: the plan is sent only after it. One file
            // with the configuration (one inode fewer per container to make and remove). Not
            // synced: only an agent restart must find it (a reboot ends the container too), and
            // a sync is milliseconds of waiting per launch.
            var launch = launch
            launch.supervisor = "\(pid) \(startTime)"
            try FileSystem.write(try JSONEncoder().encode(launch), to: SupervisedLaunch.file(in: dir), mode: 0o600, durably: false)
            try Self.sendPlan(plan, to: socket)
            answer = try Self.readAnswer(from: socket, timeout: .seconds(120))
        } catch {
            kill(-pid, SIGKILL)
            _ = waitpid(pid, nil, 0)
            throw error
        }
        let fields = answer.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
        if fields.first == "pid", fields.count == 2, Int32(fields[1]) != nil { return pid }
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
        if fields.first == "step", fields.count == 4, let hint = Int32(fields[1]), let err = Int32(fields[2]) {
            throw LaunchFailure(step: String(fields[3]), errno: err, exitStatus: hint)
        }
        if fields.first == "error", answer.count > 6 { throw BerthError(.launch, String(answer.dropFirst(6))) }
        throw BerthError(.launch, "the container's supervisor exited with wait status \(status) before the container started")
    }

    private static func sendPlan(_ bytes: [UInt8], to socket: Int32) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                raw.baseAddress.map { Glibc.send(socket, $0 + sent, raw.count - sent, Int32(MSG_NOSIGNAL)) } ?? 0
            }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw SystemError("send the launch plan to the container's supervisor", errno: errno) }
            sent += n
        }
        shutdown(socket, Int32(SHUT_WR))
    }

    /// The supervisor's one-line answer; empty when it closed the socket without one.
    private static func readAnswer(from socket: Int32, timeout: Duration) throws -> String {
        let deadline = ContinuousClock.now + timeout
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1024)
        while true {
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else { throw BerthError(.launch, "the container did not start within \(timeout)") }
            var fds = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let ready = poll(&fds, 1, Int32(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000) + 1)
            if ready < 0 && errno == EINTR { continue }
            guard ready >= 0 else { throw SystemError("wait for the container's supervisor", errno: errno) }
            if ready == 0 { continue }
            let n = buffer.withUnsafeMutableBytes { raw in raw.baseAddress.map { read(socket, $0, raw.count) } ?? 0 }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            bytes += buffer[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The container of a previous agent run: its supervisor still running (same PID and start
    /// time), or gone after writing the exit status. Nil when neither: the container is lost.
    func adopt(id: String, memoryLimit: Int64?) -> (any TaskContainer)? {
        let candidates = [directory, legacyDirectory].compactMap { $0.map { "\($0)/\(id)" } }
        guard let dir = candidates.first(where: { access($0, F_OK) == 0 }) else { return nil }
        // Earlier versions kept the record in a file of its own.
        guard let record = (try? SupervisedLaunch.read(in: dir))?.supervisor
            ?? (try? String(contentsOfFile: dir + "/supervisor", encoding: .utf8)) else { return nil }
        let fields = record.split(whereSeparator: \.isWhitespace)
        guard fields.count == 2, let pid = Int32(fields[0]), let startTime = UInt64(fields[1]) else { return nil }
        let container = SupervisedContainer(id: id, directory: dir, supervisorPID: pid, isChild: false, cgroups: cgroups,
                                            memoryLimit: memoryLimit, logger: logger)
        if container.recordedExit() != nil { return container }
        guard Pidfd.startTime(of: pid) == startTime else { return nil }
        return container
    }

    /// The supervisor's descriptor for the detached rootfs mount (berth-supervise's main.c).
    static let rootfsMountDescriptor: Int32 = 3
    /// The supervisor's copy of the rootfs directory's lock, open for as long as it runs.
    static let rootfsLockDescriptor: Int32 = 4

    /// posix_spawn: no Swift code runs in the child (the supervisor starts its own session).
    /// Default signal handling, `stdin` (the plan's socket) as its stdin, the task's sandbox files
    /// as stdout and stderr (with rotation the container gets pipes instead; the supervisor's own
    /// messages still go to these).
    private func spawnSupervisor(directory: String, stdin: Int32, rootfsMount: Int32?, rootfsLock: Int32?, stdio: [Int32?],
                                 sandbox: String) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        for (target, source) in stdio.enumerated().dropFirst() {
            if let source { posix_spawn_file_actions_adddup2(&actions, source, Int32(target)) }
        }
        // Copies numbered above 4 first: either may be 3 or 4 in this process, which the other's
        // dup2 would replace.
        var copies: [Int32] = []
        defer { for copy in copies { close(copy) } }
        for (source, target) in [(rootfsMount, Self.rootfsMountDescriptor), (rootfsLock, Self.rootfsLockDescriptor)] {
            guard let source else { continue }
            let copy = fcntl(source, F_DUPFD_CLOEXEC, 5)
            guard copy >= 0 else { throw SystemError("copy descriptor \(source) for the container's supervisor", errno: errno) }
            copies.append(copy)
            posix_spawn_file_actions_adddup2(&actions, copy, target)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let logs = logRotation.map { ["--logs", sandbox, String($0.maxSize), String($0.keep)] } ?? []
        let arguments = [supervision.supervisor] + logs + [directory]
        var argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, supervision.supervisor, &actions, &attributes, &argv, environ)
        guard result == 0 else { throw SystemError("spawn \(supervision.supervisor)", errno: result) }
        return pid
    }
}

/// A container known through its supervisor's directory and its cgroup. Calls may come from
/// any thread; the cgroup is opened again for each, as it may be gone.
final class SupervisedContainer: TaskContainer, @unchecked Sendable {
    let id: String
    let directory: String
    let supervisorPID: Int32
    /// Started by this agent process (which must reap it), rather than adopted.
    let isChild: Bool
    private let cgroups: any CgroupManager
    private let memoryLimit: Int64?
    private let logger: Logger
    private static let queue = DispatchQueue(label: "berth.agent.supervisors")

    init(id: String, directory: String, supervisorPID: Int32, isChild: Bool, cgroups: any CgroupManager, memoryLimit: Int64?, logger: Logger) {
        self.id = id
        self.directory = directory
        self.supervisorPID = supervisorPID
        self.isChild = isChild
        self.cgroups = cgroups
        self.memoryLimit = memoryLimit
        self.logger = logger
    }

    private var cgroup: (any Cgroup)? { try? cgroups.open(name: "berth-\(id)") }

    /// The wait status the supervisor wrote, decoded.
    func recordedExit() -> ExitStatus? {
        guard let text = try? String(contentsOfFile: directory + "/exit", encoding: .utf8),
              let status = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { return nil }
        return ExitStatus(waitStatus: status)
    }

    func exit() async -> ContainerExit {
        if recordedExit() == nil, let fd = try? Pidfd.open(supervisorPID) {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: Self.queue)
                source.setEventHandler {
                    source.cancel()
                }
                source.setCancelHandler {
                    close(fd)
                    continuation.resume()
                }
                source.resume()
            }
        }
        if isChild {
            var status: Int32 = 0
            _ = waitpid(supervisorPID, &status, 0)
        }
        let oomKills = (try? cgroup?.oomKillCount()) ?? 0
        guard let status = recordedExit() else {
            logger.warning("the supervisor of container \(id.prefix(12)) ended without recording the exit status")
            return ContainerExit(status: .signaled(SIGKILL), oomKilled: oomKills > 0, memoryLimit: memoryLimit)
        }
        return ContainerExit(status: status, oomKilled: oomKills > 0, memoryLimit: memoryLimit)
    }

    func signalAll(_ signal: Int32) {
        for pid in (try? cgroup?.processes()) ?? [] { kill(pid, signal) }
    }

    func killAll() {
        do { try cgroup?.killAll() } catch { logger.warning("kill container \(id.prefix(12)): \(error)") }
    }

    func remove() {
        if let cgroup {
            do { try cgroup.destroy() } catch { logger.warning("remove the cgroup of container \(id.prefix(12)): \(error)") }
        }
        Container.removeLegacyState(of: id)
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The container's configuration and PID come from its directory, so an adopted container
    /// is entered the same way.
    func exec(_ argv: [String], env: [String], timeout: Duration) throws -> ExecResult {
        guard let text = try? String(contentsOfFile: directory + "/pid", encoding: .utf8),
              let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw BerthError(.invalidState, "container \(id.prefix(12)) has no recorded PID in \(directory)")
        }
        let launch = try SupervisedLaunch.read(in: directory)
        return try ContainerExec.run(argv, env: env, container: id, configuration: launch.configuration, pid: pid, cgroups: cgroups, timeout: timeout)
    }
}
