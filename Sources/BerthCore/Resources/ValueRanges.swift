/// One inclusive range of a ranges resource, `31000-32000`.
public struct ValueRange: Hashable, Sendable, Codable, CustomStringConvertible {
    public var begin: UInt64
    public var end: UInt64

    public init(_ begin: UInt64, _ end: UInt64) {
        self.begin = begin
        self.end = end
    }

    public init(begin: UInt64, end: UInt64) { self.init(begin, end) }

    public var count: UInt64 { end - begin + 1 }
    public var description: String { "\(begin)-\(end)" }
}

/// A ranges value such as ports, kept sorted and coalesced (`[1-2, 3-4]` is stored as `[1-4]`),
/// so that equality, containment and subtraction are single linear passes.
public struct ValueRanges: Hashable, Sendable, CustomStringConvertible {
    public private(set) var ranges: [ValueRange]

    public static let empty = ValueRanges(coalesced: [])

    /// Ranges in any order, overlapping or not; those with begin > end are an error the parsers
    /// report before coming here, and are dropped.
    public init(_ ranges: [ValueRange]) {
        self.ranges = Self.coalesce(ranges.filter { $0.begin <= $0.end })
    }

    private init(coalesced: [ValueRange]) { self.ranges = coalesced }

    public var isEmpty: Bool { ranges.isEmpty }

    /// How many values, as Mesos counts a ranges quantity.
    public var count: UInt64 { ranges.reduce(0) { $0 &+ $1.count } }

    public var description: String { "[" + ranges.map(\.description).joined(separator: ",") + "]" }

    public func union(_ other: ValueRanges) -> ValueRanges {
        if other.isEmpty { return self }
        if isEmpty { return other }
        return ValueRanges(coalesced: Self.coalesce(ranges + other.ranges))
    }

    /// True when every value of `other` is in self. Both lists are sorted, so one pass suffices.
    public func contains(_ other: ValueRanges) -> Bool {
        var index = 0
        for range in other.ranges {
            while index < ranges.count, ranges[index].end < range.begin { index += 1 }
            guard index < ranges.count, ranges[index].begin <= range.begin, ranges[index].end >= range.end else { return false }
        }
        return true
    }

    /// Self without the values of `other` (those not in self are ignored).
    public func subtracting(_ other: ValueRanges) -> ValueRanges {
        if other.isEmpty || isEmpty { return self }
        var result: [ValueRange] = []
        var cut = 0
        for range in ranges {
            var begin = range.begin
            var exhausted = false
            while cut < other.ranges.count, other.ranges[cut].end < begin { cut += 1 }
            var index = cut
            while index < other.ranges.count, other.ranges[index].begin <= range.end {
                let hole = other.ranges[index]
                if hole.begin > begin { result.append(ValueRange(begin, hole.begin - 1)) }
                if hole.end >= range.end { exhausted = true; break }
                begin = Swift.max(begin, hole.end + 1)
                index += 1
            }
            if !exhausted { result.append(ValueRange(begin, range.end)) }
        }
        return ValueRanges(coalesced: result)
    }

    private static func coalesce(_ input: [ValueRange]) -> [ValueRange] {
        guard input.count > 1 else { return input }
        let sorted = input.sorted { $0.begin < $1.begin }
        var result: [ValueRange] = [sorted[0]]
        result.reserveCapacity(sorted.count)
        for range in sorted.dropFirst() {
            let last = result[result.count - 1]
            // Adjacent ranges merge too (last.end + 1 == begin), without overflowing at UInt64.max.
            if range.begin <= last.end || range.begin - last.end == 1 {
                result[result.count - 1].end = Swift.max(last.end, range.end)
            } else {
                result.append(range)
            }
        }
        return result
    }
}
