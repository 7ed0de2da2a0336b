@testable import BerthAllocator
import BerthCore
import Testing

/// Properties every cycle must keep, on random clusters with reservations, running tasks,
/// outstanding offers, quotas and filters.
@Suite("Allocation invariants")
struct InvariantTests {
    static func randomSnapshot(seed: UInt64) throws -> AllocationSnapshot {
        var random = SplitMix64(seed: seed)
        func pick(_ range: Range<Int>) -> Int { range.lowerBound + Int(random.next() % UInt64(range.count)) }
        let roles = try ["a", "b", "b/x", "c"].map(Role.init)
        let frameworks = (0..<pick(1..<8)).map { index in
            FrameworkSnapshot(id: FrameworkID("f\(index)"), roles: [roles[pick(0..<roles.count)]], capabilities: [.multiRole])
        }
        var offers: [Offer] = []
        let agents = try (0..<pick(1..<30)).map { index in
            let reserved = pick(0..<3) == 0 ? ";cpus(\(roles[pick(0..<roles.count)])):2;mem(b):256" : ""
            let agent = AgentSnapshot(id: AgentID("agent-\(index)"), total: try Resources.parse("cpus:8;mem:4096;ports:[31000-31100]" + reserved))
            if pick(0..<4) == 0, let framework = frameworks.first {
                offers.append(Offer(framework: framework.id, role: framework.roles[0], agent: agent.id, resources: try Resources.parse("cpus:1.5;mem:100;ports:[31000-31009]")))
            }
            return agent
        }
        let filters = frameworks.map { OfferFilter(framework: $0.id, agent: AgentID("agent-\(pick(0..<30))"), refused: (try? Resources.parse("cpus:8;mem:4096;ports:[31000-31100]")) ?? .empty, until: Timestamp(seconds: 10)) }
        return AllocationSnapshot(agents: agents, frameworks: frameworks,
                                  roles: [roles[1]: RoleConfiguration(weight: 2, quotaLimit: try ResourceQuantities.parse("cpus:\(pick(1..<40))"))],
                                  filters: filters, outstandingOffers: offers, now: Timestamp(seconds: 5), seed: seed)
    }

    @Test(arguments: 0..<40)
    func offersFitAndRespectEveryRule(seed: Int) throws {
        let snapshot = try Self.randomSnapshot(seed: UInt64(seed))
        let offers = Allocator.allocate(snapshot)
        for agent in snapshot.agents {
            // Never more than the agent has: outstanding offers and new ones together fit in the total.
            let outstanding = snapshot.outstandingOffers.filter { $0.agent == agent.id }.map(\.resources)
            let made = offers.filter { $0.agent == agent.id }
            let all = (outstanding + made.map(\.resources)).reduce(Resources.empty, +)
            #expect(agent.total.contains(all), "\(agent.id): \(all) exceeds \(agent.total)")
            #expect(Set(made.map { "\($0.framework) \($0.role)" }).count == made.count, "one offer per framework and role per agent")
        }
        for offer in offers {
            let framework = try #require(snapshot.frameworks.first { $0.id == offer.framework })
            #expect(framework.roles.contains(offer.role))
            // Reservations only to their role tree.
            for role in offer.resources.reservationRoles { #expect(offer.role.isSelfOrDescendant(of: role)) }
            #expect(!snapshot.filters.contains { $0.framework == offer.framework && $0.covers(offer.resources, at: snapshot.now) && $0.agent == offer.agent })
        }
        // Quota on b: the unreserved cpus held by b and b/x (outstanding and new offers) stay
        // within the limit. Reservations for b are offered regardless and count toward it.
        let b = try Role("b")
        if let limit = snapshot.roles[b]?.quotaLimit?["cpus"] {
            let held = (offers + snapshot.outstandingOffers).filter { $0.role.isSelfOrDescendant(of: b) }
                .reduce(Scalar.zero) { $0 + $1.resources.unreserved.scalar(named: "cpus") }
            let outstanding = snapshot.outstandingOffers.filter { $0.role.isSelfOrDescendant(of: b) }
                .reduce(Scalar.zero) { $0 + $1.resources.scalar(named: "cpus") }
            #expect(held <= Swift.max(limit, outstanding), "b holds \(held) unreserved cpus, limit \(limit)")
        }
    }
}
