import BerthAllocator
import BerthCore

/// `GET /api/v1/frameworks/{id}/offer-status`: why a framework is (not) receiving offers.
public struct OfferStatusDocument: Codable, Sendable {
    public var frameworkID: String
    /// True when nothing holds offers back.
    public var receivingOffers: Bool
    public var blockers: [Blocker]

    enum CodingKeys: String, CodingKey { case frameworkID = "framework_id", receivingOffers = "receiving_offers", blockers }

    public struct Blocker: Codable, Sendable {
        /// A stable code a program can switch on ("SUPPRESSED", "FILTERED", ...).
        public var reason: String
        public var role: String?
        public var agentID: String?
        public var message: String

        enum CodingKeys: String, CodingKey { case reason, role, agentID = "agent_id", message }
    }

    init(framework: FrameworkID, blockers: [OfferBlocker]) {
        frameworkID = framework.value
        receivingOffers = blockers.isEmpty
        self.blockers = blockers.map(Self.blocker)
    }

    static func blocker(_ blocker: OfferBlocker) -> Blocker {
        let (reason, role, agent): (String, Role?, AgentID?) = switch blocker {
        case .unknownFramework: ("UNKNOWN_FRAMEWORK", nil, nil)
        case .inactive: ("INACTIVE", nil, nil)
        case .noRoles: ("NO_ROLES", nil, nil)
        case .rolesIgnoredWithoutMultiRole(let used, _): ("ROLES_IGNORED_WITHOUT_MULTI_ROLE", used, nil)
        case .suppressed(let role): ("SUPPRESSED", role, nil)
        case .noAgents: ("NO_AGENTS", nil, nil)
        case .noReachableAgents: ("NO_REACHABLE_AGENTS", nil, nil)
        case .filtered(let agent, _, _, _): ("FILTERED", nil, agent)
        case .gpuAgentsWithheld: ("GPU_AGENTS_WITHHELD", nil, nil)
        case .overQuota(let role, _, _, _, _): ("OVER_QUOTA", role, nil)
        case .noAllocatableSlice(let role, _, let agent, _): ("NO_ALLOCATABLE_SLICE", role, agent)
        case .outranked(let role, _): ("OUTRANKED", role, nil)
        }
        return Blocker(reason: reason, role: role?.name, agentID: agent?.value, message: blocker.message)
    }
}
