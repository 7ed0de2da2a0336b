import BerthImage
import BerthOCI
import Foundation
import Testing

@Suite struct ImagePrunePolicyTests {
    static let now = Date(timeIntervalSince1970: 1_000_000)

    static func image(_ name: String, addedDaysAgo: Double, usedDaysAgo: Double?, size: Int64 = 100) -> ImageRecord {
        // A fixed, valid digest: the policy does not look at it.
        let digest = (try? Digest(parsing: "sha256:" + String(repeating: "a", count: 64)))!
        var record = ImageRecord(name: name, digest: digest, manifestDigest: digest, configDigest: digest, platform: "linux/amd64",
                                 size: size, created: nil, addedAt: now.addingTimeInterval(-addedDaysAgo * 86400))
        record.lastUsed = usedDaysAgo.map { now.addingTimeInterval(-$0 * 86400) }
        return record
    }

    let images = [
        image("fresh", addedDaysAgo: 10, usedDaysAgo: 0.5),
        image("stale", addedDaysAgo: 10, usedDaysAgo: 8),
        image("never-used", addedDaysAgo: 9, usedDaysAgo: nil),
        image("new", addedDaysAgo: 0.1, usedDaysAgo: nil),
    ]

    @Test func ageRemovesWhatWasNotUsedForLong() {
        let chosen = ImagePrunePolicy(unusedFor: 7 * 86400).select(images, inUse: [], now: Self.now, disk: nil)
        #expect(chosen.map(\.name) == ["never-used", "stale"])
    }

    @Test func anImageInUseIsNeverChosen() {
        let chosen = ImagePrunePolicy(unusedFor: 0).select(images, inUse: ["stale"], now: Self.now, disk: nil)
        #expect(!chosen.map(\.name).contains("stale"))
        #expect(chosen.count == 3)
    }

    /// 1000 bytes of disk, 50 free; at least 20% free wanted: 150 more bytes, least recently used first.
    @Test func pressureRemovesLeastRecentlyUsedUntilEnoughIsFree() {
        let policy = ImagePrunePolicy(minimumFreeFraction: 0.2)
        let chosen = policy.select(images, inUse: [], now: Self.now, disk: .init(totalBytes: 1000, freeBytes: 50))
        #expect(chosen.map(\.name) == ["never-used", "stale"])
        #expect(policy.select(images, inUse: [], now: Self.now, disk: .init(totalBytes: 1000, freeBytes: 500)).isEmpty)
    }

    @Test func withoutARuleNothingIsChosen() {
        #expect(ImagePrunePolicy().select(images, inUse: [], now: Self.now, disk: .init(totalBytes: 1000, freeBytes: 0)).isEmpty)
    }
}
