import BerthAllocator
import BerthCore
import BerthProtocol
import Logging

extension Coordinator {
    /// One allocation cycle: a snapshot of the registry into the pure allocator, its offers
    /// recorded and sent as OFFERS events, one per framework.
    public func allocate() {
        // Only connected frameworks are offered anything: without one (as after a restart, while
        // agents re-register) a snapshot of every agent would be built for nothing.
        guard frameworks.values.contains(where: { $0.channel != nil }) else { return }
        counters.cycles += 1
        let began = ContinuousClock.now
        defer { statistics.recordCycle(ContinuousClock.now - began) }
        let current = now
        filters.removeAll { !$0.isActive(at: current) }
        let offered = Allocator.allocate(snapshot(at: current))
        guard !offered.isEmpty else { return }
        var byFramework: [FrameworkID: [OfferInfo]] = [:]
        for offer in offered {
            guard let agent = agents[offer.agent] else { continue }
            let id = nextOfferID()
            offers[id] = OfferRecord(id: id, offer: offer, created: current)
            byFramework[offer.framework, default: []].append(
                OfferInfo(id: id, frameworkID: offer.framework, agentID: offer.agent, hostname: agent.hostname,
                          resources: offer.resources, attributes: agent.attributes, role: offer.role))
        }
        for (framework, infos) in byFramework {
            frameworks[framework]?.send(.offers(infos))
        }
        logger.debug("allocation cycle", metadata: ["offers": "\(offered.count)"])
    }

    func snapshot(at current: Timestamp) -> AllocationSnapshot {
        var held: [AgentID: [Allocation]] = [:]
        for task in tasks.values where !task.status.state.isTerminal {
            held[task.agent, default: []].append(Allocation(framework: task.framework, role: task.role, resources: task.info.resources))
        }
        let agentSnapshots = agents.values.sorted { $0.id < $1.id }.map { agent in
            AgentSnapshot(id: agent.id, total: agent.total, allocations: held[agent.id] ?? [],
                          attributes: Dictionary(agent.attributes.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first }),
                          reachable: agent.isOfferable)
        }
        return AllocationSnapshot(agents: agentSnapshots, frameworks: frameworks.values.sorted { $0.id < $1.id }.map(\.snapshot),
                                  roles: roleSettings.allocatorRoles, filters: filters, outstandingOffers: offers.values.sorted { $0.id < $1.id }.map(\.offer),
                                  minAllocatableResources: configuration.minAllocatableResources, now: current, seed: counters.cycles)
    }

    /// Removes matching offers and tells their frameworks (RESCIND); their resources are free again.
    func removeOffers(where matches: (Offer) -> Bool) {
        for (id, record) in offers where matches(record.offer) {
            offers[id] = nil
            frameworks[record.offer.framework]?.send(.rescind(id))
        }
    }

    /// Why a framework gets no offers now (Allocator.explain on the current registry).
    public func offerBlockers(for framework: FrameworkID) -> [OfferBlocker] {
        Allocator.explain(framework: framework, in: snapshot(at: now))
    }

    /// HEARTBEAT to every connected framework and agent: keeps idle connections open and lets
    /// both ends notice a dead one.
    public func sendHeartbeats() {
        for framework in frameworks.values { framework.send(.heartbeat) }
        for agent in agents.values { agent.channel?.send(.heartbeat) }
    }

    /// The periodic checks: agents that went silent, frameworks past their failover timeout,
    /// offers past the offer timeout.
    public func runHealthChecks() {
        checkAgents()
        expireFrameworks()
        expireOffers()
    }
}
