import BerthAllocator
import BerthCore
import BerthProtocol

extension OfferStatusDocument {
    init(framework: FrameworkID, blockers: [OfferBlocker]) {
        self.init(frameworkID: framework.value, receivingOffers: blockers.isEmpty, blockers: blockers.map(Self.blocker))
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
