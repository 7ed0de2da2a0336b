import BerthCore

/// The order agents are visited in. Mesos shuffles agents every cycle so that no agent is always
/// offered first; here the order is a seeded hash of each agent's ID, so it depends on the seed
/// and the IDs only, not on the order the snapshot lists agents in. Finding an agent's place by
/// its ID (for filters and outstanding offers) is a binary search on the same hash, so no
/// dictionary of agent IDs is built.
struct AgentOrder {
    /// Positions in the snapshot's agent list, in visiting order.
    let positions: [Int]
    private let keys: [UInt64]
    private let seed: UInt64

    init(agents: [AgentSnapshot], among candidates: [Int]? = nil, seed: UInt64) {
        self.seed = seed
        var keyed = (candidates ?? Array(agents.indices)).map { (key: Self.key(of: agents[$0].id, seed: seed), index: $0) }
        keyed.sort { $0.key != $1.key ? $0.key < $1.key : agents[$0.index].id < agents[$1.index].id }
        positions = keyed.map(\.index)
        keys = keyed.map(\.key)
    }

    /// The place in visiting order of the agent with `id`, nil when it is not among the agents ordered.
    func place(of id: AgentID, in agents: [AgentSnapshot]) -> Int? {
        let key = Self.key(of: id, seed: seed)
        var low = 0, high = keys.count
        while low < high {
            let middle = (low + high) / 2
            if keys[middle] < key { low = middle + 1 } else { high = middle }
        }
        while low < keys.count, keys[low] == key {
            if agents[positions[low]].id == id { return low }
            low += 1
        }
        return nil
    }

    /// FNV-1a of the ID's bytes, mixed with the seed and scrambled by SplitMix64.
    private static func key(of id: AgentID, seed: UInt64) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325 ^ seed
        for byte in id.value.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        var generator = SplitMix64(seed: hash)
        return generator.next()
    }
}
