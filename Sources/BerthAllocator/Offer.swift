import BerthCore

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
