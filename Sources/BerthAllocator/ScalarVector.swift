import BerthCore

/// The scalar names of one cycle, numbered so that amounts on the hot path are a flat array of
/// thousandths instead of a name-keyed `Resources`.
struct ScalarIndex {
    let names: [String]
    private let positions: [String: Int]

    /// The usual four first, so that their positions are stable; then any custom scalars by name.
    init(names: Set<String>) {
        let usual = ["cpus", "mem", "disk", "gpus"]
        let ordered = usual + names.subtracting(usual).sorted()
        self.names = ordered
        positions = Dictionary(uniqueKeysWithValues: ordered.enumerated().map { ($1, $0) })
    }

    var count: Int { names.count }

    func position(of name: String) -> Int? {
        // Comparing a few short names beats hashing one; the dictionary serves clusters with
        // many custom scalars.
        guard names.count > 8 else { return names.firstIndex(of: name) }
        return positions[name]
    }

    /// The scalar amounts of `resources`, summed across reservations.
    func vector(_ resources: Resources) -> ScalarVector {
        var vector = ScalarVector(count: count)
        for resource in resources.items {
            if case .scalar(let amount) = resource.value, let position = position(of: resource.name) {
                vector[position] += amount.milli
            }
        }
        return vector
    }

    func quantities(_ vector: ScalarVector) -> ResourceQuantities {
        var result = ResourceQuantities()
        for (position, name) in names.enumerated() { result[name] = Scalar(milli: vector[position]) }
        return result
    }
}

/// 1/total per scalar position (0 where the cluster has none), laid out like `ScalarVector`.
struct InverseTotals {
    var inline = SIMD8<Double>()
    var overflow: [Double] = []

    init(_ values: [Double]) {
        for (position, value) in values.enumerated() {
            if position < ScalarVector.inlineWidth { inline[position] = value } else { overflow.append(value) }
        }
    }
}

/// Scalar amounts in thousandths, positions as in the cycle's `ScalarIndex`. The first eight
/// (cpus, mem, disk, gpus and four more) live inline in a SIMD vector, so the vectors the cycle
/// makes per agent and per offer need no heap memory; clusters with more scalar names spill
/// the rest into `overflow`.
struct ScalarVector: Equatable {
    static let inlineWidth = 8

    private var inline = SIMD8<Int64>()
    private var overflow: [Int64]

    init(count: Int) {
        overflow = count > Self.inlineWidth ? Array(repeating: 0, count: count - Self.inlineWidth) : []
    }

    subscript(position: Int) -> Int64 {
        get { position < Self.inlineWidth ? inline[position] : overflow[position - Self.inlineWidth] }
        set {
            if position < Self.inlineWidth { inline[position] = newValue } else { overflow[position - Self.inlineWidth] = newValue }
        }
    }

    static func += (lhs: inout ScalarVector, rhs: ScalarVector) {
        lhs.inline &+= rhs.inline
        for index in lhs.overflow.indices { lhs.overflow[index] &+= rhs.overflow[index] }
    }

    static func -= (lhs: inout ScalarVector, rhs: ScalarVector) {
        lhs.inline &-= rhs.inline
        for index in lhs.overflow.indices { lhs.overflow[index] &-= rhs.overflow[index] }
    }

    /// DRF's dominant share: the largest fraction of the cluster total held of any resource.
    func dominantShare(inverseTotal: InverseTotals) -> Double {
        var share = (SIMD8<Double>(inline) * inverseTotal.inline).max()
        for index in overflow.indices { share = Swift.max(share, Double(overflow[index]) * inverseTotal.overflow[index]) }
        return share
    }
}
