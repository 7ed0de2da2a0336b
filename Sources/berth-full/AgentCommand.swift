import ArgumentParser
import BerthAgent
import BerthCoordinator
import BerthCore
import BerthImage
import BerthProtocol
import BerthRunCLI
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// `berth agent`: runs an agent (`berth agent run`, the default) or lists a coordinator's agents
/// (`berth agent ls`).
struct AgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent", abstract: "Run an agent (the default), or list a coordinator's agents.",
        subcommands: [AgentRun.self, AgentCommands.AgentList.self], defaultSubcommand: AgentRun.self)
}

struct AgentRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an agent: register with a coordinator and run the tasks it launches here.",
        discussion: """
            Without --resources the agent offers this host's CPUs, its memory and the disk of --home \
            (less what Mesos keeps back for the host: 1 GiB of memory, 5 GiB of disk, or half when \
            there is little) and ports 31000-32000; each resource named in --resources replaces the \
            detected one. Its ID, tasks and sandboxes live under HOME/agent; images are shared with \
            berth run. Each container runs under berth-supervise (installed beside berth), so SIGTERM, \
            SIGINT or even SIGKILL stop the agent and not its tasks: the next start adopts them again.
            """)

    @Option(help: ArgumentHelp("The coordinator to register with.", valueName: "host:port"))
    var coordinator = "127.0.0.1:5050"

    @Option(help: ArgumentHelp("Address of the agent's HTTP endpoint (/health, /state, /files, which berth task logs reads); port 0 picks a free one.", valueName: "host:port"))
    var listen = "127.0.0.1:5051"

    @OptionGroup var homeOptions: HomeOptions

    @Option(help: ArgumentHelp("What to offer, in Mesos' format, e.g. \"cpus:4;mem:8192;ports:[31000-32000]\".", valueName: "resources"))
    var resources: String?

    @Option(help: ArgumentHelp("Text attributes for placement constraints, e.g. \"rack:a;zone:1\".", valueName: "attributes"))
    var attributes: String?

    @Option(help: ArgumentHelp("The hostname reported to the coordinator and given to tasks as HOST (default: this host's name).", valueName: "name"))
    var hostname: String?

    @Option(help: ArgumentHelp("Image for command tasks that name none (Mesos' default container).", valueName: "image"))
    var defaultImage: String?

    @Option(help: ArgumentHelp("Root filesystem directory for command tasks that name no image.", valueName: "dir"))
    var defaultRootfs: String?

    @Option(help: ArgumentHelp("A registry to pull from over plain HTTP (repeatable).", valueName: "host:port"))
    var insecureRegistry: [String] = []

    @OptionGroup var housekeeping: AgentHousekeepingOptions

    @Option(help: "swift-log level on stderr (also BERTH_LOG_LEVEL).")
    var logLevel: String?

    func validate() throws {
        guard geteuid() == 0 else { throw ValidationError("berth agent needs root: it creates namespaces, mounts and cgroups") }
        var check = AgentConfiguration(coordinator: "", home: BerthHome(root: "/"), hostname: "", resources: Resources())
        try housekeeping.apply(to: &check)
        if defaultImage != nil, defaultRootfs != nil { throw ValidationError("give --default-image or --default-rootfs, not both") }
        _ = try Self.coordinatorURL(coordinator)
        _ = try CoordinatorCommand.parseListen(listen)
    }

    func run() throws {
        let logger = Logs.bootstrap(level: logLevel ?? "info")
        let home = homeOptions.resolved
        try FileManager.default.createDirectory(atPath: home.root, withIntermediateDirectories: true)
        var configuration = AgentConfiguration(
            coordinator: try Self.coordinatorURL(coordinator), home: home, hostname: hostname ?? ProcessInfo.processInfo.hostName,
            resources: try HostResources.resolve(given: resources, workDirectory: home.root))
        configuration.attributes = try attributes.map { try AgentConfiguration.parseAttributes($0) } ?? []
        configuration.defaultImage = defaultImage
        if let defaultRootfs {
            guard let resolved = realpath(defaultRootfs, nil) else {
                throw ValidationError("--default-rootfs \(defaultRootfs): \(Errno.message(errno))")
            }
            configuration.defaultRootfs = String(cString: resolved)
            free(resolved)
        }
        configuration.insecureRegistries = Set(insecureRegistry)
        try housekeeping.apply(to: &configuration)
        configuration.supervision = Supervision.besideExecutable()
        if configuration.supervision == nil {
            logger.warning("berth-supervise is not beside this berth binary: containers are children of the agent and stop with it, and their stdout/stderr are not rotated")
        }
        let agent = try Agent(configuration: configuration, logger: logger)
        logger.info("agent starting", metadata: ["coordinator": "\(configuration.coordinator)", "resources": "\(configuration.resources)",
                                                 "cgroups": "\(agent.cgroupSummary)", "home": "\(home.root)"])
        let (host, port) = try CoordinatorCommand.parseListen(listen)
        let http = AgentHTTP.server(agent: agent, host: host, port: port, logger: logger) { port in
            // On stdout, so scripts (and tests) using port 0 learn the port.
            FileHandle.standardOutput.write(Data("berth agent listening on http://\(host):\(port)\n".utf8))
        }
        // The group stops services in reverse order: the HTTP endpoint, listed first, stops last.
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: http), .init(service: AgentService(agent: agent))], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try Blocking.run { try await group.run() }
        } catch {
            throw ListenFailure.explain(error, host: host, port: port, option: "--listen")
        }
    }

    /// "HOST:PORT" (or a full http:// URL) to the coordinator's base URL.
    static func coordinatorURL(_ text: String) throws -> String {
        if text.hasPrefix("http://") || text.hasPrefix("https://") { return text }
        guard let colon = text.lastIndex(of: ":"), !text[..<colon].isEmpty, let port = Int(text[text.index(after: colon)...]),
              (1...65535).contains(port) else {
            throw ValidationError("--coordinator \(text): expected HOST:PORT, e.g. 127.0.0.1:5050")
        }
        return "http://\(text)"
    }
}

/// The runtime directory, log rotation and garbage collection of an agent, shared by `berth agent`
/// and `berth up`.
struct AgentHousekeepingOptions: ParsableArguments {
    @Option(help: ArgumentHelp("State kept across agent restarts but not reboots: each supervised container's launch record, PID and exit status (default: /run/berth/agent/<home, encoded>; best on a tmpfs).", valueName: "dir"))
    var runtimeDir: String?

    @Option(help: ArgumentHelp("Rotate a task's stdout and stderr at this size, e.g. 10M (needs berth-supervise).", valueName: "size"))
    var logMaxSize = "10M"

    @Option(help: ArgumentHelp("How many rotated files to keep per stream (stdout.1 ... stdout.N); 0 starts the file over.", valueName: "n"))
    var logKeep = 3

    @Option(help: ArgumentHelp("Keep an ended task's sandbox this long at most (shortened as the disk fills), e.g. 7d or 1h.", valueName: "duration"))
    var gcDelay = "7d"

    @Option(help: ArgumentHelp("How often to check the disk and collect sandboxes and images.", valueName: "duration"))
    var diskWatchInterval = "1m"

    @Option(help: ArgumentHelp("Remove images no container used for this long, e.g. 7d (default: never by age).", valueName: "duration"))
    var imageGcUnusedFor: String?

    @Option(help: ArgumentHelp("Remove least recently used images while less than this much of the disk is free, e.g. 10% (default: never).", valueName: "percent"))
    var imageGcMinFree: String?

    func apply(to configuration: inout AgentConfiguration) throws {
        if let runtimeDir {
            guard runtimeDir.hasPrefix("/") else { throw ValidationError("--runtime-dir \(runtimeDir): give an absolute path") }
            configuration.runtimeDirectory = runtimeDir
        }
        guard logKeep >= 0 else { throw ValidationError("--log-keep \(logKeep): give a number of files from 0") }
        do {
            configuration.logRotation = .init(maxSize: try AgentConfiguration.parseSize(logMaxSize, option: "--log-max-size"), keep: logKeep)
        } catch let error as BerthError {
            throw ValidationError(error.message)
        }
        configuration.garbageCollection.sandboxDelay = try CoordinatorCommand.parseDuration(gcDelay, option: "--gc-delay")
        configuration.garbageCollection.interval = try CoordinatorCommand.parseDuration(diskWatchInterval, option: "--disk-watch-interval")
        configuration.garbageCollection.imageUnusedFor = try imageGcUnusedFor.map { try CoordinatorCommand.parseDuration($0, option: "--image-gc-unused-for") }
        configuration.garbageCollection.imageMinimumFree = try imageGcMinFree.map { text in
            guard let number = Double(text.hasSuffix("%") ? String(text.dropLast()) : text), number > 0, number < 100 else {
                throw ValidationError("--image-gc-min-free \(text): expected a percentage of the disk between 0 and 100, e.g. 10%")
            }
            return number / 100
        }
    }
}
