import ArgumentParser
import BerthAgent
import BerthCoordinator
import BerthCore
import BerthImage
import BerthRunCLI
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// `berth up`: a whole single-node cluster in one process.
struct UpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Run a single-node cluster: coordinator, agent and the local image store in one process.",
        discussion: """
            The coordinator listens on --listen (default 127.0.0.1:5050) with its state in \
            HOME/coordinator; the agent registers with it, offers this host's resources (or \
            --resources), listens on --agent-listen and keeps its tasks under HOME/agent; images \
            are HOME's, shared with berth run and berth image. --import adds OCI layouts or docker \
            save archives first, so a task can run with no registry and no network. SIGTERM or \
            SIGINT stop it; tasks run on under berth-supervise (when it is beside berth) and are \
            taken up again by the next berth up on the same home.
            """)

    @OptionGroup var homeOptions: HomeOptions

    @Option(help: ArgumentHelp("The coordinator's address (port 0 picks a free one).", valueName: "host:port"))
    var listen = "127.0.0.1:5050"

    @Option(help: ArgumentHelp("The agent's address (port 0 picks a free one).", valueName: "host:port"))
    var agentListen = "127.0.0.1:5051"

    @Option(help: ArgumentHelp("What the agent offers, in Mesos' format (default: detected).", valueName: "resources"))
    var resources: String?

    @Option(help: ArgumentHelp("Image for tasks that name none (e.g. one given to --import).", valueName: "image"))
    var defaultImage: String?

    @Option(name: .customLong("import"), help: ArgumentHelp("An image to import first: PATH or NAME=PATH, an OCI layout or a docker save tar (repeatable).", valueName: "image"))
    var imports: [String] = []

    @OptionGroup var housekeeping: AgentHousekeepingOptions

    @Option(help: "swift-log level on stderr (also BERTH_LOG_LEVEL).")
    var logLevel: String?

    func validate() throws {
        guard geteuid() == 0 else { throw ValidationError("berth up needs root: its agent creates namespaces, mounts and cgroups") }
        _ = try CoordinatorCommand.parseListen(listen)
        _ = try CoordinatorCommand.parseListen(agentListen)
        var check = AgentConfiguration(coordinator: "", home: BerthHome(root: "/"), hostname: "", resources: Resources())
        try housekeeping.apply(to: &check)
    }

    func run() throws {
        let logger = Logs.bootstrap(level: logLevel ?? "warning")
        let home = homeOptions.resolved
        try FileManager.default.createDirectory(atPath: home.root, withIntermediateDirectories: true)
        let images = try LocalImages(home: home, logger: logger)
        for item in imports {
            let (name, path) = item.contains("=") && !FileManager.default.fileExists(atPath: item)
                ? (String(item.prefix { $0 != "=" }), String(item.drop { $0 != "=" }.dropFirst()))
                : (nil, item)
            for record in try ImageImporter(images: images, logger: logger).importImages(from: path, name: name) {
                say("imported \(record.name) (image ID \(record.id))")
            }
        }

        var coordinatorConfiguration = CoordinatorConfiguration()
        (coordinatorConfiguration.host, coordinatorConfiguration.port) = try CoordinatorCommand.parseListen(listen)
        coordinatorConfiguration.home = home.root
        let (agentHost, agentPort) = try CoordinatorCommand.parseListen(agentListen)
        let resources = try HostResources.resolve(given: resources, workDirectory: home.root)
        let hostname = ProcessInfo.processInfo.hostName
        let coordinatorSettings = coordinatorConfiguration
        let defaultImage = defaultImage
        var settings = AgentConfiguration(coordinator: "", home: home, hostname: hostname, resources: resources)
        try housekeeping.apply(to: &settings)
        let (logRotation, garbageCollection, runtimeDirectory) = (settings.logRotation, settings.garbageCollection, settings.runtimeDirectory)
        try Blocking.run {
            let coordinator = try await CoordinatorServer(configuration: coordinatorSettings, logger: logger).start()
            let reachable = coordinatorSettings.host == "0.0.0.0" ? "127.0.0.1" : coordinatorSettings.host
            let coordinatorURL = "http://\(reachable):\(coordinator.port)"
            say("coordinator \(coordinatorURL) (state in \(home.root)/coordinator)")
            do {
                var configuration = AgentConfiguration(coordinator: coordinatorURL, home: home, hostname: hostname, resources: resources)
                configuration.defaultImage = defaultImage
                configuration.logRotation = logRotation
                configuration.garbageCollection = garbageCollection
                configuration.runtimeDirectory = runtimeDirectory
                configuration.supervision = Supervision.besideExecutable()
                if configuration.supervision == nil {
                    logger.warning("berth-supervise is not beside this berth binary: tasks are children of berth up and stop with it")
                }
                let agent = try Agent(configuration: configuration, logger: logger)
                let http = AgentHTTP.server(agent: agent, host: agentHost, port: agentPort, logger: logger) { port in
                    say("agent http://\(agentHost):\(port) offering \(resources) (tasks in \(home.root)/agent)")
                    say("cgroups: \(agent.cgroupSummary)")
                    let names = ((try? images.records.all()) ?? []).map(\.name)
                    say("images in \(home.root): \(names.isEmpty ? "none yet (berth image pull or import)" : names.joined(separator: ", "))")
                    say("ready: berth task run --coordinator \(coordinatorURL.dropFirst(7)) --image IMAGE -- CMD")
                    say("then: berth task ls --all --coordinator \(coordinatorURL.dropFirst(7)); berth task logs [-f] --coordinator \(coordinatorURL.dropFirst(7)) TASK")
                }
                // Stopped in reverse: the agent first (supervised tasks run on), then its HTTP endpoint.
                let group = ServiceGroup(configuration: ServiceGroupConfiguration(
                    services: [.init(service: http), .init(service: AgentService(agent: agent))],
                    gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
                do {
                    try await group.run()
                } catch {
                    throw ListenFailure.explain(error, host: agentHost, port: agentPort, option: "--agent-listen")
                }
            } catch {
                try? await coordinator.stop()
                throw error
            }
            try await coordinator.stop()
        }
    }
}

/// One line on stdout: where things are, for a person and for scripts.
private func say(_ line: String) {
    FileHandle.standardOutput.write(Data("berth up: \(line)\n".utf8))
}
