import BerthOCI

/// What a pull leaves in the content store, and where to find it.
public struct PulledImage: Hashable, Sendable {
    public var reference: ImageReference
    /// The digest of what the reference points at, a manifest or an index: what
    /// `NAME@sha256:...` pins and what `push` is given.
    public var digest: Digest
    /// The platform manifest that was chosen: equal to `digest` when the image has no index.
    public var manifestDigest: Digest
    public var manifest: Manifest
    public var configuration: ImageConfiguration
    public var configDigest: Digest

    public init(reference: ImageReference, digest: Digest, manifestDigest: Digest, manifest: Manifest,
                configuration: ImageConfiguration, configDigest: Digest) {
        self.reference = reference
        self.digest = digest
        self.manifestDigest = manifestDigest
        self.manifest = manifest
        self.configuration = configuration
        self.configDigest = configDigest
    }
}

/// What a pull reports while it runs, per layer, so a CLI can draw progress.
public enum PullProgressEvent: Hashable, Sendable {
    /// The manifest was read: these layers will be fetched or found present.
    case resolved(manifest: Digest, layers: [Descriptor])
    /// A download began. `resumedFrom` is the byte it continues from: greater than 0 only when
    /// the registry honoured a Range request for a kept partial download.
    case layerStarted(Digest, size: Int64, resumedFrom: Int64)
    /// Bytes of the layer now on disk, counting a resumed prefix.
    case layerBytes(Digest, received: Int64, size: Int64)
    case layerDone(Digest, size: Int64)
    /// The layer was already in the content store (or another pull just stored it).
    case layerSkipped(Digest, size: Int64)
}
