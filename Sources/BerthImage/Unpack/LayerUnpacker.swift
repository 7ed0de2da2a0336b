import BerthCore
import BerthOCI
import Glibc
import Logging

/// Applies OCI image layers (tar, optionally gzip- or zstd-compressed) onto a directory tree.
///
/// Safe against hostile archives: nothing is written, changed, linked or removed outside the
/// target, whatever names, symlinks or hardlinks the layer (or an earlier one) holds. A rejected
/// layer may have been partly applied: the caller discards the tree.
public struct LayerUnpacker: Sendable {
    /// Uncompressed bytes per read from the decompressor: large, so system calls and hashing
    /// run on big blocks. A multiple of the 512-byte tar block.
    static let chunkSize = 1 << 20

    private let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// Applies one layer onto `root` (an existing directory: a plain tree, or an overlayfs merged mount).
    public func apply(_ layer: LayerSource, to root: String, limits: UnpackLimits = .default) throws -> UnpackReport {
        do {
            let report = try unpack(layer, to: root, limits: limits)
            logger.debug("applied layer", metadata: [
                "layer": "\(layer.displayName)", "root": "\(root)", "entries": "\(report.entries)",
                "bytes": "\(report.bytesWritten)", "diffID": "\(report.diffID)",
            ])
            return report
        } catch let failure as LayerFailure {
            if let errno = failure.errno, errno == ENOSPC || errno == EDQUOT {
                throw BerthError(.imageLayer, """
                    disk full while unpacking \(layer.displayName) into \(root): \(failure.message); \
                    free space (or raise the quota) on that file system and pull again
                    """, underlying: SystemError("unpack", errno: errno))
            }
            throw BerthError(.imageLayer, "\(layer.displayName): \(failure.message)",
                             underlying: failure.errno.map { SystemError("unpack", errno: $0) })
        }
    }

    private func unpack(_ layer: LayerSource, to root: String, limits: UnpackLimits) throws -> UnpackReport {
        let tree = try RootedTree(root: root)
        let file = try FileStream(path: layer.path)
        let chunks: any ChunkSource
        switch layer.compression {
        case .none:
            chunks = SerialChunks(file, chunkSize: Self.chunkSize)
        case .gzip:
            chunks = PrefetchedChunks(try GzipStream(file), chunkSize: Self.chunkSize)
        case .zstd:
            chunks = PrefetchedChunks(try ZstdStream(file), chunkSize: Self.chunkSize)
        }
        defer { chunks.finish() }
        let reader = TarReader(source: chunks, maxBytes: limits.maxBytes)
        let applier = LayerApplier(tree: tree, logger: logger)
        var entries = 0
        while let entry = try reader.next() {
            entries += 1
            guard entries <= limits.maxEntries else {
                throw LayerFailure("""
                    the layer has more than \(limits.maxEntries) entries, the limit (UnpackLimits.maxEntries); \
                    it is rejected as a possible archive bomb — if the image is genuine, raise the limit \
                    (configurable via UnpackLimits)
                    """)
            }
            try applier.apply(entry, reader: reader)
        }
        try applier.finish()
        let diffID = try reader.finish()
        return UnpackReport(diffID: diffID, entries: entries, bytesWritten: applier.bytesWritten, warnings: applier.warnings)
    }
}
