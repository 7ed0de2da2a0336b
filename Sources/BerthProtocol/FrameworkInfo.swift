import BerthCore

/// What a framework says about itself at SUBSCRIBE and UPDATE_FRAMEWORK.
public struct FrameworkInfo: Hashable, Sendable, Codable {
    public var user: String
    public var name: String
    public var id: FrameworkID?
    /// Seconds a disconnected framework keeps its tasks before they are killed; Mesos' default 0.
    public var failoverTimeout: Double?
    public var checkpoint: Bool?
    /// Pre-MULTI_ROLE single role; read when `roles` is absent.
    public var role: String?
    public var roles: [String]?
    public var hostname: String?
    public var principal: String?
    public var webuiURL: String?
    public var capabilities: [Capability]?
    public var labels: JSONValue?

    enum CodingKeys: String, CodingKey {
        case user, name, id, failoverTimeout = "failover_timeout", checkpoint, role, roles, hostname, principal
        case webuiURL = "webui_url", capabilities, labels
    }

    public init(user: String, name: String, id: FrameworkID? = nil, failoverTimeout: Double? = nil, roles: [String]? = nil,
                capabilities: [String] = [], hostname: String? = nil, principal: String? = nil) {
        self.user = user
        self.name = name
        self.id = id
        self.failoverTimeout = failoverTimeout
        self.roles = roles
        self.capabilities = capabilities.isEmpty ? nil : capabilities.map(Capability.init(type:))
        self.hostname = hostname
        self.principal = principal
    }

    /// `{"type": "MULTI_ROLE"}`.
    public struct Capability: Hashable, Sendable, Codable {
        public var type: String
        public init(type: String) { self.type = type }
    }

    /// The roles to subscribe with: `roles`, else the old `role`, else `*`. Throws on an invalid name.
    public func validatedRoles() throws -> [Role] {
        let names = roles ?? [role ?? "*"]
        var result: [Role] = []
        for name in names {
            let role = try Role(name)
            if !result.contains(role) { result.append(role) }
        }
        return result
    }

    public var capabilityNames: Set<String> { Set((capabilities ?? []).map(\.type)) }
}
