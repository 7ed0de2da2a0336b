import BerthCgroups
import BerthCore
import BerthLinux
import BerthRuntime
import Dispatch
import Foundation
import Glibc
import Logging

/// Where the supervisor and the helper that starts a container are (docs/agent.md).
public struct Supervision: Sendable {
    /// The `berth-supervise` executable.
    public var supervisor: String
    /// The command that starts the container from a directory given as its last argument:
    /// `[berth, "container-start"]`.
    public var helper: [String]

    public init(supervisor: String, helper: [String]) {
        self.supervisor = supervisor
        self.helper = helper
    }

    /// `berth-supervise` beside the running executable, and that executable as the helper; nil
    /// when there is no supervisor to use.
    public static func besideExecutable() -> Supervision? {
        guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        let supervisor = (executable as NSString).deletingLastPathComponent + "/berth-supervise"
        guard FileManager.default.isExecutableFile(atPath: supervisor) else { return nil }
        return Supervision(supervisor: supervisor, helper: [executable, "container-start"])
    }
}

/// What the helper needs to start one container, as JSON in its supervisor's directory. Only
/// what the agent sets is carried; stdio is inherited from the supervisor (the sandbox files, or
/// the pipes it copies into them with rotation).
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
    /// The agent's cgroup layout: the helper runs in the agent's cgroup (through the supervisor),
    /// so it is the layout it would detect, without reading a mountinfo that holds a line per
    /// running container.
    var cgroupLayout: CgroupLayout

    init(id: String, configuration: ContainerConfiguration, cgroupLayout: CgroupLayout) {
        self.id = id
        self.cgroupLayout = cgroupLayout
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
    static func errorFile(in directory: String) -> String { directory + "/launch-error" }

    /// The helper's whole job (`berth container-start DIR`): start the container, write its PID
    /// and leave it running. Its exit makes the supervisor the container's parent. A failure is
    /// written to DIR/launch-error for the agent, in the words of a status message.
    public static func startContainer(directory: String, logger: Logger) throws {
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: file(in: directory)))
            let launch = try JSONDecoder().decode(SupervisedLaunch.self, from: data)
            let container = Container(id: launch.id, configuration: launch.configuration,
                                      cgroups: Cgroups.manager(for: launch.cgroupLayout, logger: logger), logger: logger)
            try container.start()
            guard let pid = container.pid else { throw BerthError(.invalidState, "the container has no process after its start") }
            try AgentStore.writeDurably(Data("\(pid)\n".utf8), to: directory + "/pid")
        } catch {
            try? AgentStore.writeDurably(Data(describe(error).utf8), to: errorFile(in: directory))
            throw error
        }
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
/// adopts them again from `<home>/agent/containers/<id>`.
struct SupervisedDriver: ContainerDriver {
    let supervision: Supervision
    let directory: String
    let cgroups: any CgroupManager
    /// Done by the supervisor, which copies the container's output from pipes into the sandbox.
    let logRotation: AgentConfiguration.LogRotation?
    let logger: Logger

    var containersOutliveAgent: Bool { true }

    func start(id: String, configuration: ContainerConfiguration, sandbox: String) throws -> any TaskContainer {
        let dir = "\(directory)/\(id)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try AgentStore.writeDurably(try JSONEncoder().encode(SupervisedLaunch(id: id, configuration: configuration, cgroupLayout: cgroups.layout)), to: SupervisedLaunch.file(in: dir))
        let pid = try spawnSupervisor(directory: dir, stdio: configuration.stdio, sandbox: sandbox)
        let startTime = Pidfd.startTime(of: pid) ?? 0
        try AgentStore.writeDurably(Data("\(pid) \(startTime)\n".utf8), to: dir + "/supervisor")
        // Started when the helper has written the PID; failed when the supervisor exits first.
        let deadline = ContinuousClock.now + .seconds(120)
        while !FileManager.default.fileExists(atPath: dir + "/pid") {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                let why = (try? String(contentsOfFile: SupervisedLaunch.errorFile(in: dir), encoding: .utf8))
                    ?? "the container's supervisor exited with wait status \(status) before the container started"
                try? FileManager.default.removeItem(atPath: dir)
                throw BerthError(.launch, why)
            }
            guard ContinuousClock.now < deadline else {
                kill(-pid, SIGKILL)
                throw BerthError(.launch, "the container did not start within 120 s")
            }
            usleep(2_000)
        }
        return SupervisedContainer(id: id, directory: dir, supervisorPID: pid, isChild: true, cgroups: cgroups,
                                   memoryLimit: configuration.limits.memoryBytes, logger: logger)
    }

    /// The container of a previous agent run: its supervisor still running (same PID and start
    /// time), or gone after writing the exit status. Nil when neither: the container is lost.
    func adopt(id: String, memoryLimit: Int64?) -> (any TaskContainer)? {
        let dir = "\(directory)/\(id)"
        guard let record = try? String(contentsOfFile: dir + "/supervisor", encoding: .utf8) else { return nil }
        let fields = record.split(whereSeparator: \.isWhitespace)
        guard fields.count == 2, let pid = Int32(fields[0]), let startTime = UInt64(fields[1]) else { return nil }
        let container = SupervisedContainer(id: id, directory: dir, supervisorPID: pid, isChild: false, cgroups: cgroups,
                                            memoryLimit: memoryLimit, logger: logger)
        if container.recordedExit() != nil { return container }
        guard Pidfd.startTime(of: pid) == startTime else { return nil }
        return container
    }

    /// posix_spawn: no Swift code runs in the child (the supervisor starts its own session).
    /// Default signal handling, the task's sandbox files as stdout and stderr (with rotation the
    /// container gets pipes instead; the supervisor's own messages still go to these).
    private func spawnSupervisor(directory: String, stdio: [Int32?], sandbox: String) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        for (target, source) in stdio.enumerated().dropFirst() {
            if let source { posix_spawn_file_actions_adddup2(&actions, source, Int32(target)) }
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
        let arguments = [supervision.supervisor] + logs + [directory] + supervision.helper + [directory]
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
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
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
        try? FileManager.default.removeItem(atPath: "\(Container.defaultStateRoot)/\(id)")
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The container's configuration and PID come from its directory, so an adopted container
    /// is entered the same way.
    func exec(_ argv: [String], env: [String], timeout: Duration) throws -> ExecResult {
        guard let text = try? String(contentsOfFile: directory + "/pid", encoding: .utf8),
              let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw BerthError(.invalidState, "container \(id.prefix(12)) has no recorded PID in \(directory)")
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: SupervisedLaunch.file(in: directory)))
        let launch = try JSONDecoder().decode(SupervisedLaunch.self, from: data)
        return try ContainerExec.run(argv, env: env, container: id, configuration: launch.configuration, pid: pid, cgroups: cgroups, timeout: timeout)
    }
}
