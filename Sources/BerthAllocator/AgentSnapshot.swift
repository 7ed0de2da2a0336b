import BerthCore

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
