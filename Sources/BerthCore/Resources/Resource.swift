/// One named resource: an amount of cpus, a list of port ranges, a set of disks; unreserved
/// (reservation `*`) or statically reserved for one role. Mesos' stack of reservations
/// (refinement) is simplified to that one static role.
public struct Resource: Hashable, Sendable, CustomStringConvertible {
    public enum Value: Hashable, Sendable, CustomStringConvertible {
        case scalar(Scalar)
        case ranges(ValueRanges)
        case set(Set<String>)

        public var kind: Kind {
            switch self {
            case .scalar: .scalar
            case .ranges: .ranges
            case .set: .set
            }
        }

        public var isEmpty: Bool {
            switch self {
            case .scalar(let amount): amount <= .zero
            case .ranges(let ranges): ranges.isEmpty
            case .set(let items): items.isEmpty
            }
        }

        /// The text format: `4`, `[31000-32000]`, `{a,b}` (set items sorted, so output is stable).
        public var description: String {
            switch self {
            case .scalar(let amount): amount.description
            case .ranges(let ranges): ranges.description
            case .set(let items): "{" + items.sorted().joined(separator: ",") + "}"
            }
        }
    }

    /// The Mesos value types, in the spelling of the v1 JSON API.
    public enum Kind: String, Hashable, Comparable, Sendable, Codable {
        case scalar = "SCALAR"
        case ranges = "RANGES"
        case set = "SET"

        public static func < (lhs: Kind, rhs: Kind) -> Bool { lhs.order < rhs.order }
        private var order: Int { self == .scalar ? 0 : self == .ranges ? 1 : 2 }
    }

    public var name: String
    public var value: Value
    /// `*` when unreserved, else the role the resource is statically reserved for.
    public var reservation: Role

    public init(name: String, value: Value, reservation: Role = .default) {
        self.name = name
        self.value = value
        self.reservation = reservation
    }

    public static func scalar(_ name: String, _ amount: Scalar, reservation: Role = .default) -> Resource {
        Resource(name: name, value: .scalar(amount), reservation: reservation)
    }

    public static func ranges(_ name: String, _ ranges: [ValueRange], reservation: Role = .default) -> Resource {
        Resource(name: name, value: .ranges(ValueRanges(ranges)), reservation: reservation)
    }

    public static func set(_ name: String, _ items: Set<String>, reservation: Role = .default) -> Resource {
        Resource(name: name, value: .set(items), reservation: reservation)
    }

    public var isReserved: Bool { !reservation.isDefault }

    /// `cpus:4`, `cpus(eng):2`, `ports:[31000-32000]`: the agent's --resources text format.
    public var description: String {
        isReserved ? "\(name)(\(reservation)):\(value)" : "\(name):\(value)"
    }

    /// Resources with the same key combine by addition; Mesos keeps same-named resources of
    /// different types apart, and so does this key.
    struct Key: Hashable, Comparable {
        var name: String
        var reservation: Role
        var kind: Kind

        static func < (lhs: Key, rhs: Key) -> Bool {
            if lhs.name != rhs.name { return lhs.name < rhs.name }
            if lhs.reservation != rhs.reservation { return lhs.reservation.isDefault || (!rhs.reservation.isDefault && lhs.reservation < rhs.reservation) }
            return lhs.kind < rhs.kind
        }
    }

    var key: Key { Key(name: name, reservation: reservation, kind: value.kind) }
}

extension Resource.Value {
    func adding(_ other: Resource.Value) -> Resource.Value {
        switch (self, other) {
        case (.scalar(let a), .scalar(let b)): .scalar(a + b)
        case (.ranges(let a), .ranges(let b)): .ranges(a.union(b))
        case (.set(let a), .set(let b)): .set(a.union(b))
        default: self
        }
    }

    /// Nil when `other` is not wholly contained in self.
    func subtracting(_ other: Resource.Value) -> Resource.Value? {
        guard contains(other) else { return nil }
        return removing(other)
    }

    /// Self minus whatever of `other` it has; never negative.
    func removing(_ other: Resource.Value) -> Resource.Value {
        switch (self, other) {
        case (.scalar(let a), .scalar(let b)): .scalar(Swift.max(a - b, .zero))
        case (.ranges(let a), .ranges(let b)): .ranges(a.subtracting(b))
        case (.set(let a), .set(let b)): .set(a.subtracting(b))
        default: self
        }
    }

    func contains(_ other: Resource.Value) -> Bool {
        switch (self, other) {
        case (.scalar(let a), .scalar(let b)): a >= b
        case (.ranges(let a), .ranges(let b)): a.contains(b)
        case (.set(let a), .set(let b)): b.isSubset(of: a)
        default: false
        }
    }
}
