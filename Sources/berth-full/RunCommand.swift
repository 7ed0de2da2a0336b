import ArgumentParser
import BerthCore
import BerthImage
import BerthOCI
import BerthRunCLI
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

    func validate() throws {
        do { try options.validate() } catch { throw ValidationError(error.message) }
    }

    func run() throws { try Self.run(options) }

    /// Runs the container, from an image or a directory, in the foreground.
    static func run(_ options: RunOptions) throws {
        do {
            try options.run { image, containerID, logger in try Self.prepareImage(image, containerID: containerID, options: options, logger: logger) }
        } catch let error as UsageError {
            throw ValidationError(error.message)
        }
    }

    /// Finds (or pulls) the image, unpacks what is not yet unpacked, and mounts the container's root.
    static func prepareImage(_ name: String, containerID: String, options: RunOptions, logger: Logger) throws -> RunOptions.PreparedImage {
        let images = try LocalImages(home: BerthHome.resolve(option: options.home), logger: logger)
        var record = options.pull == .always ? nil : try images.find(name)
        if record == nil {
            guard options.pull != .never else {
                throw BerthError(.notFound, "image \(name) is not in \(images.home.root) and --pull never forbids pulling it")
            }
            let ref = try ImageReference(parsing: name)
            let insecure = options.insecure
            record = try Blocking.run {
                try await ImagePulling.pull(ref, platform: nil, insecure: insecure, into: images, logger: logger)
            }
        }
        guard let record else { throw BerthError(.notFound, "image \(name) could not be found or pulled") }
        let spec = try ImageRunSpec(image: record.name, configuration: try images.configuration(of: record), overrides: .init(
            command: options.splitCommand().argv, entrypoint: options.entrypoint, env: options.env, workingDirectory: options.workdir,
            user: options.user))
        let rootfs = try images.createRootfs(record, containerID: containerID)
        return RunOptions.PreparedImage(rootfs: rootfs.path, argv: spec.argv, env: spec.env, workingDirectory: spec.workingDirectory,
                                        user: spec.user, remove: rootfs.remove)
    }
}

extension RunOptions.PullPolicy: ExpressibleByArgument {}

