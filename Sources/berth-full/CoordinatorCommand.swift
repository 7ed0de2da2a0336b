import ArgumentParser
import BerthCoordinator
import BerthCore
import BerthRunCLI
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

struct CoordinatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "Run the coordinator: agents, resource offers and the Mesos v1 scheduler API.",
        discussion: "State (frameworks with their failover deadlines, agents, tasks) is kept in HOME/coordinator/coordinator.sqlite and taken up again at start. SIGTERM or SIGINT stop it gracefully.")

    @Option(help: ArgumentHelp("Address to listen on (port 0 picks a free one).", valueName: "host:port"))
    var listen = "127.0.0.1:5050"

    @OptionGroup var homeOptions: HomeOptions

    @Option(help: ArgumentHelp("How often resources are offered, e.g. 1s or 500ms.", valueName: "duration"))
    var allocationInterval = "1s"

    @Option(help: ArgumentHelp("Agents are told to heartbeat this often; the unit of the unreachable rule.", valueName: "duration"))
    var agentPingTimeout = "15s"

    @Option(help: "An agent silent for this many ping timeouts is unreachable.")
    var maxAgentPingTimeouts = 5

    @Option(help: ArgumentHelp("HEARTBEAT events to frameworks this often.", valueName: "duration"))
    var heartbeatInterval = "15s"

    @Option(help: ArgumentHelp("Rescind offers left unanswered this long, e.g. 30s (default: never; Mesos' --offer_timeout).", valueName: "duration"))
    var offerTimeout: String?

    @Option(help: "swift-log level on stderr (also BERTH_LOG_LEVEL).")
    var logLevel: String?

    func run() throws {
        var configuration = CoordinatorConfiguration()
        (configuration.host, configuration.port) = try Self.parseListen(listen)
        configuration.home = homeOptions.resolved.root
        configuration.allocationInterval = try Self.parseDuration(allocationInterval, option: "--allocation-interval")
        configuration.agentPingTimeout = try Self.parseDuration(agentPingTimeout, option: "--agent-ping-timeout")
        configuration.frameworkHeartbeatInterval = try Self.parseDuration(heartbeatInterval, option: "--heartbeat-interval")
        guard maxAgentPingTimeouts > 0 else { throw ValidationError("--max-agent-ping-timeouts must be at least 1") }
        configuration.maxAgentPingTimeouts = maxAgentPingTimeouts
        configuration.offerTimeout = try offerTimeout.map { try Self.parseDuration($0, option: "--offer-timeout") }
        let logger = Logs.bootstrap(level: logLevel ?? "info")
        let server = try CoordinatorServer(configuration: configuration, logger: logger)
        let group = server.serviceGroup(signals: [.sigterm, .sigint])
        let host = configuration.host
        try Blocking.run {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                tasks.addTask {
                    for await port in server.listeningPorts {
                        // On stdout, so scripts (and tests) using port 0 learn the port.
                        FileHandle.standardOutput.write(Data("berth coordinator listening on http://\(host):\(port)\n".utf8))
                    }
                }
                try await tasks.waitForAll()
            }
        }
    }

    static func parseListen(_ text: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("--listen \(text): expected HOST:PORT, e.g. 127.0.0.1:5050 or 0.0.0.0:5050")
        }
        let host = String(text[..<colon])
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }

    /// "1s", "500ms", "2m", "24h", "7d", or plain seconds ("1.5").
    static func parseDuration(_ text: String, option: String) throws -> Duration {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        var number = Substring(text)
        var scale = 1.0
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            number = text.dropLast(suffix.count)
            scale = factor
            break
        }
        guard let value = Double(number), value.isFinite, value > 0 else {
            throw ValidationError("\(option) \(text): expected a positive duration such as 1s, 500ms or 2m")
        }
        return .milliseconds(Int64((value * scale * 1000).rounded()))
    }
}
