import ArgumentParser
import BerthCgroups
import BerthCore
import BerthImage
import BerthLinux
import BerthOCI
import BerthRuntime
import Foundation
import Logging

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a command in a new container, in the foreground.",
        usage: """
            berth run [options] IMAGE [CMD [ARG...]]
            berth run [options] --rootfs DIR -- CMD [ARG...]
            """,
        discussion: """
            From an image, the image's entrypoint, cmd, env, working directory and user apply unless \
            the options say otherwise; a missing image is pulled first (see --pull). \
            Exits with the command's status, 128+N when it was killed by signal N, 125 when Berth \
            could not run it, 126 when the command cannot be executed and 127 when it is not found.
            """)

    @Option(help: ArgumentHelp("The container's root filesystem: a directory, instead of an image.", valueName: "dir"))
    var rootfs: String?

    @OptionGroup var homeOptions: HomeOptions

    @Option(help: ArgumentHelp("When to pull the image: missing (default), always, never.", valueName: "when"))
    var pull: RunOptions.PullPolicy = .missing

    @Option(help: ArgumentHelp("Replace the image's entrypoint (\"\" clears it).", valueName: "path"))
    var entrypoint: String?

    @Flag(help: "Pull over plain HTTP (registries on loopback addresses always get it).")
    var insecure = false

    @Option(help: ArgumentHelp("CPU limit in CPUs, e.g. 0.5 (CFS quota over a 100 ms period).", valueName: "cpus"))
    var cpus: Double?

    @Option(help: ArgumentHelp("Memory limit, e.g. 256m or 1g; no swap beyond it.", valueName: "size"))
    var memory: String?

    @Option(help: ArgumentHelp("Maximum number of processes and threads.", valueName: "n"))
    var pids: Int?

    @Option(help: ArgumentHelp("none: own network namespace with loopback only; host: the host's network.", valueName: "mode"))
    var network: String = "none"

    @Option(help: ArgumentHelp("Hostname inside the container (default: the first 12 characters of its ID).", valueName: "name"))
    var hostname: String?

    @Option(name: [.customShort("e"), .long], help: ArgumentHelp("Set an environment variable (repeatable).", valueName: "key=value"))
    var env: [String] = []

    @Option(name: [.customShort("w"), .long], help: ArgumentHelp("Working directory inside the container.", valueName: "dir"))
    var workdir: String?

    @Option(name: [.customShort("u"), .long], help: ArgumentHelp("User: UID[:GID] or NAME[:GROUP] from the rootfs' /etc/passwd.", valueName: "user"))
    var user: String?

    @Flag(help: "Mount the container's root filesystem read-only.")
    var readOnly = false

    @Option(help: ArgumentHelp("Add a capability to Docker's default set (repeatable; ALL for every one).", valueName: "cap"))
    var capAdd: [String] = []

    @Option(help: ArgumentHelp("Drop a capability (repeatable; ALL for every one).", valueName: "cap"))
    var capDrop: [String] = []

    @Option(help: ArgumentHelp("default, unconfined, or a profile in Docker/OCI JSON format.", valueName: "profile"))
    var seccomp: String = "default"

    @Option(help: ArgumentHelp("Seconds between forwarding SIGINT/SIGTERM and SIGKILL.", valueName: "seconds"))
    var stopTimeout: Int = 10

    @Option(help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error.", valueName: "level"))
    var logLevel: String?

    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("IMAGE and its command (or, with --rootfs, the command after --).", valueName: "command"))
    var command: [String] = []

    /// The options as plain values, for the code that runs the container.
    var options: RunOptions {
        RunOptions(rootfs: rootfs, home: homeOptions.home, pull: pull, entrypoint: entrypoint, insecure: insecure, cpus: cpus,
                   memory: memory, pids: pids, network: network, hostname: hostname, env: env, workdir: workdir, user: user,
                   readOnly: readOnly, capAdd: capAdd, capDrop: capDrop, seccomp: seccomp, stopTimeout: stopTimeout, logLevel: logLevel,
                   command: command)
    }

    func validate() throws { try options.validate() }

    func run() throws { try options.run() }
}

extension RunOptions.PullPolicy: ExpressibleByArgument {}

/// What `berth run` was told, as plain values: built by `RunCommand` from ArgumentParser's parse,
/// or by `RunOptions.parseFast` (RunFastParse.swift) without it.
struct RunOptions: Equatable {
    var rootfs: String?
    var home: String?
    var pull: RunOptions.PullPolicy = .missing
    var entrypoint: String?
    var insecure = false
    var cpus: Double?
    var memory: String?
    var pids: Int?
    var network = "none"
    var hostname: String?
    var env: [String] = []
    var workdir: String?
    var user: String?
    var readOnly = false
    var capAdd: [String] = []
    var capDrop: [String] = []
    var seccomp = "default"
    var stopTimeout = 10
    var logLevel: String?
    var command: [String] = []

    enum PullPolicy: String {
        case missing, always, never
    }

    func validate() throws {
        for entry in env where !entry.contains("=") {
            throw ValidationError("--env \(entry): write KEY=VALUE")
        }
        if rootfs == nil {
            guard let image = command.first, image != "--" else {
                throw ValidationError("no image given: berth run [options] IMAGE [CMD...], or --rootfs DIR -- CMD")
            }
            return
        }
        if command.first == "--" { return }
        guard !command.isEmpty else { throw ValidationError("no command given: add -- CMD [ARG...] after the options") }
    }

    /// With --rootfs: the command after the options. From an image: the image, then its command.
    func splitCommand() -> (image: String?, argv: [String]) {
        var rest = command
        var image: String?
        if rootfs == nil, !rest.isEmpty { image = rest.removeFirst() }
        if rest.first == "--" { rest.removeFirst() }
        return (image, rest)
    }

    func configurationFromOptions(rootfs: String, image: ImageRunSpec?) throws -> ContainerConfiguration {
        var argv = image?.argv ?? splitCommand().argv
        guard !argv.isEmpty else { throw ValidationError("no command given: add -- CMD [ARG...] after the options") }
        if image == nil, let entrypoint { argv = (entrypoint.isEmpty ? [] : [entrypoint]) + argv }
        guard let resolvedRoot = realpath(rootfs, nil) else {
            throw BerthError(.notFound, "rootfs \(rootfs): \(Errno.message(errno)); give the directory holding the container's root filesystem")
        }
        defer { free(resolvedRoot) }
        var config = ContainerConfiguration(rootfs: String(cString: resolvedRoot), command: argv)
        guard let mode = ContainerConfiguration.Network(rawValue: network) else {
            throw ValidationError("--network \(network): use none or host")
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
        guard stopTimeout >= 0 else { throw ValidationError("--stop-timeout must be 0 or more seconds") }
        config.stopTimeout = .seconds(stopTimeout)
        config.limits = CgroupLimits(cpus: cpus, memoryBytes: try memory.map { try ByteSize.parse($0) }, pids: pids)
        try config.limits.validate()
        return config
    }

    func run() throws {
        // Before anything else starts a thread: the supervisor takes these signals through a
        // signalfd, and every later thread inherits the blocked mask.
        let signals = try SignalWatcher(signals: [SIGINT, SIGTERM, SIGHUP, SIGQUIT])
        let logger = Logs.bootstrap(level: logLevel)
        let container: Container
        var imageRootfs: ContainerRootfs?
        // However the run ends, the container's own layer goes; the image's layers stay.
        defer {
            if let imageRootfs {
                do { try imageRootfs.remove() } catch { Terminal.error("cleanup: \(error)") }
            }
        }
        var rootfsPath = rootfs ?? ""
        do {
            let id = Container.newID()
            var spec: ImageRunSpec?
            if let image = splitCommand().image {
                let prepared = try prepareImage(image, containerID: id, logger: logger)
                imageRootfs = prepared.rootfs
                spec = prepared.spec
                rootfsPath = prepared.rootfs.path
            }
            let config = try configurationFromOptions(rootfs: rootfsPath, image: spec)
            let cgroups = try Cgroups.detect(logger: logger)
            logger.debug("\(cgroups.summary)")
            container = Container(id: id, configuration: config, cgroups: cgroups, logger: logger)
            try container.start()
        } catch let failure as LaunchFailure {
            Terminal.error(Self.explain(failure, rootfs: rootfsPath))
            throw ExitStatusError(code: failure.exitStatus)
        } catch let error as ValidationError {
            throw error
        } catch {
            Terminal.error("\(error)")
            throw ExitStatusError(code: 125)
        }
        let exit = try container.runToCompletion(signals: signals)
        if let message = exit.message { Terminal.error(message) }
        throw ExitStatusError(code: exit.code)
    }

    /// Finds (or pulls) the image, unpacks what is not yet unpacked, and mounts the container's root.
    private func prepareImage(_ name: String, containerID: String, logger: Logger) throws -> (rootfs: ContainerRootfs, spec: ImageRunSpec) {
        let images = try LocalImages(home: BerthHome.resolve(option: home), logger: logger)
        var record = pull == .always ? nil : try images.find(name)
        if record == nil {
            guard pull != .never else {
                throw BerthError(.notFound, "image \(name) is not in \(images.home.root) and --pull never forbids pulling it")
            }
            let ref = try ImageReference(parsing: name)
            let insecure = self.insecure
            record = try Blocking.run {
                try await ImagePulling.pull(ref, platform: nil, insecure: insecure, into: images, logger: logger)
            }
        }
        guard let record else { throw BerthError(.notFound, "image \(name) could not be found or pulled") }
        let splitArgv = splitCommand().argv
        let spec = try ImageRunSpec(image: record.name, configuration: try images.configuration(of: record), overrides: .init(
            command: splitArgv, entrypoint: entrypoint, env: env, workingDirectory: workdir, user: user))
        let rootfs = try images.createRootfs(record, containerID: containerID)
        return (rootfs, spec)
    }

    /// One line naming the step that failed and why, in words a user can act on.
    static func explain(_ failure: LaunchFailure, rootfs: String) -> String {
        guard failure.step.hasPrefix("exec ") else {
            return "\(failure.step): \(Errno.name(failure.errno)) (\(Errno.message(failure.errno)))"
        }
        let path = String(failure.step.dropFirst(5))
        switch failure.exitStatus {
        case 127 where path.contains("/"):
            if FileManager.default.fileExists(atPath: rootfs + "/" + path) {
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
