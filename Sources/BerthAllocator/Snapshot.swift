import BerthCore

/// A point in time as a plain value, seconds on whatever clock the caller uses: the allocator
/// compares filter deadlines against the `now` it is given and never reads a clock.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var seconds: Double

    public init(seconds: Double) { self.seconds = seconds }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.seconds < rhs.seconds }
    public static func + (lhs: Timestamp, seconds: Double) -> Timestamp { Timestamp(seconds: lhs.seconds + seconds) }
    public var description: String { "t=\(seconds)s" }
}

/// Resources held by one framework in one role on an agent: running tasks and executors, or an
/// outstanding offer. Both count toward the role's and the framework's share.
public struct Allocation: Hashable, Sendable {
    public var framework: FrameworkID
    public var role: Role
    public var resources: Resources

    public init(framework: FrameworkID, role: Role, resources: Resources) {
        self.framework = framework
        self.role = role
        self.resources = resources
    }
}

public struct AgentSnapshot: Sendable {
    public var id: AgentID
    public var total: Resources
    /// What running tasks and executors use (outstanding offers are listed in the snapshot apart).
    public var allocations: [Allocation]
    public var attributes: [String: String]
    /// Unreachable agents are never offered.
    public var reachable: Bool

    public init(id: AgentID, total: Resources, allocations: [Allocation] = [], attributes: [String: String] = [:], reachable: Bool = true) {
        self.id = id
        self.total = total
        self.allocations = allocations
        self.attributes = attributes
        self.reachable = reachable
    }
}

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

public struct RoleConfiguration: Hashable, Sendable {
    /// Relative share: a role of weight 3 is entitled to three times the dominant share of a role
    /// of weight 1. Must be positive; anything else is read as 1.
    public var weight: Double
    /// The most the role and its subroles together may hold, per scalar resource; nil for none.
    public var quotaLimit: ResourceQuantities?

    public init(weight: Double = 1, quotaLimit: ResourceQuantities? = nil) {
        self.weight = weight
        self.quotaLimit = quotaLimit
    }

    var effectiveWeight: Double { weight.isFinite && weight > 0 ? weight : 1 }
}

/// A DECLINE's refuse_seconds: the framework does not want `refused` on `agent` before `until`.
public struct OfferFilter: Hashable, Sendable {
    public var framework: FrameworkID
    public var agent: AgentID
    public var refused: Resources
    public var until: Timestamp

    public init(framework: FrameworkID, agent: AgentID, refused: Resources, until: Timestamp) {
        self.framework = framework
        self.agent = agent
        self.refused = refused
        self.until = until
    }

    public func isActive(at now: Timestamp) -> Bool { until > now }

    /// Mesos' rule: a filter holds back a slice it wholly covers, so a slice that grew since the
    /// decline (a task finished) is offered again.
    public func covers(_ slice: Resources, at now: Timestamp) -> Bool {
        isActive(at: now) && refused.contains(slice)
    }
}

/// What one allocation cycle sees: everything is a value, nothing is read from outside.
public struct AllocationSnapshot: Sendable {
    public var agents: [AgentSnapshot]
    public var frameworks: [FrameworkSnapshot]
    /// Weights and quotas; roles not listed have weight 1 and no quota.
    public var roles: [Role: RoleConfiguration]
    public var filters: [OfferFilter]
    /// Offers made and not yet answered: their resources are not free, and count as allocated.
    public var outstandingOffers: [Offer]
    /// A slice is offered only if it holds at least one of these; empty means any non-empty slice.
    public var minAllocatableResources: [ResourceQuantities]
    public var now: Timestamp
    /// Mesos shuffles agents each cycle so no agent is always first; the seed keeps that reproducible.
    public var seed: UInt64

    /// Mesos' default --min_allocatable_resources: `cpus:0.01|mem:32`.
    public static let mesosMinAllocatable = [ResourceQuantities(["cpus": Scalar(milli: 10)]), ResourceQuantities(["mem": 32])]

    public init(agents: [AgentSnapshot] = [], frameworks: [FrameworkSnapshot] = [], roles: [Role: RoleConfiguration] = [:],
                filters: [OfferFilter] = [], outstandingOffers: [Offer] = [],
                minAllocatableResources: [ResourceQuantities] = AllocationSnapshot.mesosMinAllocatable,
                now: Timestamp = Timestamp(seconds: 0), seed: UInt64 = 0) {
        self.agents = agents
        self.frameworks = frameworks
        self.roles = roles
        self.filters = filters
        self.outstandingOffers = outstandingOffers
        self.minAllocatableResources = minAllocatableResources
        self.now = now
        self.seed = seed
    }

    func configuration(of role: Role) -> RoleConfiguration { roles[role] ?? RoleConfiguration() }
}

/// Resources offered to one framework for one of its roles on one agent.
public struct Offer: Hashable, Sendable, CustomStringConvertible {
    public var framework: FrameworkID
    public var role: Role
    public var agent: AgentID
    public var resources: Resources

    public init(framework: FrameworkID, role: Role, agent: AgentID, resources: Resources) {
        self.framework = framework
        self.role = role
        self.agent = agent
        self.resources = resources
    }

    public var description: String { "\(framework) as \(role) on \(agent): \(resources)" }
}
