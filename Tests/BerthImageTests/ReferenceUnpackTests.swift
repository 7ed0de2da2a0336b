import BerthCore
import BerthOCI
import BerthTestSupport
import Foundation
import Testing
@testable import BerthImage

/// Unpacks an image built with umoci both with LayerUnpacker and with `umoci unpack`, and
/// compares the trees.
@Suite(.requiresRoot) struct ReferenceUnpackTests {
    @Test func matchesUmociUnpack() throws {
        let busybox = try Fixtures.busyboxRootfs()
        let scratch = try ScratchDirectory()
        let layout = scratch.path + "/layout"
        let bundle = scratch.path + "/bundle"
        let rootfs = bundle + "/rootfs"
        func sh(_ command: String) throws { try Compressor.shell("set -e; " + command) }

        try sh("umoci init --layout '\(layout)' && umoci new --image '\(layout):t' && umoci unpack --image '\(layout):t' '\(bundle)'")
        // Layer 1: the busybox tree.
        try sh("cp -a '\(busybox)/.' '\(rootfs)/' && umoci repack --refresh-bundle --image '\(layout):t' '\(bundle)'")
        // Layer 2: additions, deletions (whiteouts), a directory replaced by a file, a file
        // replaced by a directory, owners, modes, a hardlink and symlinks.
        try sh("""
            cd '\(rootfs)'
            mkdir -p opt/app/data && echo config > opt/app/config && printf 'bin\\0ary' > opt/app/data/blob
            chown -R 1234:5678 opt/app && chmod 4750 opt/app/config && chmod 1777 opt/app/data
            ln opt/app/config opt/app/config.hard && ln -s ../app/config opt/app/config.link
            ln -s /bin/busybox opt/abs-link
            rm -f bin/ls bin/vi && rm -rf home
            rm -rf var && echo 'was a directory' > var
            rm -f etc/hostname && mkdir -p etc/hostname && echo inner > etc/hostname/file
            mkfifo opt/fifo
            umoci repack --refresh-bundle --image '\(layout):t' '\(bundle)'
            """)
        // Layer 3: replace again, and delete something added in layer 2.
        try sh("""
            cd '\(rootfs)'
            rm -rf opt/app/data && echo now-a-file > opt/app/data
            rm opt/app/config.hard && echo changed > opt/abs-link.txt
            rm -f var && mkdir var && echo back > var/again
            umoci repack --refresh-bundle --image '\(layout):t' '\(bundle)'
            """)
        // Layer 4, crafted: an opaque directory (umoci writes a whiteout per deleted name instead).
        var opaque = TarBuilder()
        opaque.directory("etc/", mode: 0o755)
        opaque.file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")
        opaque.file("etc/.wh..wh..opq")
        opaque.file("etc/group", "root:x:0:\n")
        try appendLayer(opaque.finished(), to: layout, scratch: scratch)

        let layers = try Self.layers(of: layout)
        #expect(layers.count == 4)
        let ours = scratch.path + "/ours"
        try FileManager.default.createDirectory(atPath: ours, withIntermediateDirectories: false)
        for (index, layer) in layers.enumerated() {
            let compression = try #require(LayerCompression(mediaType: layer.mediaType))
            let source = LayerSource(path: Self.blobPath(layout, layer.digest), compression: compression,
                                     imageName: "layout:t", layerIndex: index, layerCount: layers.count, digest: layer.digest)
            _ = try LayerUnpacker.test.apply(source, to: ours)
        }
        try sh("umoci unpack --image '\(layout):t' '\(scratch.path)/reference'")

        let mine = try TreeSnapshot(ours)
        let theirs = try TreeSnapshot(scratch.path + "/reference/rootfs")
        #expect(mine.entries.count > 250)
        #expect(mine.entries["etc/passwd"] != nil && mine.entries["etc/hostname"] == nil && mine.entries["etc/group"] != nil)
        #expect(mine.entries["opt/app/data"]?.contains("size=11") == true)
        let differences = mine.differences(from: theirs)
        #expect(differences.isEmpty, "\(differences.prefix(20).joined(separator: "\n"))")
    }

    /// The layer descriptors of the image tagged in an OCI layout: index.json, then the manifest.
    static func layers(of layout: String) throws -> [Descriptor] {
        let index = try JSONDecoder().decode(ImageIndex.self, from: Data(contentsOf: URL(fileURLWithPath: layout + "/index.json")))
        let descriptor = try #require(index.manifests.first)
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: blobPath(layout, descriptor.digest))))
        return manifest.layers
    }

    static func blobPath(_ layout: String, _ digest: Digest) -> String {
        "\(layout)/blobs/\(digest.algorithm.rawValue)/\(digest.encoded)"
    }

    /// Adds a gzip layer to the image: blob, manifest, config diff_ids, index.
    private func appendLayer(_ tar: [UInt8], to layout: String, scratch: ScratchDirectory) throws {
        let gz = try Compressor.compress(try scratch.write("extra.tar", tar), .gzip)
        let blob = try Data(contentsOf: URL(fileURLWithPath: gz))
        let blobDigest = try store(blob, in: layout)
        let indexURL = URL(fileURLWithPath: layout + "/index.json")
        var index = try JSONDecoder().decode(ImageIndex.self, from: Data(contentsOf: indexURL))
        let manifestDescriptor = try #require(index.manifests.first)
        var manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: Self.blobPath(layout, manifestDescriptor.digest))))
        // The config is edited as plain JSON so fields BerthOCI does not model survive.
        let configData = try Data(contentsOf: URL(fileURLWithPath: Self.blobPath(layout, manifest.config.digest)))
        var config = try #require(try JSONSerialization.jsonObject(with: configData) as? [String: Any])
        var rootfs = try #require(config["rootfs"] as? [String: Any])
        rootfs["diff_ids"] = ((rootfs["diff_ids"] as? [String]) ?? []) + [Digest.sha256(of: tar).description]
        config["rootfs"] = rootfs
        let newConfig = try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys])
        manifest.config = Descriptor(mediaType: manifest.config.mediaType, digest: try store(newConfig, in: layout), size: Int64(newConfig.count))
        manifest.layers.append(Descriptor(mediaType: MediaType.ociLayerGzip, digest: blobDigest, size: Int64(blob.count)))
        let newManifest = try JSONEncoder().encode(manifest)
        index.manifests[0] = Descriptor(mediaType: manifestDescriptor.mediaType, digest: try store(newManifest, in: layout),
                                        size: Int64(newManifest.count), annotations: manifestDescriptor.annotations,
                                        platform: manifestDescriptor.platform)
        try JSONEncoder().encode(index).write(to: indexURL)
    }

    private func store(_ data: Data, in layout: String) throws -> Digest {
        let digest = Digest.sha256(of: data)
        try data.write(to: URL(fileURLWithPath: Self.blobPath(layout, digest)))
        return digest
    }
}
