import BerthCgroups
import BerthCore
import BerthLinux
import FoundationEssentials
import Glibc
import Logging

/// How a container's run ended, with the message a person needs when it was not a plain exit.
public struct ContainerExit: Sendable, Equatable {
    public var status: ExitStatus
    /// The kernel's OOM killer ended a process of the container (memory limit hit).
    public var oomKilled: Bool
    public var memoryLimit: Int64?

    public init(status: ExitStatus, oomKilled: Bool, memoryLimit: Int64?) {
        self.status = status
        self.oomKilled = oomKilled
        self.memoryLimit = memoryLimit
    }

    /// The exit code `berth run` returns: the command's, or 128+N for signal N.
    public var code: Int32 { status.code }

    /// What to tell the user on stderr, if anything: never leave an OOM kill to guessing.
    public var message: String? {
        let limit = memoryLimit.map { " of \(ByteSize.format($0))" } ?? ""
        if oomKilled, status == .signaled(SIGKILL) {
            return "container killed: memory limit\(limit) reached (OOM kill); raise --memory or make the task use less"
        }
        if oomKilled {
            return "a process in the container was killed by the OOM killer: memory limit\(limit) reached"
        }
        return nil
    }
}

/// One container from creation to removal. The setup runs in the cloned child; this object owns
/// the host-side parts (cgroup, state files) and removes them whatever way the run ends.
public final class Container: @unchecked Sendable {
    private enum State {
        case created
        case running(SpawnedProcess)
        case exited(ContainerExit)
        case removed
    }

    public let id: String
    public let configuration: ContainerConfiguration
    public let hostname: String
    private let cgroups: CgroupManager
    private let seccompCache: SeccompProgramCache?
    private let seccompDiskCache: SeccompDiskCache?
    private let logger: Logger
    private var state = State.created
    private var cgroup: Cgroup?
    /// Whether the kernel started the process in its cgroup (clone3 on v2) rather than the process
    /// joining it by writing "0" into `Cgroup.selfJoinFiles`.
    public private(set) var clonedIntoCgroup = false

    public init(id: String = Container.newID(), configuration: ContainerConfiguration, cgroups: CgroupManager,
                seccompCache: SeccompProgramCache? = .shared, seccompDiskCache: SeccompDiskCache? = SeccompDiskCache(),
                logger: Logger = Logger(label: "berth.runtime")) {
        self.id = id
        self.configuration = configuration
        self.hostname = configuration.hostname ?? String(id.prefix(12))
        self.cgroups = cgroups
        self.seccompCache = seccompCache
        self.seccompDiskCache = seccompDiskCache
        var logger = logger
        logger[metadataKey: "container"] = "\(id.prefix(12))"
        self.logger = logger
    }

    /// Where Berth kept each container's hostname, hosts and resolv.conf before they moved into
    /// the container's own /dev (ContainerPlan.etcFiles); removed with containers started then.
    public static let legacyStateRoot = ProcessInfo.processInfo.environment["BERTH_RUN_DIR"] ?? "/run/berth/containers"

    /// Removes what an older Berth kept for container `id` under `legacyStateRoot`, if anything:
    /// one access(2) for the containers that never had it, not a removal that builds an error.
    public static func removeLegacyState(of id: String) {
        let path = "\(legacyStateRoot)/\(id)"
        guard access(path, F_OK) == 0 else { return }
        try? FileManager.default.removeItem(atPath: path)
    }

    /// 32 random hex digits. Not through `String(format:)`: its varargs path was a visible part
    /// of `berth run`'s start (docs/benchmarks.md).
    public static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        var digits: [UInt8] = []
        digits.reserveCapacity(32)
        for _ in 0..<2 {
            var word: UInt64 = generator.next()
            for _ in 0..<16 {
                let nibble = UInt8(truncatingIfNeeded: word >> 60)
                digits.append(nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10)
                word <<= 4
            }
        }
        return String(decoding: digits, as: UTF8.self)
    }

    public var pid: Int32? {
        if case .running(let process) = state { return process.pid }
        return nil
    }

    /// Usage while it runs: CPU time, memory current and peak, OOM kills.
    public func stats() throws -> CgroupStats {
        guard let cgroup else { throw BerthError(.invalidState, "container \(id.prefix(12)) has no cgroup: it is not running") }
        return try cgroup.stats()
    }

    /// Creates the cgroup (limits set before the process can run), starts the process, and
    /// returns once the command has been exec'd. On failure everything created is removed.
    public func start() throws {
        guard case .created = state else {
            throw BerthError(.invalidState, "cannot start container \(id.prefix(12)): it was already started")
        }
        do {
            let plan = try makePlan()
            let spec = try plan.launchSpec()
            let cgroup = try cgroups.create(name: "berth-\(id)", limits: configuration.limits)
            self.cgroup = cgroup
            let process = try Launcher.spawn(spec, cgroupDirectory: cgroup.cloneTarget, joinFiles: cgroup.selfJoinFiles)
            state = .running(process)
            clonedIntoCgroup = process.startedInCgroup
            do {
                try process.release()
            } catch {
                try process.awaitExec()
                throw error
            }
            try process.awaitExec()
            logger.debug("started", metadata: ["pid": "\(process.pid)", "cgroup": "\(cgroup.paths.joined(separator: ","))",
                                               "cloned_into_cgroup": "\(process.startedInCgroup)"])
        } catch {
            if case .running(let process) = state { _ = try? process.wait() }
            state = .exited(ContainerExit(status: .exited(125), oomKilled: false, memoryLimit: nil))
            remove()
            throw error
        }
    }

    /// For a container another process starts (`berth-supervise`): the plan, the state files and
    /// the cgroup with its limits are made here, nothing is started. `remove()` undoes it all;
    /// it runs already when this throws.
    public func prepareSupervisorPlan() throws -> SupervisorPlan {
        guard case .created = state, cgroup == nil else {
            throw BerthError(.invalidState, "cannot prepare container \(id.prefix(12)): it was already started or prepared")
        }
        do {
            let spec = try makePlan().launchSpec()
            let cgroup = try cgroups.create(name: "berth-\(id)", limits: configuration.limits)
            self.cgroup = cgroup
            return SupervisorPlan(spec: spec, cloneCgroup: cgroup.cloneTarget, joinFiles: cgroup.selfJoinFiles)
        } catch {
            remove()
            throw error
        }
    }

    func makePlan() throws -> ContainerPlan {
        let rootfs = configuration.rootfs
        var info = stat()
        guard stat(rootfs, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw BerthError(.notFound, "rootfs \(rootfs) is not a directory: give the directory holding the container's root filesystem")
        }
        let user = try UserResolver.resolve(configuration.user, rootfs: configuration.filesRoot)
        let capabilities = try ContainerPlan.capabilities(add: configuration.capAdd, drop: configuration.capDrop)
        let seccomp: SeccompProgram?
        switch configuration.seccomp {
        case .unconfined:
            seccomp = nil
        case .default:
            seccomp = try seccompProgram(for: SeccompProfile.dockerDefault.filterSpec(capabilities: Set(capabilities.names)))
        case .profile(let path):
            let profile = try SeccompProfile.load(path: path)
            seccomp = try seccompProgram(for: profile.filterSpec(capabilities: Set(capabilities.names)))
        }
        return ContainerPlan(configuration: configuration, hostname: hostname, user: user, capabilities: capabilities,
                             seccomp: seccomp, host: hostFacts())
    }

    /// The host's hosts and resolv.conf are read only for a container on the host's network.
    private func hostFacts() -> ContainerPlan.Host {
        guard configuration.network == .host else { return ContainerPlan.Host(cgroupVersion: cgroups.version) }
        return ContainerPlan.Host(cgroupVersion: cgroups.version,
                                  hostsFile: try? String(contentsOfFile: "/etc/hosts", encoding: .utf8),
                                  resolvConf: try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8))
    }

    private func seccompProgram(for spec: SeccompFilterSpec) throws -> SeccompProgram {
        if let seccompDiskCache { return try seccompDiskCache.program(for: spec, memory: seccompCache) }
        return try seccompCache?.program(for: spec) ?? SeccompCompiler.compile(spec)
    }

    /// Sends a signal to the container's main process.
    public func signal(_ sig: Int32) {
        if case .running(let process) = state { process.signal(sig) }
    }

    /// SIGKILL to every process of the container, through its cgroup.
    public func killAll() {
        do { try cgroup?.killAll() } catch { logger.warning("kill container processes: \(error)") }
        signal(SIGKILL)
    }

    /// Runs in the foreground until the container ends: forwards SIGINT, SIGTERM, SIGHUP and SIGQUIT
    /// to it and kills it all after the stop timeout. Removes the container before returning.
    public func runToCompletion(signals: SignalWatcher) throws -> ContainerExit {
        guard case .running(let process) = state else {
            throw BerthError(.invalidState, "cannot wait for container \(id.prefix(12)): it is not running")
        }
        defer { remove() }
        var killDeadline: ContinuousClock.Instant?
        while true {
            var timeout: Int?
            if let deadline = killDeadline {
                let left = ContinuousClock.now.duration(to: deadline)
                timeout = max(0, Int(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
            }
            switch try signals.next(pidfd: process.pidfd, timeoutMilliseconds: timeout) {
            case .childExited:
                if let status = try process.poll() { return finish(status) }
            case .signal(let sig):
                logger.info("forwarding \(Signals.name(sig)) to the container; SIGKILL follows in \(configuration.stopTimeout)")
                process.signal(sig)
                if killDeadline == nil { killDeadline = .now + configuration.stopTimeout }
            case .timeout:
                logger.info("stop timeout of \(configuration.stopTimeout) passed: killing the container")
                killAll()
                killDeadline = .now + .seconds(3600)
            }
        }
    }

    /// Sends `sig` to every process of the container through its cgroup, so a graceful stop
    /// reaches the whole tree (a shell as the main process does not pass it on).
    public func signalAll(_ sig: Int32) {
        signal(sig)
        guard let cgroup, let pids = try? cgroup.processes() else { return }
        for pid in pids { kill(pid, sig) }
    }

    /// A pidfd of the main process while it runs: it polls readable once the process has exited,
    /// so an event loop can wait on it instead of blocking a thread in `wait()`.
    public var exitDescriptor: Int32? {
        if case .running(let process) = state { return process.pidfd }
        return nil
    }

    /// The exit once the main process has ended (reaped without blocking); nil while it runs.
    /// Unlike `wait()`, the container stays until `remove()`, so its cgroup can still be read.
    public func poll() throws -> ContainerExit? {
        switch state {
        case .running(let process):
            guard let status = try process.poll() else { return nil }
            return finish(status)
        case .exited(let exit):
            return exit
        case .created, .removed:
            throw BerthError(.invalidState, "cannot poll container \(id.prefix(12)): it is not running")
        }
    }

    /// Blocks until the main process exits (no signal handling), then removes the container.
    public func wait() throws -> ContainerExit {
        guard case .running(let process) = state else {
            throw BerthError(.invalidState, "cannot wait for container \(id.prefix(12)): it is not running")
        }
        defer { remove() }
        return finish(try process.wait())
    }

    private func finish(_ status: ExitStatus) -> ContainerExit {
        let oomKills = (try? cgroup?.oomKillCount()) ?? 0
        let exit = ContainerExit(status: status, oomKilled: oomKills > 0, memoryLimit: configuration.limits.memoryBytes)
        state = .exited(exit)
        logger.debug("exited", metadata: ["status": "\(status)", "oom_kills": "\(oomKills)"])
        return exit
    }

    /// Kills whatever is left, removes the cgroup and the state files. Safe to call twice.
    public func remove() {
        if case .running(let process) = state {
            killAll()
            if let status = try? process.wait() { state = .exited(ContainerExit(status: status, oomKilled: false, memoryLimit: nil)) }
        }
        if let cgroup {
            do { try cgroup.destroy() } catch { logger.warning("remove cgroup \(cgroup.paths.joined(separator: ", ")): \(error)") }
            self.cgroup = nil
        }
        state = .removed
    }
}

extension SeccompProgramCache {
    /// One per process: a profile is compiled once and reused by every launch.
    public static let shared = SeccompProgramCache()
}
