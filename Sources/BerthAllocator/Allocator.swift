import BerthCore

/// The allocator: a snapshot in, offers out. Pure, deterministic for a given snapshot (the agent
/// shuffle is seeded), and never reads a clock.
public enum Allocator {
    /// One full cycle of hierarchical weighted DRF, as Mesos' HierarchicalAllocator runs it:
    /// agents in shuffled order; for each, the roles by weighted dominant share, and within a
    /// role the frameworks by their share in it. The first eligible framework gets the agent's
    /// whole free slice for that role (unreserved, trimmed to quota headroom, plus reservations
    /// the role may use), and the shares it changed are updated before the next agent.
    public static func allocate(_ snapshot: AllocationSnapshot) -> [Offer] {
        var cycle = AllocationCycle(snapshot)
        return cycle.run()
    }
}
