import BerthCore
import Foundation

/// Which images to remove when pruning: unused for long enough, or (under disk pressure) the
/// least recently used until enough space would be free. An image a live container runs from
/// is never chosen. Pure, so the policy is tested without a disk.
public struct ImagePrunePolicy: Sendable {
    /// Remove images not used for this long (nil: age alone removes nothing).
    public var unusedFor: TimeInterval?
    /// Under disk pressure: remove least recently used images until the home's filesystem would
    /// have at least this fraction free (nil: no pressure rule).
    public var minimumFreeFraction: Double?

    public init(unusedFor: TimeInterval? = nil, minimumFreeFraction: Double? = nil) {
        self.unusedFor = unusedFor
        self.minimumFreeFraction = minimumFreeFraction
    }

    public struct Disk: Sendable {
        public var totalBytes: Int64
        public var freeBytes: Int64
        public init(totalBytes: Int64, freeBytes: Int64) {
            self.totalBytes = totalBytes
            self.freeBytes = freeBytes
        }
    }

    /// The images to remove, least recently used first. `size` estimates what removing one
    /// frees (its blobs; shared layers make it an upper bound).
    public func select(_ images: [ImageRecord], inUse: Set<String>, now: Date, disk: Disk?) -> [ImageRecord] {
        let candidates = images.filter { !inUse.contains($0.name) }.sorted { ($0.lastActive, $0.name) < ($1.lastActive, $1.name) }
        var chosen: [ImageRecord] = []
        var freed: Int64 = 0
        for image in candidates {
            let old = unusedFor.map { now.timeIntervalSince(image.lastActive) >= $0 } ?? false
            var pressed = false
            if let minimumFreeFraction, let disk {
                pressed = Double(disk.freeBytes + freed) < minimumFreeFraction * Double(disk.totalBytes)
            }
            guard old || pressed else { continue }
            chosen.append(image)
            freed += image.size
        }
        return chosen
    }
}

extension LocalImages {
    /// Removes the images the policy picks, then everything only they referenced. `alsoInUse`
    /// names images that have no container yet but are about to (an agent's launching tasks).
    public func prune(_ policy: ImagePrunePolicy, now: Date = Date(), alsoInUse: Set<String> = []) throws -> ([ImageRecord], CollectionReport) {
        let inUse = try ContainerRootfs.imagesInUse(home: home).union(alsoInUse)
        let chosen = policy.select(try records.all(), inUse: inUse, now: now, disk: diskUsage())
        guard !chosen.isEmpty else { return ([], try collectGarbage()) }
        return try remove(chosen.map(\.name))
    }

    /// The filesystem the home is on.
    public func diskUsage() -> ImagePrunePolicy.Disk? {
        var stats = statvfs()
        guard statvfs(home.root, &stats) == 0 else { return nil }
        let block = Int64(stats.f_frsize)
        return ImagePrunePolicy.Disk(totalBytes: Int64(stats.f_blocks) * block, freeBytes: Int64(stats.f_bavail) * block)
    }
}
