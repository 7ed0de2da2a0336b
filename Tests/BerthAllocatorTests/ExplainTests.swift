import BerthAllocator
import BerthCore
import Testing

@Suite("Why no offers")
struct ExplainTests {
    static func snapshot(_ change: (inout AllocationSnapshot) throws -> Void) throws -> AllocationSnapshot {
        var snapshot = AllocationSnapshot(agents: try Fixtures.agents(2), frameworks: [try Fixtures.framework("f", ["a"])], now: Timestamp(seconds: 100))
        try change(&snapshot)
        return snapshot
    }

    @Test func nothingHoldsAnOfferedFrameworkBack() throws {
        #expect(Allocator.explain(framework: "f", in: try Self.snapshot { _ in }).isEmpty)
    }

    /// Each case: how the snapshot is changed, and the reason (and a phrase of its message) expected.
    static let cases: [(name: String, change: @Sendable (inout AllocationSnapshot) throws -> Void, matches: @Sendable (OfferBlocker) -> Bool, phrase: String)] = [
        ("unknown", { $0.frameworks = [] }, { if case .unknownFramework = $0 { true } else { false } }, "SUBSCRIBE"),
        ("inactive", { $0.frameworks[0].active = false }, { $0 == .inactive }, "re-subscribes"),
        ("no roles", { $0.frameworks[0].roles = [] }, { $0 == .noRoles }, "no role"),
        ("no MULTI_ROLE", { $0.frameworks[0] = try Fixtures.framework("f", ["a", "b"], capabilities: []) },
         { if case .rolesIgnoredWithoutMultiRole(let used, let ignored) = $0 { used.name == "a" && ignored.map(\.name) == ["b"] } else { false } }, "MULTI_ROLE"),
        ("suppressed", { $0.frameworks[0].suppressedRoles = [try Role("a")] }, { if case .suppressed(let role) = $0 { role.name == "a" } else { false } }, "REVIVE"),
        ("no agents", { $0.agents = [] }, { $0 == .noAgents }, "no agents"),
        ("unreachable", { $0.agents[0].reachable = false; $0.agents[1].reachable = false }, { $0 == .noReachableAgents(unreachable: 2) }, "reachable"),
        ("filtered", { $0.filters = [OfferFilter(framework: "f", agent: "agent-000", refused: try Resources.parse("cpus:4;mem:4096"), until: Timestamp(seconds: 105))] },
         { if case .filtered(let agent, _, let left, _) = $0 { agent == "agent-000" && left == 5 } else { false } }, "5 s from now"),
        ("over quota", {
            $0.roles = [try Role("a"): RoleConfiguration(quotaLimit: try ResourceQuantities.parse("cpus:2"))]
            $0.agents[0].allocations = [Allocation(framework: "f", role: try Role("a"), resources: try Resources.parse("cpus:2"))]
        }, { if case .overQuota(_, let by, let resource, let held, let limit) = $0 { by.name == "a" && resource == "cpus" && held == 2 && limit == 2 } else { false } }, "holds 2 of a limit of 2"),
        ("ancestor over quota", {
            $0.frameworks[0] = try Fixtures.framework("f", ["eng/web"])
            $0.roles = [try Role("eng"): RoleConfiguration(quotaLimit: try ResourceQuantities.parse("cpus:1"))]
            $0.agents[0].allocations = [Allocation(framework: "g", role: try Role("eng/batch"), resources: try Resources.parse("cpus:1"))]
        }, { if case .overQuota(let role, let by, _, _, _) = $0 { role.name == "eng/web" && by.name == "eng" } else { false } }, "ancestor eng"),
        ("no slice big enough", { $0.agents = [AgentSnapshot(id: "small", total: try Resources.parse("cpus:0.005;mem:16"))] },
         { if case .noAllocatableSlice(_, let largest, let agent, _) = $0 { agent == "small" && largest == (try? Resources.parse("cpus:0.005;mem:16")) } else { false } },
         "largest free slice is cpus:0.005;mem:16 on small"),
        ("everything in use", { $0.agents[0].allocations = [Allocation(framework: "g", role: try Role("b"), resources: $0.agents[0].total)]; $0.agents.removeLast() },
         { if case .noAllocatableSlice(_, nil, nil, _) = $0 { true } else { false } }, "everything is in use"),
        ("outranked", {
            $0.agents.removeLast()
            $0.frameworks.append(try Fixtures.framework("e", ["a"]))
        }, { if case .outranked(let role, let others) = $0 { role.name == "a" && others == 1 } else { false } }, "lower weighted dominant share"),
        ("gpus", { $0.agents = [AgentSnapshot(id: "g", total: try Resources.parse("cpus:1;mem:64;gpus:1"))] }, { $0 == .gpuAgentsWithheld(agents: 1) }, "GPU_RESOURCES"),
    ]

    @Test(arguments: cases)
    func explains(name: String, change: @Sendable (inout AllocationSnapshot) throws -> Void, matches: @Sendable (OfferBlocker) -> Bool, phrase: String) throws {
        let blockers = Allocator.explain(framework: "f", in: try Self.snapshot(change))
        let blocker = blockers.first(where: matches)
        #expect(blocker != nil, "\(name): \(blockers)")
        #expect(blocker?.message.contains(phrase) == true, "\(name): \(blocker?.message ?? "none")")
    }
}
