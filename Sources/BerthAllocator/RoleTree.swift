import BerthCore

/// The hierarchical sorter: one node per role (and a root), each with its children sorted by
/// weighted dominant share and its own frameworks sorted by their share within the role.
/// Shares are updated incrementally as the cycle allocates.
struct RoleTree {
    enum Child {
        case role(Int)
        /// The frameworks subscribed to this node's role itself (Mesos' virtual "." leaf), which
        /// compete with the subroles for the node's share.
        case own
    }

    struct Node {
        let role: Role?
        let parent: Int?
        let weight: Double
        /// Quota limit as (scalar position, thousandths); resources the cluster lacks are left out.
        var limits: [(position: Int, milli: Int64)]
        /// Held by the role and all its subroles: its share among siblings, and its quota use.
        var subtree: ScalarVector
        /// Held by frameworks in exactly this role: the share of the `.own` entry.
        var own: ScalarVector
        var children = SortedShares<Child>()
        /// Frameworks that may be offered resources for this role this cycle, as positions in
        /// `candidacies`.
        var frameworks = SortedShares<Int>()
        /// True when this node or a descendant has a framework to offer to.
        var hasCandidates = false
        var rank = 0
        var subtreeKey = ShareKey(share: 0, rank: 0)
        var ownKey = ShareKey(share: 0, rank: 0)
    }

    /// A framework in one of its roles: what it holds there decides its place in the role.
    struct Candidacy {
        let framework: Int
        let rank: Int
        var held: ScalarVector
        /// Where it is sorted now, so an allocation need not recompute the old share.
        var key = ShareKey(share: 0, rank: 0)
    }

    private(set) var nodes: [Node]
    private(set) var candidacies: [Candidacy] = []
    private var positions: [Role: Int] = [:]
    /// What frameworks hold per (node, framework position), until candidacies are made of it.
    private var held: [NodeFramework: ScalarVector] = [:]
    /// Candidacies per node, until `finishSetup` sorts them in.
    private var pending: [Int: [Int]] = [:]

    private struct NodeFramework: Hashable {
        let node: Int
        let framework: Int
    }
    let inverseTotal: InverseTotals
    private let width: Int

    init(scalars: ScalarIndex, inverseTotal: InverseTotals) {
        width = scalars.count
        self.inverseTotal = inverseTotal
        let empty = ScalarVector(count: scalars.count)
        nodes = [Node(role: nil, parent: nil, weight: 1, limits: [], subtree: empty, own: empty)]
    }

    func node(of role: Role) -> Int? { positions[role] }

    /// The node for `role`, creating it and its ancestors first.
    mutating func ensure(_ role: Role, configuration: (Role) -> RoleConfiguration, scalars: ScalarIndex) -> Int {
        if let existing = positions[role] { return existing }
        let parent = role.parent.map { ensure($0, configuration: configuration, scalars: scalars) } ?? 0
        let config = configuration(role)
        let limits = (config.quotaLimit?.amounts ?? [:]).compactMap { name, amount in
            scalars.position(of: name).map { (position: $0, milli: amount.milli) }
        }.sorted { $0.position < $1.position }
        let empty = ScalarVector(count: width)
        nodes.append(Node(role: role, parent: parent, weight: config.effectiveWeight, limits: limits, subtree: empty, own: empty))
        positions[role] = nodes.count - 1
        return nodes.count - 1
    }

    /// Counts resources already held (running tasks, outstanding offers) before the cycle starts.
    mutating func record(_ vector: ScalarVector, framework: Int?, at node: Int) {
        if let framework { held[NodeFramework(node: node, framework: framework), default: ScalarVector(count: width)] += vector }
        nodes[node].own += vector
        var current: Int? = node
        while let position = current, position != 0 {
            nodes[position].subtree += vector
            current = nodes[position].parent
        }
    }

    /// Makes `framework` a candidate for offers in `node`'s role; `rank` is its ID's place among
    /// all framework IDs, the tie-breaker.
    mutating func addCandidate(_ framework: Int, rank: Int, at node: Int) {
        let holding = held[NodeFramework(node: node, framework: framework)] ?? ScalarVector(count: width)
        candidacies.append(Candidacy(framework: framework, rank: rank, held: holding))
        pending[node, default: []].append(candidacies.count - 1)
        var current: Int? = node
        while let position = current, !nodes[position].hasCandidates {
            nodes[position].hasCandidates = true
            current = nodes[position].parent
        }
    }

    /// Once every candidate is known and every holding recorded: computes the keys and sorts.
    mutating func finishSetup() {
        let byName = nodes.indices.dropFirst().sorted { nodes[$0].role?.name ?? "" < nodes[$1].role?.name ?? "" }
        for (rank, position) in byName.enumerated() { nodes[position].rank = rank }
        for position in nodes.indices.dropFirst() {
            let node = nodes[position]
            let subtreeKey = ShareKey(share: node.subtree.dominantShare(inverseTotal: inverseTotal) / node.weight, rank: node.rank)
            nodes[position].subtreeKey = subtreeKey
            nodes[node.parent ?? 0].children.insert(.role(position), key: subtreeKey)
            guard let candidates = pending[position] else { continue }
            let ownKey = ShareKey(share: node.own.dominantShare(inverseTotal: inverseTotal) / node.weight, rank: node.rank)
            nodes[position].ownKey = ownKey
            nodes[position].children.insert(.own, key: ownKey)
            for candidacy in candidates {
                let share = candidacies[candidacy].held.dominantShare(inverseTotal: inverseTotal)
                let key = ShareKey(share: share, rank: candidacies[candidacy].rank)
                candidacies[candidacy].key = key
                nodes[position].frameworks.insert(candidacy, key: key)
            }
        }
        pending = [:]
        held = [:]
    }

    /// The roles to try, best first: depth-first through the sorted children, keeping only
    /// nodes whose own frameworks are candidates.
    func allocationOrder(into order: inout [Int]) {
        order.removeAll(keepingCapacity: true)
        visit(0, into: &order)
    }

    private func visit(_ position: Int, into order: inout [Int]) {
        let children = nodes[position].children
        for entry in children.entries {
            switch entry.payload {
            case .own: order.append(position)
            case .role(let next): if nodes[next].hasCandidates { visit(next, into: &order) }
            }
        }
    }

    var hasQuotas: Bool { nodes.contains { !$0.limits.isEmpty } }

    /// How much more of each limited scalar `node`'s role may take: the least headroom along its
    /// path to the root, nil when no role on the path has a quota.
    func headroom(of node: Int) -> [(position: Int, milli: Int64)]? {
        var result: [(position: Int, milli: Int64)] = []
        var current: Int? = node
        while let position = current, position != 0 {
            for limit in nodes[position].limits {
                let left = limit.milli - nodes[position].subtree[limit.position]
                if let index = result.firstIndex(where: { $0.position == limit.position }) {
                    result[index].milli = min(result[index].milli, left)
                } else {
                    result.append((limit.position, left))
                }
            }
            current = nodes[position].parent
        }
        return result.isEmpty ? nil : result
    }

    /// Every quota on `node`'s path to the root that has nothing left of some resource: (the
    /// limited role, scalar position, held by its subtree, limit).
    func exhaustedLimits(of node: Int) -> [(role: Role, position: Int, held: Int64, limit: Int64)] {
        var result: [(role: Role, position: Int, held: Int64, limit: Int64)] = []
        var current: Int? = node
        while let position = current, position != 0, let role = nodes[position].role {
            for limit in nodes[position].limits where nodes[position].subtree[limit.position] >= limit.milli {
                result.append((role, limit.position, nodes[position].subtree[limit.position], limit.milli))
            }
            current = nodes[position].parent
        }
        return result
    }

    /// Books an offer: the framework's, the role's and every ancestor's share grow, and each of
    /// them moves to its new place among its siblings.
    mutating func allocate(_ vector: ScalarVector, candidacy: Int, at node: Int) {
        candidacies[candidacy].held += vector
        let newKey = ShareKey(share: candidacies[candidacy].held.dominantShare(inverseTotal: inverseTotal), rank: candidacies[candidacy].rank)
        nodes[node].frameworks.move(from: candidacies[candidacy].key, to: newKey)
        candidacies[candidacy].key = newKey
        nodes[node].own += vector
        let ownKey = ShareKey(share: nodes[node].own.dominantShare(inverseTotal: inverseTotal) / nodes[node].weight, rank: nodes[node].rank)
        nodes[node].children.move(from: nodes[node].ownKey, to: ownKey)
        nodes[node].ownKey = ownKey
        var current: Int? = node
        while let position = current, position != 0 {
            nodes[position].subtree += vector
            let key = ShareKey(share: nodes[position].subtree.dominantShare(inverseTotal: inverseTotal) / nodes[position].weight,
                               rank: nodes[position].rank)
            let parent = nodes[position].parent ?? 0
            nodes[parent].children.move(from: nodes[position].subtreeKey, to: key)
            nodes[position].subtreeKey = key
            current = nodes[position].parent
        }
    }
}
