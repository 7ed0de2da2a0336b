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
        /// Frameworks that may be offered resources for this role this cycle (framework positions).
        var frameworks = SortedShares<Int>()
        /// What each framework holds in this role, by framework position.
        var held: [Int: ScalarVector] = [:]
        /// True when this node or a descendant has a framework to offer to.
        var hasCandidates = false
        var subtreeKey: ShareKey
        var ownKey: ShareKey
    }

    private(set) var nodes: [Node]
    private var positions: [Role: Int] = [:]
    let inverseTotal: [Double]
    private let width: Int

    init(scalars: ScalarIndex, inverseTotal: [Double]) {
        width = scalars.count
        self.inverseTotal = inverseTotal
        let empty = ScalarVector(count: scalars.count)
        nodes = [Node(role: nil, parent: nil, weight: 1, limits: [], subtree: empty, own: empty,
                      subtreeKey: ShareKey(share: 0, name: ""), ownKey: ShareKey(share: 0, name: ""))]
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
        let key = ShareKey(share: 0, name: role.name)
        nodes.append(Node(role: role, parent: parent, weight: config.effectiveWeight, limits: limits, subtree: empty, own: empty,
                          subtreeKey: key, ownKey: key))
        let position = nodes.count - 1
        positions[role] = position
        nodes[parent].children.insert(.role(position), key: key)
        return position
    }

    /// Counts resources already held (running tasks, outstanding offers) before the cycle starts.
    mutating func record(_ vector: ScalarVector, framework: Int?, at node: Int) {
        if let framework { nodes[node].held[framework, default: ScalarVector(count: width)] += vector }
        nodes[node].own += vector
        var current: Int? = node
        while let position = current, position != 0 {
            nodes[position].subtree += vector
            current = nodes[position].parent
        }
    }

    /// Makes `framework` a candidate for offers in `node`'s role.
    mutating func addCandidate(_ framework: Int, name: String, at node: Int) {
        let held = nodes[node].held[framework] ?? ScalarVector(count: width)
        nodes[node].frameworks.insert(framework, key: ShareKey(share: held.dominantShare(inverseTotal: inverseTotal), name: name))
        var current: Int? = node
        while let position = current, !nodes[position].hasCandidates {
            nodes[position].hasCandidates = true
            current = nodes[position].parent
        }
    }

    /// Once every candidate is known and every holding recorded: computes the keys and sorts.
    mutating func finishSetup() {
        for position in nodes.indices.dropFirst() {
            let node = nodes[position]
            let parent = node.parent ?? 0
            let key = ShareKey(share: node.subtree.dominantShare(inverseTotal: inverseTotal) / node.weight, name: node.subtreeKey.name)
            nodes[parent].children.move(from: node.subtreeKey, to: key)
            nodes[position].subtreeKey = key
            if !node.frameworks.isEmpty {
                let ownKey = ShareKey(share: node.own.dominantShare(inverseTotal: inverseTotal) / node.weight, name: node.ownKey.name)
                nodes[position].ownKey = ownKey
                nodes[position].children.insert(.own, key: ownKey)
            }
        }
    }

    /// The roles to try, best first: depth-first through the sorted children, keeping only
    /// nodes whose own frameworks are candidates.
    func allocationOrder(into order: inout [Int]) {
        order.removeAll(keepingCapacity: true)
        visit(0, into: &order)
    }

    private func visit(_ position: Int, into order: inout [Int]) {
        let children = nodes[position].children
        for child in children.payloads {
            switch child {
            case .own: order.append(position)
            case .role(let next): if nodes[next].hasCandidates { visit(next, into: &order) }
            }
        }
    }

    /// How much more of each limited scalar `node`'s role may take: the least headroom along its
    /// path to the root, nil when no role on the path has a quota.
    func headroom(of node: Int) -> [(position: Int, milli: Int64)]? {
        var result: [Int: Int64] = [:]
        var current: Int? = node
        while let position = current, position != 0 {
            for limit in nodes[position].limits {
                let left = limit.milli - nodes[position].subtree.values[limit.position]
                result[limit.position] = min(result[limit.position] ?? Int64.max, left)
            }
            current = nodes[position].parent
        }
        return result.isEmpty ? nil : result.map { (position: $0.key, milli: $0.value) }
    }

    /// Every quota on `node`'s path to the root that has nothing left of some resource: (the
    /// limited role, scalar position, held by its subtree, limit).
    func exhaustedLimits(of node: Int) -> [(role: Role, position: Int, held: Int64, limit: Int64)] {
        var result: [(role: Role, position: Int, held: Int64, limit: Int64)] = []
        var current: Int? = node
        while let position = current, position != 0, let role = nodes[position].role {
            for limit in nodes[position].limits where nodes[position].subtree.values[limit.position] >= limit.milli {
                result.append((role, limit.position, nodes[position].subtree.values[limit.position], limit.milli))
            }
            current = nodes[position].parent
        }
        return result
    }

    /// Books an offer: the framework's, the role's and every ancestor's share grow, and each of
    /// them moves to its new place among its siblings.
    mutating func allocate(_ vector: ScalarVector, framework: Int, name: String, at node: Int) {
        var held = nodes[node].held[framework] ?? ScalarVector(count: width)
        let oldKey = ShareKey(share: held.dominantShare(inverseTotal: inverseTotal), name: name)
        held += vector
        nodes[node].held[framework] = held
        nodes[node].frameworks.move(from: oldKey, to: ShareKey(share: held.dominantShare(inverseTotal: inverseTotal), name: name))
        nodes[node].own += vector
        let ownKey = ShareKey(share: nodes[node].own.dominantShare(inverseTotal: inverseTotal) / nodes[node].weight, name: nodes[node].ownKey.name)
        nodes[node].children.move(from: nodes[node].ownKey, to: ownKey)
        nodes[node].ownKey = ownKey
        var current: Int? = node
        while let position = current, position != 0 {
            nodes[position].subtree += vector
            let key = ShareKey(share: nodes[position].subtree.dominantShare(inverseTotal: inverseTotal) / nodes[position].weight,
                               name: nodes[position].subtreeKey.name)
            let parent = nodes[position].parent ?? 0
            nodes[parent].children.move(from: nodes[position].subtreeKey, to: key)
            nodes[position].subtreeKey = key
            current = nodes[position].parent
        }
    }
}
