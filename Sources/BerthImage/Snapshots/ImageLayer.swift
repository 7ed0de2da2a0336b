import BerthCore
import BerthOCI

/// One layer of an image as the unpacker takes it, with the diff ID its content must hash to and
/// the chain ID its snapshot is named by. Snapshots and `berth image unpack` both start here.
struct ImageLayer {
    var source: LayerSource
    /// The compressed blob in the content store.
    var blob: Digest
    var diffID: Digest
    var chainID: Digest

    /// The image's layers bottom first; refuses a manifest and configuration that disagree and
    /// media types the unpacker cannot apply.
    static func plan(image: String, manifest: Manifest, configuration: ImageConfiguration, content: ContentStore) throws -> [ImageLayer] {
        let diffIDs = configuration.rootfs.diffIDs
        guard diffIDs.count == manifest.layers.count else {
            throw BerthError(.invalidArgument, "image \(image): its manifest lists \(manifest.layers.count) layers but its configuration \(diffIDs.count) diff IDs; the image is malformed, rebuild it")
        }
        let chainIDs = ChainID.compute(diffIDs)
        return try manifest.layers.enumerated().map { index, layer in
            let known = LayerCompression(mediaType: layer.mediaType)
            let source = LayerSource(path: content.path(for: layer.digest), compression: known ?? .none, imageName: image,
                                     layerIndex: index, layerCount: manifest.layers.count, digest: layer.digest)
            guard known != nil else {
                throw BerthError(.unsupported, "\(source.displayName): media type \(layer.mediaType) is not a layer type Berth can apply (tar, tar+gzip, tar+zstd)")
            }
            return ImageLayer(source: source, blob: layer.digest, diffID: diffIDs[index], chainID: chainIDs[index])
        }
    }

    /// Refuses content that does not hash to the diff ID the image configuration gives.
    func verify(_ report: UnpackReport) throws {
        guard report.diffID == diffID else {
            throw BerthError(.invalidArgument, "\(source.displayName): its content has diff ID \(report.diffID) but the image configuration says \(diffID); the image is corrupt or was altered, push it again")
        }
    }
}
