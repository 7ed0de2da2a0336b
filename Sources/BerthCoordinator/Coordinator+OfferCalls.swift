import BerthAllocator
import BerthCore
import BerthProtocol
import Logging

/// DECLINE, REVIVE and SUPPRESS: what a framework says about the offers it wants.
extension Coordinator {
    func decline(_ decline: Call.Decline, from id: FrameworkID) {
        let refuse = decline.filters?.refuseSeconds ?? configuration.defaultRefuseSeconds
        for offerID in decline.offerIDs {
            guard let record = offers[offerID], record.offer.framework == id else { continue }
            offers[offerID] = nil
            addFilter(framework: id, agent: record.offer.agent, refused: record.offer.resources, seconds: refuse)
        }
        requestAllocation()
    }

    func addFilter(framework: FrameworkID, agent: AgentID, refused: Resources, seconds: Double) {
        guard seconds > 0, seconds.isFinite, !refused.isEmpty else { return }
        filters.append(OfferFilter(framework: framework, agent: agent, refused: refused, until: now + seconds))
    }

    /// REVIVE: drops the framework's filters and un-suppresses the roles (all when none given).
    func revive(_ id: FrameworkID, roles names: [String]?) throws {
        let roles = try resolveRoles(names, of: id)
        filters.removeAll { $0.framework == id }
        frameworks[id]?.suppressed.subtract(roles)
        requestAllocation()
    }

    func suppress(_ id: FrameworkID, roles names: [String]?) throws {
        let roles = try resolveRoles(names, of: id)
        frameworks[id]?.suppressed.formUnion(roles)
        removeOffers { $0.framework == id && roles.contains($0.role) }
    }

    private func resolveRoles(_ names: [String]?, of id: FrameworkID) throws -> [Role] {
        guard let framework = frameworks[id] else { return [] }
        guard let names, !names.isEmpty else { return framework.roles }
        return try names.map { name in
            let role = try Role(name)
            guard framework.roles.contains(role) else {
                throw BerthError(.invalidArgument, "role \(role) is not one of the framework's roles (\(framework.roles.map(\.name).joined(separator: ", "))); subscribe with it or name one of those")
            }
            return role
        }
    }
}
