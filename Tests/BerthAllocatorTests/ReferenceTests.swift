@testable import BerthAllocator
import BerthCore
import Testing

/// The allocator keeps its sort orders up to date incrementally. This checks it against the
/// plain reading of hierarchical DRF: before every agent, compute every share from scratch and
/// sort. Random clusters (seeded), no quota, reservations or filters: those have tables of their own.
@Suite("Incremental sorter against a from-scratch reference")
struct ReferenceTests {
    static func randomSnapshot(seed: UInt64) throws -> AllocationSnapshot {
        var random = SplitMix64(seed: seed)
        func pick(_ range: Range<Int>) -> Int { range.lowerBound + Int(random.next() % UInt64(range.count)) }
        let roleNames = ["a", "b", "b/x", "b/y", "b/y/z", "c"]
        let roles = try roleNames.map(Role.init)
        let frameworks = try (0..<pick(1..<12)).map { index in
            var chosen = [roles[pick(0..<roles.count)]]
            if pick(0..<3) == 0 { chosen.append(roles[pick(0..<roles.count)]) }
            return FrameworkSnapshot(id: FrameworkID("f\(index)"), roles: Array(Set(chosen)).sorted(), capabilities: [.multiRole])
        }
        let agents = try (0..<pick(1..<60)).map { index in
            let total = try Resources.parse("cpus:\(pick(1..<16));mem:\(pick(1..<64) * 512);disk:\(pick(0..<3) * 1000)")
            var agent = AgentSnapshot(id: AgentID("agent-\(index)"), total: total)
            if pick(0..<3) == 0, let framework = frameworks.randomElement(using: &random), let role = framework.roles.first {
                agent.allocations = [Allocation(framework: framework.id, role: role, resources: try Resources.parse("cpus:1;mem:256"))]
            }
            return agent
        }
        var weights: [Role: RoleConfiguration] = [:]
        for role in roles where pick(0..<2) == 0 { weights[role] = RoleConfiguration(weight: Double(pick(1..<5))) }
        return AllocationSnapshot(agents: agents, frameworks: frameworks, roles: weights, seed: seed)
    }

    @Test(arguments: 0..<40)
    func sameOffersAsReference(seed: Int) throws {
        let snapshot = try Self.randomSnapshot(seed: UInt64(seed))
        let offers = Allocator.allocate(snapshot)
        #expect(!offers.isEmpty)
        #expect(offers == (try Self.reference(snapshot)))
    }

    /// Hierarchical DRF the slow way. Shares as the allocator defines them: held / cluster total,
    /// dominant = max, divided by the role's weight; ties by name.
    static func reference(_ snapshot: AllocationSnapshot) throws -> [Offer] {
        var total: [String: Double] = [:]
        for agent in snapshot.agents { for name in ["cpus", "mem", "disk"] { total[name, default: 0] += agent.total.scalar(named: name).doubleValue } }
        var held: [Role: [FrameworkID: Resources]] = [:]
        for agent in snapshot.agents { for allocation in agent.allocations { held[allocation.role, default: [:]][allocation.framework, default: .empty] += allocation.resources } }
        func share(_ resources: Resources) -> Double {
            ["cpus", "mem", "disk"].map { total[$0, default: 0] > 0 ? resources.scalar(named: $0).doubleValue / total[$0, default: 0] : 0 }.max() ?? 0
        }
        func weight(_ role: Role) -> Double { snapshot.roles[role]?.weight ?? 1 }
        func subtree(_ role: Role) -> Resources {
            held.filter { $0.key.isSelfOrDescendant(of: role) }.values.flatMap(\.values).reduce(Resources.empty, +)
        }
        let candidates = Dictionary(grouping: snapshot.frameworks.flatMap { framework in framework.roles.map { ($0, framework.id) } }, by: \.0).mapValues { $0.map(\.1) }
        let allRoles = Set(held.keys).union(candidates.keys).union(snapshot.roles.keys)
        let nodes = allRoles.union(allRoles.flatMap(\.ancestors))
        func key(_ share: Double, _ name: String) -> (Double, String) { ((share * 1e12).rounded() / 1e12, name) }
        func less(_ a: (Double, String), _ b: (Double, String)) -> Bool { a.0 != b.0 ? a.0 < b.0 : a.1 < b.1 }
        func hasCandidates(_ role: Role) -> Bool { candidates.keys.contains { $0.isSelfOrDescendant(of: role) } }
        /// Depth first: a node's children are its subroles (by subtree share) and itself (by its own share).
        func order(children: [Role], own: Role?) -> [Role] {
            var entries: [((Double, String), Role, Bool)] = children.filter(hasCandidates).map { (key(share(subtree($0)) / weight($0), $0.name), $0, false) }
            if let own, candidates[own] != nil {
                entries.append((key(share(held[own, default: [:]].values.reduce(Resources.empty, +)) / weight(own), own.name), own, true))
            }
            return entries.sorted { less($0.0, $1.0) }.flatMap { entry in
                entry.2 ? [entry.1] : order(children: nodes.filter { $0.parent == entry.1 }.sorted(), own: entry.1)
            }
        }

        var offers: [Offer] = []
        let minimums = [try ResourceQuantities.parse("cpus:0.01"), try ResourceQuantities.parse("mem:32")]
        let ordered = AgentOrder(agents: snapshot.agents, seed: snapshot.seed).positions.map { snapshot.agents[$0] }
        for agent in ordered {
            let free = agent.allocations.reduce(agent.total) { $0.removing($1.resources) }
            guard minimums.contains(where: free.quantities.contains) else { continue }
            let roleOrder = order(children: nodes.filter { $0.parent == nil }.sorted(), own: nil)
            guard let role = roleOrder.first, let framework = candidates[role]?.min(by: {
                less(key(share(held[role]?[$0] ?? .empty), $0.value), key(share(held[role]?[$1] ?? .empty), $1.value))
            }) else { continue }
            held[role, default: [:]][framework, default: .empty] += free
            offers.append(Offer(framework: framework, role: role, agent: agent.id, resources: free))
        }
        return offers
    }
}
