import BerthCore

/// Capabilities a framework declares at SUBSCRIBE, in Mesos' spelling.
public struct FrameworkCapability: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// Needed to subscribe with more than one role; without it only the first role is used.
    public static let multiRole = FrameworkCapability(rawValue: "MULTI_ROLE")
    /// Without it a framework is not offered agents that have GPUs, so GPUs stay free for those
    /// who can use them (Mesos' --filter_gpu_resources default).
    public static let gpuResources = FrameworkCapability(rawValue: "GPU_RESOURCES")
    public static let partitionAware = FrameworkCapability(rawValue: "PARTITION_AWARE")
}

public struct FrameworkSnapshot: Sendable {
    public var id: FrameworkID
    public var roles: [Role]
    public var suppressedRoles: Set<Role>
    public var capabilities: Set<FrameworkCapability>
    /// Disconnected frameworks (within their failover timeout) keep their share but get no offers.
    public var active: Bool

    public init(id: FrameworkID, roles: [Role], suppressedRoles: Set<Role> = [], capabilities: Set<FrameworkCapability> = [], active: Bool = true) {
        self.id = id
        self.roles = roles
        self.suppressedRoles = suppressedRoles
        self.capabilities = capabilities
        self.active = active
    }

    /// The roles offers may be made for: all of them with MULTI_ROLE, else only the first.
    public var effectiveRoles: [Role] {
        capabilities.contains(.multiRole) ? roles : Array(roles.prefix(1))
    }
}
