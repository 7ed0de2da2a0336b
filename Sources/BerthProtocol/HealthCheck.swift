import BerthCore

/// Mesos' `HealthCheck` (TaskInfo.health_check): how the agent probes a running task. Fields
/// Berth does not know are kept, so they reach the agent and go back out unchanged.
/// Defaults are Mesos': 15 s delay, 10 s interval, 20 s timeout, 3 failures, 10 s grace period.
public struct HealthCheck: Hashable, Sendable, Codable {
    public enum Kind: String, Hashable, Sendable, Codable {
        case command = "COMMAND", http = "HTTP", tcp = "TCP"
    }

    public struct HTTP: Hashable, Sendable, Codable {
        /// "http" (default); Mesos also has "https", which Berth does not do yet.
        public var scheme: String?
        public var port: Int?
        /// Default "/".
        public var path: String?
        /// Codes counted as success; Mesos' rule (200-399) when absent.
        public var statuses: [Int]?

        public init(port: Int?, path: String? = nil, scheme: String? = nil, statuses: [Int]? = nil) {
            self.port = port
            self.path = path
            self.scheme = scheme
            self.statuses = statuses
        }
    }

    public struct TCP: Hashable, Sendable, Codable {
        public var port: Int?
        public init(port: Int?) { self.port = port }
    }

    public var type: Kind?
    /// A `type` Berth does not know (Mesos' GRPC, a newer one): kept, so the agent can say so in
    /// a TASK_ERROR rather than the whole call being refused.
    public var unsupportedType: String?
    public var command: CommandInfo?
    public var http: HTTP?
    public var tcp: TCP?
    public var delaySeconds: Double?
    public var intervalSeconds: Double?
    public var timeoutSeconds: Double?
    public var consecutiveFailures: Int?
    public var gracePeriodSeconds: Double?
    /// Fields of the JSON not listed above, kept as they came.
    public var unknown: [String: JSONValue] = [:]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case type, command, http, tcp
        case delaySeconds = "delay_seconds", intervalSeconds = "interval_seconds", timeoutSeconds = "timeout_seconds"
        case consecutiveFailures = "consecutive_failures", gracePeriodSeconds = "grace_period_seconds"
    }

    public init(type: Kind?, command: CommandInfo? = nil, http: HTTP? = nil, tcp: TCP? = nil, delaySeconds: Double? = nil,
                intervalSeconds: Double? = nil, timeoutSeconds: Double? = nil, consecutiveFailures: Int? = nil, gracePeriodSeconds: Double? = nil) {
        self.type = type
        self.command = command
        self.http = http
        self.tcp = tcp
        self.delaySeconds = delaySeconds
        self.intervalSeconds = intervalSeconds
        self.timeoutSeconds = timeoutSeconds
        self.consecutiveFailures = consecutiveFailures
        self.gracePeriodSeconds = gracePeriodSeconds
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let name = try container.decodeIfPresent(String.self, forKey: .type) {
            type = Kind(rawValue: name)
            if type == nil { unsupportedType = name }
        }
        command = try container.decodeIfPresent(CommandInfo.self, forKey: .command)
        http = try container.decodeIfPresent(HTTP.self, forKey: .http)
        tcp = try container.decodeIfPresent(TCP.self, forKey: .tcp)
        delaySeconds = try container.decodeIfPresent(Double.self, forKey: .delaySeconds)
        intervalSeconds = try container.decodeIfPresent(Double.self, forKey: .intervalSeconds)
        timeoutSeconds = try container.decodeIfPresent(Double.self, forKey: .timeoutSeconds)
        consecutiveFailures = try container.decodeIfPresent(Int.self, forKey: .consecutiveFailures)
        gracePeriodSeconds = try container.decodeIfPresent(Double.self, forKey: .gracePeriodSeconds)
        if case .object(var fields) = try JSONValue(from: decoder) {
            for key in CodingKeys.allCases { fields[key.rawValue] = nil }
            unknown = fields
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(type?.rawValue ?? unsupportedType, forKey: .type)
        try container.encodeIfPresent(command, forKey: .command)
        try container.encodeIfPresent(http, forKey: .http)
        try container.encodeIfPresent(tcp, forKey: .tcp)
        try container.encodeIfPresent(delaySeconds, forKey: .delaySeconds)
        try container.encodeIfPresent(intervalSeconds, forKey: .intervalSeconds)
        try container.encodeIfPresent(timeoutSeconds, forKey: .timeoutSeconds)
        try container.encodeIfPresent(consecutiveFailures, forKey: .consecutiveFailures)
        try container.encodeIfPresent(gracePeriodSeconds, forKey: .gracePeriodSeconds)
        var extra = encoder.container(keyedBy: AnyKey.self)
        for (key, value) in unknown.sorted(by: { $0.key < $1.key }) {
            try extra.encode(value, forKey: AnyKey(stringValue: key))
        }
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public var delay: Double { delaySeconds ?? 15 }
    public var interval: Double { intervalSeconds ?? 10 }
    public var timeout: Double { timeoutSeconds ?? 20 }
    public var failuresToKill: Int { consecutiveFailures ?? 3 }
    public var gracePeriod: Double { gracePeriodSeconds ?? 10 }

    /// What is wrong with it, in words that say what to fix; nil when it can run. Mesos'
    /// validation, plus what Berth cannot do yet (https).
    public var problem: String? {
        for (name, value) in [("delay_seconds", delaySeconds), ("grace_period_seconds", gracePeriodSeconds)] {
            if let value, !(value >= 0) { return "health_check.\(name) is \(value): give a number of seconds, 0 or more" }
        }
        for (name, value) in [("interval_seconds", intervalSeconds), ("timeout_seconds", timeoutSeconds)] {
            if let value, !(value > 0) { return "health_check.\(name) is \(value): give a number of seconds above 0" }
        }
        if let consecutiveFailures, consecutiveFailures < 1 {
            return "health_check.consecutive_failures is \(consecutiveFailures): give how many failures in a row kill the task, 1 or more"
        }
        if let unsupportedType { return "health_check.type \(unsupportedType) is not supported: use COMMAND, HTTP or TCP" }
        guard let type else { return "health_check has no type: give COMMAND, HTTP or TCP" }
        switch type {
        case .command:
            guard let command else { return "health_check of type COMMAND has no command: give health_check.command.value" }
            if command.shell ?? true {
                if (command.value ?? "").isEmpty { return "health_check.command has no value: give the shell command to run" }
            } else if (command.value ?? "").isEmpty {
                return "health_check.command with shell false has no value: give the program to run"
            }
        case .http:
            guard let http else { return "health_check of type HTTP has no http: give health_check.http.port" }
            guard let port = http.port else { return "health_check.http has no port: give the port the task serves on" }
            if !(1...65535).contains(port) { return "health_check.http.port \(port) is not a port: give 1-65535" }
            if let scheme = http.scheme, scheme != "http" {
                return "health_check.http.scheme \(scheme) is not supported: use http"
            }
            if let path = http.path, !path.hasPrefix("/") { return "health_check.http.path \(path) must start with /" }
        case .tcp:
            guard let port = tcp?.port else { return "health_check of type TCP has no tcp.port: give the port the task listens on" }
            if !(1...65535).contains(port) { return "health_check.tcp.port \(port) is not a port: give 1-65535" }
        }
        return nil
    }
}
