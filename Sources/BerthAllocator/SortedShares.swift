/// The sort key of DRF: weighted dominant share, then the name's rank among its kind (role or
/// framework names, sorted) so that equal shares order the same way every time. A rank rather
/// than the name itself keeps the key a plain value: moving keys then costs no reference counting.
struct ShareKey: Comparable {
    var share: Double
    var rank: Int

    /// Shares are rounded to 1e-12 so that ones equal in exact arithmetic (3/120 of one resource
    /// against 1/40 of it) compare equal and fall to the rank, not to the last bit of a division.
    init(share: Double, rank: Int) {
        self.share = (share * 1e12).rounded() / 1e12
        self.rank = rank
    }

    static func < (lhs: ShareKey, rhs: ShareKey) -> Bool {
        lhs.share != rhs.share ? lhs.share < rhs.share : lhs.rank < rhs.rank
    }
}

/// Entries kept sorted by key, updated one at a time: after an allocation only the receiver's
/// key changes, so its entry is moved (binary search out, binary search in, one block shift)
/// rather than the whole list re-sorted, which is what makes Mesos' sorter O(agents × frameworks
/// log frameworks). Payloads are plain values (indices), so the shift is a memmove.
struct SortedShares<Payload: BitwiseCopyable> {
    struct Entry {
        var key: ShareKey
        var payload: Payload
    }

    private(set) var entries: [Entry] = []

    var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }

    mutating func insert(_ payload: Payload, key: ShareKey) {
        entries.insert(Entry(key: key, payload: payload), at: lowerBound(key))
    }

    /// Moves the entry stored under `old` to `new`. Keys are unique (ranks are), so `old` finds it.
    mutating func move(from old: ShareKey, to new: ShareKey) {
        let from = lowerBound(old)
        guard from < entries.count, entries[from].key == old else { return }
        let target = lowerBound(new)
        // Without the moved entry, `new` belongs one place earlier when it lies beyond `old`.
        let to = target > from ? target - 1 : target
        entries.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            let moving = Entry(key: new, payload: base[from].payload)
            if to > from {
                (base + from).update(from: base + from + 1, count: to - from)
            } else if to < from {
                (base + to + 1).update(from: base + to, count: from - to)
            }
            base[to] = moving
        }
    }

    private func lowerBound(_ key: ShareKey) -> Int {
        var low = 0, high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].key < key { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
