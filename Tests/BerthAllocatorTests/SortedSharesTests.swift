import BerthCore
@testable import BerthAllocator
import Testing

@Suite("Sorted shares")
struct SortedSharesTests {
    /// Moves in both directions (an allocation only ever raises a share, but the list must not
    /// depend on that), checked against sorting from scratch after every move.
    @Test(arguments: [1, 2, 3, 50])
    func movesKeepTheListSorted(count: Int) {
        var random = SplitMix64(seed: UInt64(count))
        var list = SortedShares<Int>()
        var keys: [ShareKey] = []
        for payload in 0..<count {
            let key = ShareKey(share: Double(random.next() % 10) / 10, rank: payload)
            keys.append(key)
            list.insert(payload, key: key)
        }
        for _ in 0..<200 {
            let payload = Int(random.next() % UInt64(count))
            let new = ShareKey(share: Double(random.next() % 10) / 10, rank: payload)
            list.move(from: keys[payload], to: new)
            keys[payload] = new
            let expected = (0..<count).sorted { keys[$0] < keys[$1] }
            #expect(list.entries.map(\.payload) == expected)
            #expect(list.entries.map(\.key) == expected.map { keys[$0] })
        }
    }

    @Test func equalSharesFallToTheRank() {
        // 3/120 and 1/40 differ in the last bit as doubles; rounded they tie, and the rank decides.
        let a = ShareKey(share: 12000.0 * (1 / 160000.0) / 3, rank: 1)
        let b = ShareKey(share: 4000.0 * (1 / 160000.0), rank: 0)
        #expect(a.share == b.share)
        #expect(b < a)
    }
}
