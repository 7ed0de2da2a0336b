import BerthCore

extension Allocator {
    /// Why `framework` gets no offers (or none for some of its roles) in `snapshot`: every
    /// reason found, most fundamental first. Empty when nothing holds it back.
    public static func explain(framework id: FrameworkID, in snapshot: AllocationSnapshot) -> [OfferBlocker] {
        guard let framework = snapshot.frameworks.first(where: { $0.id == id }) else { return [.unknownFramework(id)] }
        var blockers: [OfferBlocker] = []
        if !framework.active { blockers.append(.inactive) }
        let roles = framework.effectiveRoles
        if roles.isEmpty { blockers.append(.noRoles) }
        if roles.count < framework.roles.count, let used = roles.first {
            blockers.append(.rolesIgnoredWithoutMultiRole(used: used, ignored: Array(framework.roles.dropFirst())))
        }
        if snapshot.agents.isEmpty {
            blockers.append(.noAgents)
        } else if !snapshot.agents.contains(where: \.reachable) {
            blockers.append(.noReachableAgents(unreachable: snapshot.agents.count))
        }
        for filter in snapshot.filters where filter.framework == id && filter.isActive(at: snapshot.now) {
            blockers.append(.filtered(agent: filter.agent, until: filter.until, secondsLeft: filter.until.seconds - snapshot.now.seconds, refused: filter.refused))
        }
        if !framework.capabilities.contains(.gpuResources) {
            let withGPUs = snapshot.agents.filter { $0.reachable && $0.total.scalar(named: "gpus") > .zero }.count
            if withGPUs > 0 { blockers.append(.gpuAgentsWithheld(agents: withGPUs)) }
        }

        var cycle = AllocationCycle(snapshot)
        var contested: [Role] = []
        for role in roles {
            if framework.suppressedRoles.contains(role) {
                blockers.append(.suppressed(role: role))
                continue
            }
            guard let node = cycle.tree.node(of: role) else { continue }
            for limit in cycle.tree.exhaustedLimits(of: node) {
                blockers.append(.overQuota(role: role, limitedBy: limit.role, resource: cycle.scalars.names[limit.position],
                                           held: Scalar(milli: limit.held), limit: Scalar(milli: limit.limit)))
            }
            guard !cycle.agents.isEmpty else { continue }
            var largest: (share: Double, resources: Resources, agent: AgentID)?
            var allocatable = false
            for position in cycle.agents.indices {
                let agent = cycle.agents[position]
                guard let slice = cycle.slice(agentAt: position, node: node) else { continue }
                if cycle.isAllocatable(slice.vector, slice.resources) {
                    allocatable = true
                    break
                }
                // "Largest" by dominant share of the cluster, ties to the lower agent ID.
                let share = slice.vector.dominantShare(inverseTotal: cycle.tree.inverseTotal)
                if let current = largest, share < current.share || (share == current.share && current.agent < agent.id) { continue }
                largest = (share, slice.resources, agent.id)
            }
            if allocatable {
                contested.append(role)
            } else {
                blockers.append(.noAllocatableSlice(role: role, largestFree: largest?.resources, on: largest?.agent, minimum: snapshot.minAllocatableResources))
            }
        }

        // Free slices exist for these roles: whether this framework gets them depends on the cycle.
        if framework.active && !contested.isEmpty {
            let offers = Allocator.allocate(snapshot)
            let others = offers.filter { $0.framework != id }.count
            // With no offer to anyone, the filters or GPU reasons above already say why.
            for role in contested where others > 0 && !offers.contains(where: { $0.framework == id && $0.role == role }) {
                blockers.append(.outranked(role: role, offersToOthers: others))
            }
        }
        return blockers
    }
}
