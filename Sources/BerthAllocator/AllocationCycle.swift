import BerthCore

/// One cycle's working state: the snapshot turned into a sorter and per-agent free resources,
/// consumed as offers are made.
struct AllocationCycle {
    struct FrameworkState {
        let id: FrameworkID
        let usesGPUs: Bool
        /// The ID's place among all framework IDs: DRF's tie-breaker.
        var rank = 0
    }

    let snapshot: AllocationSnapshot
    let scalars: ScalarIndex
    var tree: RoleTree
    var agents: [AgentState] = []
    var frameworks: [FrameworkState] = []
    let minimums: [Minimum]
    let zero: ScalarVector

    /// One entry of min_allocatable_resources, split into what the vector can check and the rest.
    struct Minimum {
        var scalars: [(position: Int, milli: Int64)] = []
        /// Quantities of non-scalars (ports, sets) or of scalars the cluster does not have.
        var others = ResourceQuantities()
    }

    init(_ snapshot: AllocationSnapshot) {
        self.snapshot = snapshot
        // Positions rather than a filtered copy: copying 20,000 agent snapshots costs more than it seems.
        let reachable = snapshot.agents.indices.filter { snapshot.agents[$0].reachable }
        // A short list searched by name: a cluster has a handful of scalar names, and hashing the
        // name of every resource of every agent would cost more than comparing it.
        var totals: [(name: String, milli: Int64)] = []
        for agent in reachable.lazy.map({ snapshot.agents[$0] }) {
            for resource in agent.total.items {
                guard case .scalar(let amount) = resource.value else { continue }
                if let index = totals.firstIndex(where: { $0.name == resource.name }) {
                    totals[index].milli &+= amount.milli
                } else {
                    totals.append((resource.name, amount.milli))
                }
            }
        }
        let scalars = ScalarIndex(names: Set(totals.map(\.name)))
        self.scalars = scalars
        let inverseTotal = scalars.names.map { name in
            let total = totals.first { $0.name == name }?.milli ?? 0
            return total > 0 ? 1 / Double(total) : 0
        }
        tree = RoleTree(scalars: scalars, inverseTotal: InverseTotals(inverseTotal))
        zero = ScalarVector(count: scalars.count)
        minimums = snapshot.minAllocatableResources.map { quantities in
            var minimum = Minimum()
            for (name, amount) in quantities.amounts {
                if let position = scalars.position(of: name) {
                    minimum.scalars.append((position, amount.milli))
                } else {
                    minimum.others[name] = amount
                }
            }
            return minimum
        }
        setUp(reachable)
    }

    private mutating func setUp(_ reachable: [Int]) {
        let snapshot = self.snapshot
        let configuration = { (role: Role) in snapshot.configuration(of: role) }
        var frameworkPositions: [FrameworkID: Int] = [:]
        for framework in snapshot.frameworks where frameworkPositions[framework.id] == nil {
            frameworkPositions[framework.id] = frameworks.count
            frameworks.append(FrameworkState(id: framework.id, usesGPUs: framework.capabilities.contains(.gpuResources)))
        }
        for (rank, position) in frameworks.indices.sorted(by: { frameworks[$0].id < frameworks[$1].id }).enumerated() {
            frameworks[position].rank = rank
        }
        for role in snapshot.roles.keys.sorted() { _ = tree.ensure(role, configuration: configuration, scalars: scalars) }

        let order = AgentOrder(agents: snapshot.agents, among: reachable, seed: snapshot.seed)
        // Offered counts as allocated, for shares and quota alike, as in Mesos.
        var offersAt: [Int: [Offer]] = [:]
        for offer in snapshot.outstandingOffers {
            if let place = order.place(of: offer.agent, in: snapshot.agents) { offersAt[place, default: []].append(offer) }
        }
        agents.reserveCapacity(order.positions.count)
        for (place, index) in order.positions.enumerated() {
            let agent = snapshot.agents[index]
            var used = Resources()
            for allocation in agent.allocations {
                used += allocation.resources
                record(allocation.resources, framework: allocation.framework, role: allocation.role, positions: frameworkPositions, configuration: configuration)
            }
            for offer in offersAt.isEmpty ? [] : offersAt[place] ?? [] {
                used += offer.resources
                record(offer.resources, framework: offer.framework, role: offer.role, positions: frameworkPositions, configuration: configuration)
            }
            let free = used.isEmpty ? agent.total : agent.total.removing(used)
            agents.append(AgentState(id: agent.id, free: free, hasGPUs: agent.total.scalar(named: "gpus") > .zero, scalars: scalars))
        }
        // Filters are kept with their agent: most agents have none, so the common check is an isEmpty.
        for filter in snapshot.filters where filter.isActive(at: snapshot.now) {
            if let framework = frameworkPositions[filter.framework], let place = order.place(of: filter.agent, in: snapshot.agents) {
                agents[place].filters.append((framework, filter))
            }
        }

        var candidacies = Set<[Int]>()
        for framework in snapshot.frameworks where framework.active {
            guard let position = frameworkPositions[framework.id] else { continue }
            for role in framework.effectiveRoles where !framework.suppressedRoles.contains(role) {
                let node = tree.ensure(role, configuration: configuration, scalars: scalars)
                if candidacies.insert([node, position]).inserted {
                    tree.addCandidate(position, rank: frameworks[position].rank, at: node)
                }
            }
        }
        tree.finishSetup()
    }

    private mutating func record(_ resources: Resources, framework: FrameworkID, role: Role, positions: [FrameworkID: Int],
                                 configuration: (Role) -> RoleConfiguration) {
        let node = tree.ensure(role, configuration: configuration, scalars: scalars)
        tree.record(scalars.vector(resources), framework: positions[framework], at: node)
    }

    mutating func run() -> [Offer] {
        var offers: [Offer] = []
        offers.reserveCapacity(agents.count)
        var order: [Int] = []
        var orderIsStale = true
        for agentPosition in agents.indices {
            if orderIsStale {
                tree.allocationOrder(into: &order)
                orderIsStale = false
            }
            for node in order {
                if agents[agentPosition].isExhausted { break }
                if let offer = offer(agent: agentPosition, node: node) {
                    offers.append(offer)
                    orderIsStale = true
                }
            }
        }
        return offers
    }

    // The helpers of offer() below are `mutating` although they change nothing: called from a
    // mutating method, a non-mutating one makes Swift copy the whole cycle (a dozen references
    // retained and released) on every call, which was a fifth of the cycle's time.

    /// What agent `position` has free for `node`'s role: unreserved resources trimmed to the quota
    /// headroom of the role and its ancestors, plus the reservations the role may use (their
    /// positions in the agent's list come back too, to be consumed). Nil when that is nothing.
    mutating func slice(agentAt position: Int, node: Int) -> (resources: Resources, vector: ScalarVector, unreserved: Resources, unreservedVector: ScalarVector, reservations: [Int])? {
        guard let role = tree.nodes[node].role else { return nil }
        var unreserved = agents[position].unreserved
        var unreservedVector = agents[position].unreservedVector
        if !unreserved.isEmpty, let headroom = tree.headroom(of: node) {
            Self.trim(&unreserved, &unreservedVector, to: headroom, scalars: scalars)
        }
        let reservations = agents[position].reservations
        let usable = reservations.isEmpty ? [] : reservations.indices.filter { role.isSelfOrDescendant(of: reservations[$0].role) }
        guard !unreserved.isEmpty || !usable.isEmpty else { return nil }
        var resources = unreserved
        var vector = unreservedVector
        for index in usable {
            resources += reservations[index].resources
            vector += reservations[index].vector
        }
        return (resources, vector, unreserved, unreservedVector, usable)
    }

    /// Offers `agent`'s slice for `node`'s role to the first eligible framework of the role, if any.
    /// The agent is read in place (`agents[position]`), not copied: this runs once per agent and role.
    private mutating func offer(agent position: Int, node: Int) -> Offer? {
        guard let role = tree.nodes[node].role, let slice = slice(agentAt: position, node: node),
              isAllocatable(slice.vector, slice.resources),
              let candidacy = firstEligible(in: node, agentAt: position, slice: slice.resources) else { return nil }

        if slice.unreserved == agents[position].unreserved {
            // The usual case, the whole unreserved part: no arithmetic, and no copy of the vector.
            agents[position].unreserved = .empty
            agents[position].unreservedVector = zero
        } else if !slice.unreserved.isEmpty {
            agents[position].unreservedVector -= slice.unreservedVector
            agents[position].unreserved = agents[position].unreserved.removing(slice.unreserved)
        }
        for index in slice.reservations.reversed() { agents[position].reservations.remove(at: index) }
        let id = frameworks[tree.candidacies[candidacy].framework].id
        tree.allocate(slice.vector, candidacy: candidacy, at: node)
        return Offer(framework: id, role: role, agent: agents[position].id, resources: slice.resources)
    }

    /// The first candidacy of `node`, in share order, whose framework may take `slice` on `agent`.
    private mutating func firstEligible(in node: Int, agentAt position: Int, slice: Resources) -> Int? {
        let now = snapshot.now
        for entry in tree.nodes[node].frameworks.entries {
            let framework = tree.candidacies[entry.payload].framework
            if agents[position].hasGPUs && !frameworks[framework].usesGPUs { continue }
            if !agents[position].filters.isEmpty,
               agents[position].filters.contains(where: { $0.framework == framework && $0.filter.covers(slice, at: now) }) { continue }
            return entry.payload
        }
        return nil
    }

    /// Caps each limited scalar at the quota headroom; a scalar with none left is dropped.
    private static func trim(_ resources: inout Resources, _ vector: inout ScalarVector, to headroom: [(position: Int, milli: Int64)], scalars: ScalarIndex) {
        var capped = false
        for limit in headroom where vector[limit.position] > max(limit.milli, 0) {
            vector[limit.position] = max(limit.milli, 0)
            capped = true
        }
        guard capped else { return }
        var remaining = vector
        resources = Resources(resources.items.compactMap { resource in
            guard case .scalar(let amount) = resource.value, let position = scalars.position(of: resource.name) else { return resource }
            let kept = min(amount.milli, remaining[position])
            remaining[position] -= kept
            return kept > 0 ? Resource.scalar(resource.name, Scalar(milli: kept), reservation: resource.reservation) : nil
        })
    }

    mutating func isAllocatable(_ vector: ScalarVector, _ slice: Resources) -> Bool {
        guard !minimums.isEmpty else { return !slice.isEmpty }
        var quantities: ResourceQuantities?
        for minimum in minimums {
            guard minimum.scalars.allSatisfy({ vector[$0.position] >= $0.milli }) else { continue }
            if minimum.others.isEmpty { return true }
            if quantities == nil { quantities = slice.quantities }
            if quantities?.contains(minimum.others) == true { return true }
        }
        return false
    }
}
