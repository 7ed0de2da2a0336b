/// A bag of resources with exact arithmetic. Entries are kept sorted by (name, reservation, type),
/// one per key and never empty, so equality is structural and the operations are merges of two
/// short sorted lists.
public struct Resources: Hashable, Sendable, CustomStringConvertible {
    public private(set) var items: [Resource]

    public static let empty = Resources()

    public init() { items = [] }

    public init(_ resources: some Sequence<Resource>) {
        items = []
        for resource in resources { add(resource) }
    }

    public var isEmpty: Bool { items.isEmpty }

    /// The agent text format, `cpus:4;mem:8192;ports:[31000-32000]`, which `parse` reads back.
    public var description: String { items.map(\.description).joined(separator: ";") }

    // MARK: arithmetic

    public mutating func add(_ resource: Resource) {
        guard !resource.value.isEmpty else { return }
        let key = resource.key
        let index = insertionIndex(of: key)
        if index < items.count, items[index].key == key {
            items[index].value = items[index].value.adding(resource.value)
        } else {
            items.insert(resource, at: index)
        }
    }

    public static func + (lhs: Resources, rhs: Resources) -> Resources {
        if lhs.isEmpty { return rhs }
        var result = lhs
        result += rhs
        return result
    }

    public static func += (lhs: inout Resources, rhs: Resources) {
        if lhs.isEmpty {
            lhs = rhs
            return
        }
        for resource in rhs.items { lhs.add(resource) }
    }

    /// `lhs` without `rhs`, or nil when `rhs` is not contained in `lhs`.
    public static func - (lhs: Resources, rhs: Resources) -> Resources? {
        lhs.contains(rhs) ? lhs.removing(rhs) : nil
    }

    /// Self without `other`; throws, naming what is missing, when `other` is not contained.
    public func subtracting(_ other: Resources) throws -> Resources {
        if let missing = other.items.first(where: { !contains($0) }) {
            throw BerthError(.invalidArgument, "cannot subtract \(missing) from \(self.isEmpty ? "no resources" : self.description): not contained; subtract only resources that are part of the total")
        }
        return removing(other)
    }

    /// Self without whatever part of `other` it holds: the saturating subtraction used where
    /// bookkeeping from outside may be stale (an offer on resources already gone).
    public func removing(_ other: Resources) -> Resources {
        var result = self
        for resource in other.items {
            let key = resource.key
            let index = result.insertionIndex(of: key)
            guard index < result.items.count, result.items[index].key == key else { continue }
            let remaining = result.items[index].value.removing(resource.value)
            if remaining.isEmpty { result.items.remove(at: index) } else { result.items[index].value = remaining }
        }
        return result
    }

    public func contains(_ other: Resources) -> Bool {
        other.items.allSatisfy(contains)
    }

    public func contains(_ resource: Resource) -> Bool {
        if resource.value.isEmpty { return true }
        guard let mine = item(for: resource.key) else { return false }
        return mine.value.contains(resource.value)
    }

    // MARK: queries

    /// The total of the scalar `name` across reservations; zero when absent.
    public func scalar(named name: String) -> Scalar {
        items.reduce(.zero) { total, resource in
            if resource.name == name, case .scalar(let amount) = resource.value { return total + amount }
            return total
        }
    }

    /// The union of the ranges named `name` across reservations.
    public func ranges(named name: String) -> ValueRanges {
        items.reduce(.empty) { total, resource in
            if resource.name == name, case .ranges(let ranges) = resource.value { return total.union(ranges) }
            return total
        }
    }

    /// The union of the sets named `name` across reservations.
    public func set(named name: String) -> Set<String> {
        items.reduce([]) { total, resource in
            if resource.name == name, case .set(let items) = resource.value { return total.union(items) }
            return total
        }
    }

    public var names: Set<String> { Set(items.map(\.name)) }

    /// Every role something here is reserved for.
    public var reservationRoles: Set<Role> { Set(items.lazy.filter(\.isReserved).map(\.reservation)) }

    public func filter(_ isIncluded: (Resource) throws -> Bool) rethrows -> Resources {
        // Filtering keeps the order and the one-entry-per-key rule, so no re-merge is needed.
        var result = Resources()
        result.items = try items.filter(isIncluded)
        return result
    }

    public var unreserved: Resources { filter { !$0.isReserved } }
    public var reserved: Resources { filter(\.isReserved) }

    /// Resources reserved for exactly `role`.
    public func reserved(for role: Role) -> Resources { filter { $0.isReserved && $0.reservation == role } }

    /// What a framework in `role` may be offered: unreserved resources, and reservations for the
    /// role itself or for one of its ancestors (Mesos' hierarchical roles: `eng/web` may use
    /// `eng`'s reservations, not the other way round).
    public func allocatableTo(role: Role) -> Resources {
        filter { !$0.isReserved || role.isSelfOrDescendant(of: $0.reservation) }
    }

    /// The same resources with every reservation dropped, for comparing amounts regardless of role.
    public var flattened: Resources { Resources(items.map { Resource(name: $0.name, value: $0.value) }) }

    /// Scalar totals, and counts of range values and set items: how Mesos compares quantities.
    public var quantities: ResourceQuantities {
        var result = ResourceQuantities()
        for resource in items {
            switch resource.value {
            case .scalar(let amount): result[resource.name] += amount
            case .ranges(let ranges): result[resource.name] += Scalar(Int(clamping: ranges.count))
            case .set(let items): result[resource.name] += Scalar(items.count)
            }
        }
        return result
    }

    // MARK: storage

    private func item(for key: Resource.Key) -> Resource? {
        let index = insertionIndex(of: key)
        return index < items.count && items[index].key == key ? items[index] : nil
    }

    private func insertionIndex(of key: Resource.Key) -> Int {
        // Lists are short (a handful of names per agent): a linear scan beats a binary search here.
        var index = 0
        while index < items.count, items[index].key < key { index += 1 }
        return index
    }
}

extension Resources: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: Resource...) { self.init(elements) }
}
