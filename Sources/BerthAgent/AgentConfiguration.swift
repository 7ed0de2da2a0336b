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
    /// What the agent needs across its own restarts but not the host's (Mesos' `--runtime_dir`):
    /// each supervised container's `launch.json`, `pid` and `exit`, under `containers/`. Under
    /// `/run`, a tmpfs on an ordinary host, by default: every launch makes and removes these
    /// files, and there that costs no disk work (docs/benchmarks.md, "Launch").
    public var runtimeDirectory: String
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
    /// Rotation of each task's `stdout` and `stderr` by size (Mesos' LogrotateContainerLogger):
    /// done by the container's supervisor, so only with `supervision`. Nil: files grow unbounded.
    public var logRotation: LogRotation? = LogRotation()
    /// Garbage collection of finished sandboxes and unused images (docs/agent.md).
    public var garbageCollection = GarbageCollection()
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
        runtimeDirectory = Self.defaultRuntimeDirectory(home: home.root)
    }

    /// `/run/berth/agent/<home>`, the home's path percent-encoded into one component: agents on
    /// one host with different homes never share it.
    public static func defaultRuntimeDirectory(home: String) -> String {
        let path = home.drop { $0 == "/" }
        return "/run/berth/agent/" + AgentStore.component(path.isEmpty ? "root" : String(path))
    }

    public struct LogRotation: Sendable, Equatable {
        /// A file reaching this many bytes is renamed `.1` and a new one started (Mesos'
        /// `max_stdout_size`: 10 MB).
        public var maxSize: Int64 = 10 << 20
        /// How many rotated files to keep (`stdout.1` ... `stdout.N`); 0 starts the file over.
        public var keep: Int = 3
        public init(maxSize: Int64 = 10 << 20, keep: Int = 3) {
            self.maxSize = maxSize
            self.keep = keep
        }
    }

    public struct GarbageCollection: Sendable {
        /// How long a forgotten task's sandbox is kept, at most (Mesos' `--gc_delay`: 1 week);
        /// shortened as the disk fills (`SandboxCollector.maximumAge`).
        public var sandboxDelay: Duration = .seconds(7 * 24 * 3600)
        /// The disk fraction kept free on top of the usage when shortening (Mesos'
        /// `--gc_disk_headroom`: 0.1).
        public var diskHeadroom: Double = 0.1
        /// How often the disk is checked and collection runs (Mesos' `--disk_watch_interval`: 1 min).
        public var interval: Duration = .seconds(60)
        /// Images not used by any container for this long are removed (nil: never by age).
        public var imageUnusedFor: Duration? = .seconds(7 * 24 * 3600)
        /// Under this fraction of free disk, least recently used images are removed (nil: never).
        public var imageMinimumFree: Double? = 0.1
        public init() {}
    }

    /// The agent's own state: `<home>/agent`.
    public var stateDirectory: String { home.root + "/agent" }

    /// `--log-max-size 10M`: bytes, with an optional K, M or G (powers of 1024).
    public static func parseSize(_ text: String, option: String) throws -> Int64 {
        let units: [Character: Int64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        var number = text.uppercased()
        if number.hasSuffix("B") && number.count > 1 && units[number[number.index(number.endIndex, offsetBy: -2)]] != nil { number.removeLast() }
        var factor: Int64 = 1
        if let last = number.last, let unit = units[last] {
            factor = unit
            number.removeLast()
        }
        guard let value = Int64(number), value > 0, value <= Int64.max / factor else {
            throw BerthError(.invalidArgument, "\(option) \(text): expected a size such as 10M, 512K or 1G")
        }
        return value * factor
    }

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
