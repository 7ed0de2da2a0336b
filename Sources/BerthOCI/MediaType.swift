/// Media types of the OCI image spec and their Docker schema 2 equivalents.
public enum MediaType {
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let ociConfig = "application/vnd.oci.image.config.v1+json"
    public static let ociLayer = "application/vnd.oci.image.layer.v1.tar"
    public static let ociLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let ociLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    /// Layers a registry must not be asked to distribute; pulled like the others when present.
    public static let ociLayerNondistributable = "application/vnd.oci.image.layer.nondistributable.v1.tar"
    public static let ociLayerNondistributableGzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
    public static let ociLayerNondistributableZstd = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"

    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    public static let dockerForeignLayerGzip = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

    public static let indexTypes: Set<String> = [ociIndex, dockerManifestList]
    public static let manifestTypes: Set<String> = [ociManifest, dockerManifest]
    public static let configTypes: Set<String> = [ociConfig, dockerConfig]
}

/// How a layer blob is compressed, from its media type.
public enum LayerCompression: String, Sendable, CaseIterable {
    case none
    case gzip
    case zstd

    /// nil when the media type is not a layer type Berth can apply.
    public init?(mediaType: String) {
        switch mediaType {
        case MediaType.ociLayer, MediaType.ociLayerNondistributable:
            self = .none
        case MediaType.ociLayerGzip, MediaType.ociLayerNondistributableGzip, MediaType.dockerLayerGzip,
             MediaType.dockerForeignLayerGzip:
            self = .gzip
        case MediaType.ociLayerZstd, MediaType.ociLayerNondistributableZstd:
            self = .zstd
        default:
            return nil
        }
    }
}
