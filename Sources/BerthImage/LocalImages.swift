import BerthCore
import BerthOCI
import Foundation
import Logging

/// The images of one Berth home and everything made from them: the facade the CLI and the agent
/// use. Blobs live in the content store, names in the image store, unpacked layers in snapshots.
public struct LocalImages: Sendable {
    public let home: BerthHome
    public let content: ContentStore
    public let records: ImageStore
    public let snapshots: SnapshotStore
    private let logger: Logger

    public init(home: BerthHome, logger: Logger) throws {
        try home.create()
        self.home = home
        self.content = try ContentStore(root: home.content)
        self.records = ImageStore(home: home)
        self.snapshots = SnapshotStore(home: home, logger: logger)
        self.logger = logger
    }

    /// The image a user named, or an error that says how to get it.
    public func find(_ name: String) throws -> ImageRecord? {
        try records.find(name, normalize: { (try? ImageReference(parsing: $0))?.description })
    }

    public func require(_ name: String) throws -> ImageRecord {
        guard let record = try find(name) else {
            throw BerthError(.notFound, "image \(name) is not in \(home.root): pull it (berth image pull \(name)) or import it")
        }
        return record
    }

    public func manifest(of record: ImageRecord) throws -> Manifest {
        try decode(Manifest.self, record.manifestDigest, what: "manifest of \(record.name)")
    }

    public func configuration(of record: ImageRecord) throws -> ImageConfiguration {
        try decode(ImageConfiguration.self, record.configDigest, what: "configuration of \(record.name)")
    }

    func decode<T: Decodable>(_ type: T.Type, _ digest: Digest, what: String) throws -> T {
        let data: Data
        do {
            data = try content.data(for: digest)
        } catch {
            throw BerthError(.notFound, "the \(what) (\(digest)) cannot be read from the content store (\(error)); pull or import the image again",
                             underlying: error as? BerthError)
        }
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw BerthError(.invalidArgument, "the \(what) (\(digest)) is not valid JSON of its kind: \(error)")
        }
    }

    /// Records an image whose blobs are all in the content store.
    @discardableResult
    public func add(name: String, digest: Digest, manifestDigest: Digest) throws -> ImageRecord {
        let manifest = try decode(Manifest.self, manifestDigest, what: "manifest of \(name)")
        let configuration = try decode(ImageConfiguration.self, manifest.config.digest, what: "configuration of \(name)")
        let size = manifest.config.size + manifest.layers.reduce(0) { $0 + $1.size }
        let record = ImageRecord(name: name, digest: digest, manifestDigest: manifestDigest, configDigest: manifest.config.digest,
                                 platform: configuration.platform.description, size: size, created: configuration.created)
        try records.put(record)
        return record
    }

    /// Unpacks (once) every layer of the image; returns the snapshots bottom first.
    public func prepareSnapshots(_ record: ImageRecord, limits: UnpackLimits = .default,
                                 progress: (@Sendable (String) -> Void)? = nil) throws -> [Snapshot] {
        try snapshots.prepare(image: record.name, manifest: manifest(of: record), configuration: configuration(of: record),
                              content: content, limits: limits, progress: progress)
    }

    /// A container's root filesystem from the image, under `containers/<id>`.
    /// `detached`: see `ContainerRootfs.create`.
    public func createRootfs(_ record: ImageRecord, containerID: String, limits: UnpackLimits = .default, detached: Bool = false,
                             progress: (@Sendable (String) -> Void)? = nil) throws -> ContainerRootfs {
        let gcLock = try FileLock(path: home.collectionLockFile, mode: .shared)
        defer { withExtendedLifetime(gcLock) {} }
        let layers = try prepareSnapshots(record, limits: limits, progress: progress)
        let rootfs = try ContainerRootfs.create(containerID: containerID, image: record.name, snapshots: layers,
                                                driver: try snapshots.driver(), home: home, detached: detached)
        do {
            try records.markUsed(name: record.name)
        } catch {
            // Only pruning by age reads it; the container must not fail for it.
            logger.warning("cannot note that image \(record.name) was used: \(error)")
        }
        return rootfs
    }

    /// Applies every layer of the image, in order, onto `directory` (created when missing, and
    /// expected to be empty): the image's root filesystem as a plain tree, for inspection.
    public func unpack(_ record: ImageRecord, to directory: String, limits: UnpackLimits = .default) throws -> [UnpackReport] {
        let layers = try ImageLayer.plan(image: record.name, manifest: manifest(of: record), configuration: configuration(of: record),
                                         content: content)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let unpacker = LayerUnpacker(logger: logger)
        var reports: [UnpackReport] = []
        for layer in layers {
            let report = try unpacker.apply(layer.source, to: directory, limits: limits)
            try layer.verify(report)
            reports.append(report)
        }
        return reports
    }

    /// What removing images and pruning freed.
    public struct CollectionReport: Sendable {
        public var blobs = 0
        public var snapshots = 0
        public var containers = 0
        public var bytes: Int64 = 0
    }

    /// Removes the named images, then everything only they referenced.
    public func remove(_ names: [String]) throws -> ([ImageRecord], CollectionReport) {
        var doomed = Set<String>()
        for name in names { doomed.insert(try require(name).name) }
        let removed = try records.remove(names: doomed)
        return (removed, try collectGarbage())
    }

    /// Removes blobs, snapshots, partial downloads and dead containers' leftovers that no image
    /// record and no running container references.
    public func collectGarbage() throws -> CollectionReport {
        let gcLock = try FileLock(path: home.collectionLockFile, mode: .exclusive)
        defer { withExtendedLifetime(gcLock) {} }
        var report = CollectionReport()
        let containers = try ContainerRootfs.collect(home: home, logger: logger)
        report.containers = containers.removed
        report.bytes += containers.bytes
        var keepBlobs = Set<Digest>()
        var keepSnapshots = containers.inUse
        for record in try records.all() {
            keepBlobs.formUnion([record.digest, record.manifestDigest, record.configDigest])
            guard let manifest = try? manifest(of: record) else { continue }
            keepBlobs.formUnion(manifest.layers.map(\.digest))
            if let configuration = try? configuration(of: record) {
                keepSnapshots.formUnion(ChainID.compute(configuration.rootfs.diffIDs))
            }
        }
        report.bytes += try content.removeAbandonedIngests()
        let removedSnapshots = try snapshots.removeAll(except: keepSnapshots)
        report.snapshots = removedSnapshots.count
        report.bytes += removedSnapshots.bytes
        for digest in try content.allDigests() where !keepBlobs.contains(digest) {
            report.bytes += (try? content.size(of: digest)) ?? 0
            try content.delete(digest)
            report.blobs += 1
        }
        return report
    }
}
