import BerthCore
import BerthImage
import BerthProtocol
import Foundation

/// How an agent runs. Defaults follow the Mesos agent where it has one.
public struct AgentConfiguration: Sendable {
    /// `http://HOST:PORT` of the coordinator, without a trailing slash.
    public var coordinator: String
    /// Images (shared with `berth run`) and, under `agent/`, the agent's ID, tasks and sandboxes.
    public var home: BerthHome
    public var hostname: String
    /// What the agent offers: detected, with `--resources` taking precedence name by name.
    public var resources: Resources
    public var attributes: [Attribute] = []
    /// The root filesystem of command tasks that name no image (Mesos' `--default_container_info`):
    /// a directory, or else an image name in `defaultImage`. Without either such tasks fail.
    public var defaultRootfs: String?
    public var defaultImage: String?
    /// Run each container under a supervisor so it outlives the agent; nil keeps containers as
    /// children of the agent, killed when it stops (tests, and hosts without the supervisor).
    public var supervision: Supervision?
    /// Registries pulled from over plain HTTP (loopback registries always are).
    public var insecureRegistries: Set<String> = []
    /// Launches doing their blocking steps (rootfs, container start) at once; more wait their turn.
    public var concurrentLaunches = ProcessInfo.processInfo.activeProcessorCount * 8
    /// SIGTERM to SIGKILL when a KILL gives no kill policy (Mesos: 3 s).
    public var defaultGracePeriod: Duration = .seconds(3)
    /// First resend of an unacknowledged status update; doubles up to `statusRetryMaximum`
    /// (Mesos: 10 s and 10 min).
    public var statusRetryInterval: Duration = .seconds(10)
    public var statusRetryMaximum: Duration = .seconds(600)
    /// Wait before re-registering after the stream ended; doubles up to `reconnectMaximum`.
    public var reconnectInterval: Duration = .milliseconds(500)
    public var reconnectMaximum: Duration = .seconds(30)

    public init(coordinator: String, home: BerthHome, hostname: String, resources: Resources) {
        self.coordinator = coordinator.hasSuffix("/") ? String(coordinator.dropLast()) : coordinator
        self.home = home
        self.hostname = hostname
        self.resources = resources
    }

    /// The agent's own state: `<home>/agent`.
    public var stateDirectory: String { home.root + "/agent" }

    /// `--attributes "rack:a;zone:1"`: text attributes, as Mesos' agent flag takes them.
    public static func parseAttributes(_ text: String) throws -> [Attribute] {
        var attributes: [Attribute] = []
        for entry in text.split(separator: ";", omittingEmptySubsequences: true) {
            let parts = entry.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let name = parts[0].trimmingCharacters(in: .whitespaces)
            guard parts.count == 2, !name.isEmpty, !parts[1].isEmpty else {
                throw BerthError(.invalidArgument, "attribute \"\(entry)\": write NAME:VALUE, several separated by \";\" (e.g. \"rack:a;zone:1\")")
            }
            guard !attributes.contains(where: { $0.name == name }) else {
                throw BerthError(.invalidArgument, "attribute \"\(name)\" is given twice")
            }
            attributes.append(Attribute(name: name, value: String(parts[1])))
        }
        return attributes
    }
}
