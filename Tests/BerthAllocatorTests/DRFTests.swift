import BerthAllocator
import BerthCore
import Testing

@Suite("Weighted DRF")
struct DRFTests {
    /// Two roles with one framework each on a uniform cluster: whole agents go to the role with
    /// the lowest dominant share divided by weight, so the split follows the weights exactly.
    static let weighted: [(agents: Int, weightA: Double, weightB: Double, a: Int, b: Int)] = [
        (40, 1, 1, 20, 20),
        (40, 1, 3, 10, 30),
        (30, 2, 1, 20, 10),
        (41, 1, 1, 21, 20),
        (10, 1, 9, 1, 9),
    ]

    @Test(arguments: weighted)
    func rolesShareByWeight(agents: Int, weightA: Double, weightB: Double, a: Int, b: Int) throws {
        let snapshot = AllocationSnapshot(
            agents: try Fixtures.agents(agents),
            frameworks: [try Fixtures.framework("fa", ["a"]), try Fixtures.framework("fb", ["b"])],
            roles: [try Fixtures.role("a"): RoleConfiguration(weight: weightA), try Fixtures.role("b"): RoleConfiguration(weight: weightB)])
        let offers = Allocator.allocate(snapshot)
        #expect(Fixtures.counts(offers) == ["fa": a, "fb": b])
        #expect(offers.allSatisfy { $0.resources == (try? Resources.parse("cpus:4;mem:4096")) })
    }

    /// Frameworks in one role are ordered by what they already hold in it: the poorer one catches
    /// up first, then they alternate (ties go to the lower ID).
    static let withinRole: [(held1: Int, held2: Int, free: Int, f1: Int, f2: Int)] = [
        (0, 0, 6, 3, 3),
        (4, 0, 6, 1, 5),
        (0, 4, 2, 2, 0),
        (2, 1, 3, 1, 2),
    ]

    @Test(arguments: withinRole)
    func frameworksWithinARole(held1: Int, held2: Int, free: Int, f1: Int, f2: Int) throws {
        let eng = try Fixtures.role("eng")
        let busy = try Fixtures.agents(held1 + held2, prefix: "busy").enumerated().map { index, agent in
            var agent = agent
            agent.allocations = [Allocation(framework: index < held1 ? "f1" : "f2", role: eng, resources: agent.total)]
            return agent
        }
        let snapshot = AllocationSnapshot(agents: busy + (try Fixtures.agents(free)),
                                          frameworks: [try Fixtures.framework("f1", ["eng"]), try Fixtures.framework("f2", ["eng"])])
        let counts = Fixtures.counts(Allocator.allocate(snapshot))
        #expect(counts["f1", default: 0] == f1)
        #expect(counts["f2", default: 0] == f2)
    }

    /// The dominant share is the largest fraction of any resource. a-mem holds 25% of the memory;
    /// b-cpu holds 20% of the cpus and 5% of the memory: by cpus alone (or by name) a-mem would
    /// come first, by dominant share b-cpu does.
    @Test func dominantResourceDecides() throws {
        let eng = try Fixtures.role("eng")
        var cluster = try Fixtures.agents(2, "cpus:10;mem:1000")
        cluster[0].allocations = [
            Allocation(framework: "a-mem", role: eng, resources: try Resources.parse("mem:500")),
            Allocation(framework: "b-cpu", role: eng, resources: try Resources.parse("cpus:4;mem:100")),
        ]
        cluster[1].allocations = [Allocation(framework: "other", role: try Fixtures.role("zzz"), resources: cluster[1].total)]
        let snapshot = AllocationSnapshot(agents: cluster, frameworks: [try Fixtures.framework("a-mem", ["eng"]), try Fixtures.framework("b-cpu", ["eng"])])
        let offers = Allocator.allocate(snapshot)
        #expect(offers.map(\.framework) == ["b-cpu"])
        #expect(offers.first?.resources == (try Resources.parse("cpus:6;mem:400")))
    }

    /// Subroles compete inside their parent: eng (eng/web + eng/batch) and ops split the cluster
    /// first, then eng/web and eng/batch split eng's half.
    @Test func hierarchicalRoles() throws {
        let snapshot = AllocationSnapshot(
            agents: try Fixtures.agents(40),
            frameworks: [try Fixtures.framework("web", ["eng/web"]), try Fixtures.framework("batch", ["eng/batch"]), try Fixtures.framework("ops", ["ops"])])
        #expect(Fixtures.counts(Allocator.allocate(snapshot)) == ["web": 10, "batch": 10, "ops": 20])
    }

    /// A framework subscribed to both a role and its parent role; the parent's own frameworks
    /// compete with the subroles as one more child.
    @Test func parentRoleFrameworksCompeteWithSubroles() throws {
        let snapshot = AllocationSnapshot(
            agents: try Fixtures.agents(30),
            frameworks: [try Fixtures.framework("eng", ["eng"]), try Fixtures.framework("web", ["eng/web"]), try Fixtures.framework("ops", ["ops"])])
        #expect(Fixtures.counts(Allocator.allocate(snapshot)) == ["eng": 8, "web": 7, "ops": 15])
    }

    @Test func sameSeedSameOffers() throws {
        var snapshot = AllocationSnapshot(agents: try Fixtures.agents(50), frameworks: [try Fixtures.framework("a", ["a"]), try Fixtures.framework("b", ["b"])], seed: 7)
        let first = Allocator.allocate(snapshot)
        #expect(Allocator.allocate(snapshot) == first)
        snapshot.agents.reverse()
        #expect(Allocator.allocate(snapshot) == first, "the listing order of agents must not matter, only the seed")
    }

    @Test func multiRoleFrameworkIsOfferedPerRole() throws {
        let snapshot = AllocationSnapshot(agents: try Fixtures.agents(4), frameworks: [try Fixtures.framework("multi", ["a", "b"])])
        let offers = Allocator.allocate(snapshot)
        #expect(Set(offers.map(\.role.name)) == ["a", "b"])
        #expect(offers.count == 4)
        // Without MULTI_ROLE only the first role counts.
        let single = AllocationSnapshot(agents: try Fixtures.agents(4), frameworks: [try Fixtures.framework("single", ["a", "b"], capabilities: [])])
        #expect(Set(Allocator.allocate(single).map(\.role.name)) == ["a"])
    }
}
