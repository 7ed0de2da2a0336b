import BerthOCI

/// One layer blob to apply, with what error messages need to say which layer of which image.
public struct LayerSource: Sendable {
    /// The layer blob file.
    public var path: String
    public var compression: LayerCompression
    /// For error messages, e.g. "127.0.0.1:5000/app:1".
    public var imageName: String
    /// 0-based; messages count from 1 ("layer 2/5").
    public var layerIndex: Int
    public var layerCount: Int
    /// The blob digest, for messages.
    public var digest: Digest?

    public init(path: String, compression: LayerCompression, imageName: String, layerIndex: Int, layerCount: Int, digest: Digest?) {
        self.path = path
        self.compression = compression
        self.imageName = imageName
        self.layerIndex = layerIndex
        self.layerCount = layerCount
        self.digest = digest
    }

    /// "image 127.0.0.1:5000/app:1, layer 2/5 (sha256:0123abcd4567)": the prefix of every message about this layer.
    public var displayName: String {
        let digestPart = digest.map { " (\($0.algorithm.rawValue):\($0.short))" } ?? ""
        return "image \(imageName), layer \(layerIndex + 1)/\(layerCount)\(digestPart)"
    }
}

/// Bounds on what one layer may expand to, so an archive bomb stops with an error instead of
/// filling the disk or the inode table.
public struct UnpackLimits: Sendable {
    /// Tar entries in one layer (whiteouts and metadata headers included).
    public var maxEntries: Int
    /// Uncompressed bytes of the tar stream of one layer, headers and padding included.
    public var maxBytes: Int64

    public init(maxEntries: Int, maxBytes: Int64) {
        self.maxEntries = maxEntries
        self.maxBytes = maxBytes
    }

    /// 2,000,000 entries and 64 GiB: well above real images (a full distribution with
    /// development tools is a few hundred thousand files and a few GiB), well below what
    /// exhausts a host.
    public static let `default` = UnpackLimits(maxEntries: 2_000_000, maxBytes: 64 << 30)
}

/// What applying a layer did.
public struct UnpackReport: Sendable {
    /// sha256 of the uncompressed tar stream: the layer's diff ID.
    public var diffID: Digest
    /// Tar entries read (including whiteouts).
    public var entries: Int
    /// File content bytes written.
    public var bytesWritten: Int64
    /// Things skipped that did not stop the layer: device nodes the host forbids, xattrs the
    /// file system does not support.
    public var warnings: [String]

    public init(diffID: Digest, entries: Int, bytesWritten: Int64, warnings: [String]) {
        self.diffID = diffID
        self.entries = entries
        self.bytesWritten = bytesWritten
        self.warnings = warnings
    }
}
