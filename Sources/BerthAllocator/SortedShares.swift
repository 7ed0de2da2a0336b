/// The sort key of DRF: weighted dominant share, then name so that equal shares order the same
/// way every time.
struct ShareKey: Comparable {
    var share: Double
    var name: String

    static func < (lhs: ShareKey, rhs: ShareKey) -> Bool {
        lhs.share != rhs.share ? lhs.share < rhs.share : lhs.name < rhs.name
    }
}

/// Entries kept sorted by key, updated one at a time: after an allocation only the receiver's
/// key changes, so it is moved (binary search out, binary search in) rather than the whole list
/// re-sorted, which is what makes Mesos' sorter O(agents × frameworks log frameworks).
struct SortedShares<Payload> {
    private(set) var keys: [ShareKey] = []
    private(set) var payloads: [Payload] = []

    var count: Int { keys.count }
    var isEmpty: Bool { keys.isEmpty }

    mutating func insert(_ payload: Payload, key: ShareKey) {
        let index = lowerBound(key)
        keys.insert(key, at: index)
        payloads.insert(payload, at: index)
    }

    /// Moves the entry stored under `old` to `new`. Keys are unique (names are), so `old` finds it.
    mutating func move(from old: ShareKey, to new: ShareKey) {
        let from = lowerBound(old)
        guard from < keys.count, keys[from] == old else { return }
        let payload = payloads[from]
        var to = lowerBound(new)
        // Shift only the entries between the two positions instead of a remove and an insert.
        if to > from {
            to -= 1
            for index in from..<to {
                keys[index] = keys[index + 1]
                payloads[index] = payloads[index + 1]
            }
        } else {
            var index = from
            while index > to {
                keys[index] = keys[index - 1]
                payloads[index] = payloads[index - 1]
                index -= 1
            }
        }
        keys[to] = new
        payloads[to] = payload
    }

    private func lowerBound(_ key: ShareKey) -> Int {
        var low = 0, high = keys.count
        while low < high {
            let middle = (low + high) / 2
            if keys[middle] < key { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
