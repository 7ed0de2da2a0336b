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
