import BerthCore

/// One reason a framework is not receiving offers, for the "why no offers" endpoint. Each says
/// what holds the offers back and what would release them.
public enum OfferBlocker: Hashable, Sendable, CustomStringConvertible {
    case unknownFramework(FrameworkID)
    case inactive
    case noRoles
    case rolesIgnoredWithoutMultiRole(used: Role, ignored: [Role])
    case suppressed(role: Role)
    case noAgents
    case noReachableAgents(unreachable: Int)
    case filtered(agent: AgentID, until: Timestamp, secondsLeft: Double, refused: Resources)
    case gpuAgentsWithheld(agents: Int)
    /// `limitedBy` is the role whose quota is used up: the framework's role or an ancestor.
    case overQuota(role: Role, limitedBy: Role, resource: String, held: Scalar, limit: Scalar)
    /// No reachable agent has a slice for the role that meets min_allocatable_resources.
    case noAllocatableSlice(role: Role, largestFree: Resources?, on: AgentID?, minimum: [ResourceQuantities])
    /// Slices were there, and went to roles or frameworks with a lower weighted share.
    case outranked(role: Role, offersToOthers: Int)

    public var description: String { message }

    public var message: String {
        switch self {
        case .unknownFramework(let id):
            "framework \(id) is not subscribed; SUBSCRIBE first (or again, with the same id, after a failover)"
        case .inactive:
            "the framework is disconnected: it keeps its resources until its failover timeout but gets no offers until it re-subscribes"
        case .noRoles:
            "the framework subscribed with no role; give at least one in FrameworkInfo.roles (\"*\" for the default role)"
        case .rolesIgnoredWithoutMultiRole(let used, let ignored):
            "only role \(used) is used: the framework lacks the MULTI_ROLE capability, so \(ignored.map(\.name).joined(separator: ", ")) get no offers; add MULTI_ROLE to FrameworkInfo.capabilities"
        case .suppressed(let role):
            "offers for role \(role) are suppressed; send REVIVE for the role to receive them again"
        case .noAgents:
            "no agents are registered"
        case .noReachableAgents(let unreachable):
            "none of the \(unreachable) registered agents is reachable"
        case .filtered(let agent, let until, let secondsLeft, let refused):
            "agent \(agent) is filtered until \(until) (\(Self.format(secondsLeft)) s from now) after a DECLINE of \(refused); REVIVE clears filters, or decline with a shorter refuse_seconds"
        case .gpuAgentsWithheld(let agents):
            "\(agents) agent(s) with GPUs are not offered: the framework lacks the GPU_RESOURCES capability"
        case .overQuota(let role, let limitedBy, let resource, let held, let limit):
            limitedBy == role
                ? "role \(role) is at its quota for \(resource): it holds \(held) of a limit of \(limit); raise the quota or wait for tasks to finish"
                : "role \(role) gets no more \(resource): its ancestor \(limitedBy) holds \(held) of a limit of \(limit); raise the quota or wait for tasks to finish"
        case .noAllocatableSlice(let role, let largest, let agent, let minimum):
            if let largest, let agent {
                "no agent has enough free resources for role \(role): the largest free slice is \(largest) on \(agent), and an offer needs at least one of \(minimum.map(\.description).joined(separator: " | ")) (min_allocatable_resources)"
            } else {
                "no agent has free resources for role \(role): everything is in use or offered to others"
            }
        case .outranked(let role, let count):
            "the free resources usable by role \(role) went to roles or frameworks with a lower weighted dominant share (\(count) offer(s) this cycle); offers follow as they decline or finish tasks"
        }
    }

    private static func format(_ seconds: Double) -> String {
        let tenths = (seconds * 10).rounded()
        return tenths.truncatingRemainder(dividingBy: 10) == 0 ? String(Int(tenths / 10)) : String(tenths / 10)
    }
}
