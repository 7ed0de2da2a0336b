import ArgumentParser
import BerthCgroups
import BerthCore
import BerthLinux
import BerthRuntime
import Foundation

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a command in a new container, in the foreground.",
        discussion: """
            Exits with the command's status, 128+N when it was killed by signal N, 125 when Berth \
            could not run it, 126 when the command cannot be executed and 127 when it is not found.
            """)

    @Option(help: ArgumentHelp("The container's root filesystem: a directory.", valueName: "dir"))
    var rootfs: String

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
    var workdir: String = "/"

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

    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("The command and its arguments, after --.", valueName: "command"))
    var command: [String] = []

    func validate() throws {
        if command.first == "--" { return }
        guard !command.isEmpty else { throw ValidationError("no command given: add -- CMD [ARG...] after the options") }
    }

    func configurationFromOptions() throws -> ContainerConfiguration {
        var argv = command
        if argv.first == "--" { argv.removeFirst() }
        guard !argv.isEmpty else { throw ValidationError("no command given: add -- CMD [ARG...] after the options") }
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
        for entry in env where !entry.contains("=") {
            throw ValidationError("--env \(entry): write KEY=VALUE")
        }
        config.env = env
        config.workingDirectory = workdir
        config.user = user
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
        do {
            let config = try configurationFromOptions()
            let cgroups = try Cgroups.detect(logger: logger)
            logger.debug("\(cgroups.summary)")
            container = Container(configuration: config, cgroups: cgroups, logger: logger)
            try container.start()
        } catch let failure as LaunchFailure {
            Terminal.error(Self.explain(failure, rootfs: rootfs))
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
