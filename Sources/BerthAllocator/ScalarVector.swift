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
                vector.values[position] += amount.milli
            }
        }
        return vector
    }

    func quantities(_ vector: ScalarVector) -> ResourceQuantities {
        var result = ResourceQuantities()
        for (position, name) in names.enumerated() { result[name] = Scalar(milli: vector.values[position]) }
        return result
    }
}

/// Scalar amounts in thousandths, positions as in the cycle's `ScalarIndex`. All updates are in
/// place, so the allocation loop does not allocate memory for them.
struct ScalarVector: Equatable {
    var values: [Int64]

    init(count: Int) { values = Array(repeating: 0, count: count) }

    static func += (lhs: inout ScalarVector, rhs: ScalarVector) {
        for position in lhs.values.indices { lhs.values[position] &+= rhs.values[position] }
    }

    static func -= (lhs: inout ScalarVector, rhs: ScalarVector) {
        for position in lhs.values.indices { lhs.values[position] &-= rhs.values[position] }
    }

    var isZero: Bool { values.allSatisfy { $0 == 0 } }

    /// DRF's dominant share: the largest fraction of the cluster total held of any resource.
    /// `inverseTotal` is 1/total per position, 0 where the cluster has none.
    func dominantShare(inverseTotal: [Double]) -> Double {
        var share = 0.0
        for position in values.indices {
            share = Swift.max(share, Double(values[position]) * inverseTotal[position])
        }
        return share
    }
}
