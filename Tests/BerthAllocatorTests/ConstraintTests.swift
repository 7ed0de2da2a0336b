import BerthAllocator
import BerthCore
import Testing

@Suite("Quota, reservations, suppression, filters")
struct ConstraintTests {
    /// A quota limit caps what a role and its subroles hold together; the last slice is trimmed
    /// to the headroom, and what is left of the agent goes to others.
    static let quotas: [(limitedRole: String, limit: String, frameworkRoles: [String], offeredCPUs: String)] = [
        ("a", "cpus:8", ["a"], "8"),
        ("a", "cpus:6", ["a"], "6"),
        ("eng", "cpus:6", ["eng/web", "eng/batch"], "6"),
        ("eng/web", "cpus:2", ["eng/web"], "2"),
        ("a", "cpus:100", ["a"], "20"),
    ]

    @Test(arguments: quotas)
    func quotaLimitsARole(limitedRole: String, limit: String, frameworkRoles: [String], offeredCPUs: String) throws {
        let frameworks = try frameworkRoles.enumerated().map { try Fixtures.framework("f\($0.offset)", [$0.element]) }
        let snapshot = AllocationSnapshot(agents: try Fixtures.agents(10),
                                          frameworks: frameworks + [try Fixtures.framework("other", ["other"])],
                                          roles: [try Fixtures.role(limitedRole): RoleConfiguration(quotaLimit: try ResourceQuantities.parse(limit))])
        let offers = Allocator.allocate(snapshot)
        let limited = offers.filter { $0.framework != "other" }.reduce(Scalar.zero) { $0 + $1.resources.scalar(named: "cpus") }
        #expect(limited == Scalar(parsing: offeredCPUs))
        // Nothing is lost: whatever the limited roles could not take went to the other role.
        #expect(offers.reduce(Scalar.zero) { $0 + $1.resources.scalar(named: "cpus") } == 40)
    }

    @Test func quotaCountsWhatIsAlreadyHeld() throws {
        let a = try Fixtures.role("a")
        var cluster = try Fixtures.agents(4)
        cluster[0].allocations = [Allocation(framework: "f", role: a, resources: try Resources.parse("cpus:3;mem:100"))]
        let snapshot = AllocationSnapshot(agents: cluster, frameworks: [try Fixtures.framework("f", ["a"])],
                                          roles: [a: RoleConfiguration(quotaLimit: try ResourceQuantities.parse("cpus:4"))],
                                          minAllocatableResources: [try ResourceQuantities.parse("cpus:0.01")])
        let offers = Allocator.allocate(snapshot)
        #expect(offers.map { $0.resources.scalar(named: "cpus") } == [1])
    }

    /// Reserved resources go to their role and its subroles only; unreserved ones to anyone.
    static let reservations: [(frameworkRole: String, offered: String)] = [
        ("eng", "cpus:1;mem:128;cpus(eng):2;mem(eng):512"),
        ("eng/web", "cpus:1;mem:128;cpus(eng):2;mem(eng):512"),
        ("ops", "cpus:1;mem:128"),
        ("*", "cpus:1;mem:128"),
    ]

    @Test(arguments: reservations)
    func reservationsGoToTheirRoleTree(frameworkRole: String, offered: String) throws {
        let agent = AgentSnapshot(id: "a1", total: try Resources.parse("cpus:1;mem:128;cpus(eng):2;mem(eng):512"))
        let snapshot = AllocationSnapshot(agents: [agent], frameworks: [try Fixtures.framework("f", [frameworkRole])])
        #expect(Allocator.allocate(snapshot).map(\.resources) == [try Resources.parse(offered)])
    }

    @Test func reservationIsOfferedAfterTheUnreservedPartWentElsewhere() throws {
        let agent = AgentSnapshot(id: "a1", total: try Resources.parse("cpus:1;mem:128;cpus(eng):2;mem(eng):512"))
        // ops has the lower share only by name; it takes the unreserved part, eng still gets its reservation.
        let snapshot = AllocationSnapshot(agents: [agent], frameworks: [try Fixtures.framework("e", ["eng"]), try Fixtures.framework("o", ["aaa-ops"])])
        let offers = Allocator.allocate(snapshot)
        #expect(offers.count == 2)
        #expect(offers.first { $0.framework == "o" }?.resources == (try Resources.parse("cpus:1;mem:128")))
        #expect(offers.first { $0.framework == "e" }?.resources == (try Resources.parse("cpus(eng):2;mem(eng):512")))
    }

    @Test func suppressedRoleGetsNothing() throws {
        let snapshot = AllocationSnapshot(agents: try Fixtures.agents(4),
                                          frameworks: [try Fixtures.framework("quiet", ["a"], suppressed: ["a"]), try Fixtures.framework("busy", ["a"]),
                                                       try Fixtures.framework("half", ["a", "b"], suppressed: ["a"])])
        let offers = Allocator.allocate(snapshot)
        #expect(!offers.contains { $0.framework == "quiet" })
        #expect(!offers.contains { $0.framework == "half" && $0.role.name == "a" })
        #expect(offers.contains { $0.framework == "half" && $0.role.name == "b" })
    }

    /// A decline filter holds back a slice it covers until its time; then the slice is offered again.
    static let filters: [(refused: String, until: Double, now: Double, offeredToF1: Bool)] = [
        ("cpus:4;mem:4096", 10, 5, false),
        ("cpus:8;mem:8192", 10, 5, false),
        ("cpus:4;mem:4096", 10, 10, true),
        ("cpus:4;mem:4096", 10, 11, true),
        ("cpus:2;mem:4096", 10, 5, true),
    ]

    @Test(arguments: filters)
    func declineFilters(refused: String, until: Double, now: Double, offeredToF1: Bool) throws {
        let filter = OfferFilter(framework: "f1", agent: "agent-000", refused: try Resources.parse(refused), until: Timestamp(seconds: until))
        let snapshot = AllocationSnapshot(agents: try Fixtures.agents(1), frameworks: [try Fixtures.framework("f1", ["a"]), try Fixtures.framework("f2", ["a"])],
                                          filters: [filter], now: Timestamp(seconds: now))
        let offers = Allocator.allocate(snapshot)
        #expect(offers.map(\.framework) == [offeredToF1 ? "f1" : "f2"])
    }

    static let minimums: [(agent: String, minimum: [String], offered: Bool)] = [
        ("cpus:0.005;mem:16", [], true),
        ("cpus:0.005;mem:16", ["cpus:0.01", "mem:32"], false),
        ("cpus:0.01;mem:16", ["cpus:0.01", "mem:32"], true),
        ("mem:32", ["cpus:0.01", "mem:32"], true),
        ("cpus:1;mem:1024", ["cpus:2;mem:512"], false),
        ("cpus:1;mem:1024;ports:[1-5]", ["cpus:1;ports:10"], false),
        ("cpus:1;mem:1024;ports:[1-10]", ["cpus:1;ports:10"], true),
        ("cpus:1", ["gpus:1"], false),
    ]

    @Test(arguments: minimums)
    func minAllocatableResources(agent: String, minimum: [String], offered: Bool) throws {
        let snapshot = AllocationSnapshot(agents: [AgentSnapshot(id: "a1", total: try Resources.parse(agent))],
                                          frameworks: [try Fixtures.framework("f", ["a"])],
                                          minAllocatableResources: try minimum.map(ResourceQuantities.parse))
        #expect(Allocator.allocate(snapshot).isEmpty == !offered)
    }

    @Test func offersNeverOverlapOutstandingOffers() throws {
        let a = try Fixtures.role("a")
        let outstanding = [
            Offer(framework: "f1", role: a, agent: "agent-000", resources: try Resources.parse("cpus:1;mem:1024;ports:[31000-31009]")),
            Offer(framework: "f1", role: a, agent: "agent-001", resources: try Resources.parse("cpus:4;mem:4096;ports:[31000-32000]")),
        ]
        let snapshot = AllocationSnapshot(agents: try Fixtures.agents(2, "cpus:4;mem:4096;ports:[31000-32000]"),
                                          frameworks: [try Fixtures.framework("f1", ["a"]), try Fixtures.framework("f2", ["a"])],
                                          outstandingOffers: outstanding)
        let offers = Allocator.allocate(snapshot)
        #expect(offers == [Offer(framework: "f2", role: a, agent: "agent-000", resources: try Resources.parse("cpus:3;mem:3072;ports:[31010-32000]"))])
    }

    @Test func unreachableAgentsAreSkipped() throws {
        var cluster = try Fixtures.agents(3)
        cluster[1].reachable = false
        let snapshot = AllocationSnapshot(agents: cluster, frameworks: [try Fixtures.framework("f", ["a"])])
        #expect(Set(Allocator.allocate(snapshot).map(\.agent)) == ["agent-000", "agent-002"])
    }

    @Test func gpuAgentsOnlyForGPUFrameworks() throws {
        let cluster = [AgentSnapshot(id: "gpu", total: try Resources.parse("cpus:4;mem:4096;gpus:1")), AgentSnapshot(id: "plain", total: try Resources.parse("cpus:4;mem:4096"))]
        let snapshot = AllocationSnapshot(agents: cluster, frameworks: [try Fixtures.framework("plain", ["a"]),
                                                                        try Fixtures.framework("gpu", ["b"], capabilities: [.gpuResources])])
        let offers = Allocator.allocate(snapshot)
        #expect(offers.first { $0.agent == "gpu" }?.framework == "gpu")
    }

    @Test func inactiveFrameworksGetNothing() throws {
        var framework = try Fixtures.framework("f", ["a"])
        framework.active = false
        let snapshot = AllocationSnapshot(agents: try Fixtures.agents(2), frameworks: [framework])
        #expect(Allocator.allocate(snapshot).isEmpty)
    }
}
