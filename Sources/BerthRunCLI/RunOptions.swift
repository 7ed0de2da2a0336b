import BerthCgroups
import BerthCore
import BerthLinux
import BerthRuntime
import FoundationEssentials
import Glibc
import Logging

/// What `berth run` was told, as plain values: built by the full CLI's `RunCommand` from
/// ArgumentParser's parse, or by `RunOptions.parseFast` (RunFastParse.swift) without it.
public struct RunOptions: Equatable, Sendable {
    public var rootfs: String?
    public var home: String?
    public var pull: RunOptions.PullPolicy = .missing
    public var entrypoint: String?
    public var insecure = false
    public var cpus: Double?
    public var memory: String?
    public var pids: Int?
    public var network = "none"
    public var hostname: String?
    public var env: [String] = []
    public var workdir: String?
    public var user: String?
    public var readOnly = false
    public var capAdd: [String] = []
    public var capDrop: [String] = []
    public var seccomp = "default"
    public var stopTimeout = 10
    public var logLevel: String?
    public var command: [String] = []

    public enum PullPolicy: String, Sendable {
        case missing, always, never
    }

    public init(rootfs: String? = nil, home: String? = nil, pull: PullPolicy = .missing, entrypoint: String? = nil, insecure: Bool = false,
                cpus: Double? = nil, memory: String? = nil, pids: Int? = nil, network: String = "none", hostname: String? = nil,
                env: [String] = [], workdir: String? = nil, user: String? = nil, readOnly: Bool = false, capAdd: [String] = [],
                capDrop: [String] = [], seccomp: String = "default", stopTimeout: Int = 10, logLevel: String? = nil, command: [String] = []) {
        self.rootfs = rootfs
        self.home = home
        self.pull = pull
        self.entrypoint = entrypoint
        self.insecure = insecure
        self.cpus = cpus
        self.memory = memory
        self.pids = pids
        self.network = network
        self.hostname = hostname
        self.env = env
        self.workdir = workdir
        self.user = user
        self.readOnly = readOnly
        self.capAdd = capAdd
        self.capDrop = capDrop
        self.seccomp = seccomp
        self.stopTimeout = stopTimeout
        self.logLevel = logLevel
        self.command = command
    }

    /// Everything about the options that can be checked without the host: a line that fails
    /// here is a usage error, reported with the usage.
    public func validate() throws(UsageError) {
        for entry in env where !entry.contains("=") {
            throw UsageError("--env \(entry): write KEY=VALUE")
        }
        guard ContainerConfiguration.Network(rawValue: network) != nil else {
            throw UsageError("--network \(network): use none or host")
        }
        guard stopTimeout >= 0 else { throw UsageError("--stop-timeout must be 0 or more seconds") }
        do {
            try limits().validate()
        } catch {
            throw UsageError("\(error)")
        }
        if rootfs == nil {
            guard let image = command.first, image != "--" else {
                throw UsageError("no image given: berth run [options] IMAGE [CMD...], or --rootfs DIR -- CMD")
            }
            return
        }
        if command.first == "--" { return }
        guard !command.isEmpty else { throw UsageError("no command given: add -- CMD [ARG...] after the options") }
    }

    func limits() throws -> CgroupLimits {
        CgroupLimits(cpus: cpus, memoryBytes: try memory.map { try ByteSize.parse($0) }, pids: pids)
    }

    /// With --rootfs: the command after the options. From an image: the image, then its command.
    public func splitCommand() -> (image: String?, argv: [String]) {
        var rest = command
        var image: String?
        if rootfs == nil, !rest.isEmpty { image = rest.removeFirst() }
        if rest.first == "--" { rest.removeFirst() }
        return (image, rest)
    }

    /// The container's configuration, from options that passed `validate()`.
    func configurationFromOptions(rootfs: String, image: PreparedImage?) throws -> ContainerConfiguration {
        var argv = image?.argv ?? splitCommand().argv
        guard !argv.isEmpty else { throw UsageError("no command given: add -- CMD [ARG...] after the options") }
        if image == nil, let entrypoint { argv = (entrypoint.isEmpty ? [] : [entrypoint]) + argv }
        guard let resolvedRoot = realpath(rootfs, nil) else {
            throw BerthError(.notFound, "rootfs \(rootfs): \(Errno.message(errno)); give the directory holding the container's root filesystem")
        }
        defer { free(resolvedRoot) }
        var config = ContainerConfiguration(rootfs: String(cString: resolvedRoot), command: argv)
        guard let mode = ContainerConfiguration.Network(rawValue: network) else {
            throw UsageError("--network \(network): use none or host")
        }
        config.network = mode
        config.hostname = hostname
        config.env = image?.env ?? env
        config.workingDirectory = image?.workingDirectory ?? workdir ?? "/"
        config.user = image?.user ?? user
        config.readOnlyRootfs = readOnly
        config.capAdd = capAdd
        config.capDrop = capDrop
        config.seccomp = .init(argument: seccomp)
        config.stopTimeout = .seconds(stopTimeout)
        config.limits = try limits()
        return config
    }

    /// An image made ready to run: its container's root filesystem and what the image says to run
    /// there (with the user's overrides applied). The full CLI makes it; `remove` takes the
    /// container's own layer away once the run ends.
    public struct PreparedImage {
        public var rootfs: String
        public var argv: [String]
        public var env: [String]
        public var workingDirectory: String
        public var user: String?
        public var remove: () throws -> Void

        public init(rootfs: String, argv: [String], env: [String], workingDirectory: String, user: String?, remove: @escaping () throws -> Void) {
            self.rootfs = rootfs
            self.argv = argv
            self.env = env
            self.workingDirectory = workingDirectory
            self.user = user
            self.remove = remove
        }
    }

    /// Runs the container in the foreground and ends by throwing `ExitStatusError` with the
    /// command's status. `prepareImage` (image name, container ID, logger) makes an image's
    /// root filesystem; without it only `--rootfs` runs.
    public func run(prepareImage: ((String, String, Logger) throws -> PreparedImage)? = nil) throws -> Never {
        // Before anything else starts a thread: the supervisor takes these signals through a
        // signalfd, and every later thread inherits the blocked mask.
        let signals = try SignalWatcher(signals: [SIGINT, SIGTERM, SIGHUP, SIGQUIT])
        let logger = Logs.bootstrap(level: logLevel)
        let container: Container
        var prepared: PreparedImage?
        // However the run ends, the container's own layer goes; the image's layers stay.
        defer {
            if let prepared {
                do { try prepared.remove() } catch { Terminal.error("cleanup: \(error)") }
            }
        }
        var rootfsPath = rootfs ?? ""
        do {
            let id = Container.newID()
            if let image = splitCommand().image {
                guard let prepareImage else {
                    throw BerthError(.unsupported, "this berth runs only --rootfs containers; images need berth-full beside it")
                }
                let image = try prepareImage(image, id, logger)
                prepared = image
                rootfsPath = image.rootfs
            }
            let config = try configurationFromOptions(rootfs: rootfsPath, image: prepared)
            let cgroups = try Cgroups.detect(logger: logger)
            logger.debug("\(cgroups.summary)")
            // One container per process: the filter comes from the disk cache, and a memory
            // cache would only hash the profile's rules twice more.
            container = Container(id: id, configuration: config, cgroups: cgroups, seccompCache: nil, logger: logger)
            try container.start()
        } catch let failure as LaunchFailure {
            Terminal.error(Self.explain(failure, rootfs: rootfsPath))
            throw ExitStatusError(code: failure.exitStatus)
        } catch let error as UsageError {
            throw error
        } catch {
            Terminal.error("\(error)")
            throw ExitStatusError(code: 125)
        }
        let exit = try container.runToCompletion(signals: signals)
        if let message = exit.message { Terminal.error(message) }
        throw ExitStatusError(code: exit.code)
    }

    /// One line naming the step that failed and why, in words a user can act on.
    static func explain(_ failure: LaunchFailure, rootfs: String) -> String {
        guard failure.step.hasPrefix("exec ") else {
            return "\(failure.step): \(Errno.name(failure.errno)) (\(Errno.message(failure.errno)))"
        }
        let path = String(failure.step.dropFirst(5))
        switch failure.exitStatus {
        case 127 where path.contains("/"):
            if access(rootfs + "/" + path, F_OK) == 0 {
                return "\(failure.step): the file exists but its interpreter or dynamic loader is missing from the rootfs"
            }
            return "\(failure.step): no such file in the rootfs"
        case 127:
            return "\(failure.step): executable file not found in the container's PATH"
        case 126:
            return "\(failure.step): \(Errno.name(failure.errno)) (\(Errno.message(failure.errno))): the file cannot be executed"
        default:
            return "\(failure.step): \(Errno.name(failure.errno)) (\(Errno.message(failure.errno)))"
        }
    }
}
