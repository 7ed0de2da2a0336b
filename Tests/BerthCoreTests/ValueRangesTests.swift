import BerthCore
import Testing

@Suite("Value ranges")
struct ValueRangesTests {
    static func ranges(_ pairs: [(UInt64, UInt64)]) -> ValueRanges { ValueRanges(pairs.map { ValueRange($0.0, $0.1) }) }

    static let merged: [([(UInt64, UInt64)], String)] = [
        ([(31000, 32000), (33000, 33010)], "[31000-32000,33000-33010]"),
        ([(33000, 33010), (31000, 32000)], "[31000-32000,33000-33010]"),
        ([(1, 2), (3, 4)], "[1-4]"),
        ([(1, 10), (5, 6)], "[1-10]"),
        ([(1, 5), (4, 9), (20, 20)], "[1-9,20-20]"),
        ([(UInt64.max - 1, UInt64.max), (0, 0)], "[0-0,18446744073709551614-18446744073709551615]"),
    ]

    @Test(arguments: merged)
    func keptSortedAndCoalesced(input: [(UInt64, UInt64)], text: String) {
        #expect(Self.ranges(input).description == text)
    }

    static let subtracted: [([(UInt64, UInt64)], [(UInt64, UInt64)], String)] = [
        ([(31000, 32000)], [(31000, 31000)], "[31001-32000]"),
        ([(31000, 32000)], [(31500, 31600)], "[31000-31499,31601-32000]"),
        ([(31000, 32000)], [(30000, 40000)], "[]"),
        ([(1, 10), (20, 30)], [(5, 25)], "[1-4,26-30]"),
        ([(1, 10), (20, 30)], [(0, 1), (10, 20), (30, 31)], "[2-9,21-29]"),
        ([(1, 10)], [(11, 20)], "[1-10]"),
    ]

    @Test(arguments: subtracted)
    func subtracts(from: [(UInt64, UInt64)], remove: [(UInt64, UInt64)], text: String) {
        #expect(Self.ranges(from).subtracting(Self.ranges(remove)).description == text)
    }

    @Test func containsAndCounts() {
        let ports = Self.ranges([(31000, 32000), (33000, 33010)])
        #expect(ports.contains(Self.ranges([(31000, 31010), (33005, 33010)])))
        #expect(!ports.contains(Self.ranges([(31990, 32010)])))
        #expect(!ports.contains(Self.ranges([(32500, 32500)])))
        #expect(ports.contains(.empty))
        #expect(ports.count == 1012)
        #expect(ports.union(Self.ranges([(32001, 32999)])).description == "[31000-33010]")
    }
}
