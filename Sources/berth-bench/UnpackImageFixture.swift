import BerthCore
import BerthOCI
import Foundation

/// The image `berth-bench image` unpacks: an OCI layout of gzip layers with deterministic
/// content, about 200 MiB and 10,000 files unpacked, written once into the work directory.
struct UnpackImageFixture {
    static let tag = "bench"
    static let layerCount = 5
    static let filesPerLayer = 2_000
    static let filesPerDirectory = 20

    let layout: String

    var isComplete: Bool { FileManager.default.fileExists(atPath: layout + "/index.json") }

    /// Builds the layout unless it is there: each layer is a directory tree written with fixed
    /// content, archived by GNU tar with fixed names order, owners and times, then gzipped.
    func create(scratch: String) throws {
        let fm = FileManager.default
        try? fm.removeItem(atPath: layout)
        try fm.createDirectory(atPath: layout + "/blobs/sha256", withIntermediateDirectories: true)
        let corpus = Self.corpus()
        var random = SplitMix64(seed: 0x6265_7274_68)
        var layers: [Descriptor] = []
        var diffIDs: [Digest] = []
        for layer in 0..<Self.layerCount {
            let tree = "\(scratch)/layer\(layer)"
            try? fm.removeItem(atPath: tree)
            for file in 0..<Self.filesPerLayer {
                let directory = "\(tree)/usr/share/pkg\(layer)/dir\(file / Self.filesPerDirectory)"
                if file % Self.filesPerDirectory == 0 {
                    try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
                }
                // Mostly small files and a few large ones, as in a distribution's /usr.
                let size = file % 50 == 0 ? (512 << 10) + Int(random.next() % 7) * (64 << 10) : 1024 + Int(random.next() % (12 << 10))
                let start = Int(random.next() % UInt64(corpus.count - size))
                try corpus[start..<(start + size)].write(to: URL(fileURLWithPath: "\(directory)/file\(file).dat"))
            }
            if layer > 0 {
                // Overwrite and delete some of the previous layer's files: whiteouts as in real images.
                let previous = "\(tree)/usr/share/pkg\(layer - 1)/dir0"
                try fm.createDirectory(atPath: previous, withIntermediateDirectories: true)
                try Data("replaced\n".utf8).write(to: URL(fileURLWithPath: previous + "/file1.dat"))
                try Data().write(to: URL(fileURLWithPath: previous + "/.wh.file2.dat"))
            }
            let tar = "\(scratch)/layer\(layer).tar"
            try Tool.capture(["tar", "--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@1700000000",
                              "-C", tree, "-cf", tar, "."])
            let diffID = try Self.digest(ofFile: tar)
            try Tool.capture(["gzip", "-n", "-6", "-f", tar])
            let blob = try Data(contentsOf: URL(fileURLWithPath: tar + ".gz"), options: .alwaysMapped)
            let digest = try store(blob)
            layers.append(Descriptor(mediaType: MediaType.ociLayerGzip, digest: digest, size: Int64(blob.count)))
            diffIDs.append(diffID)
            try fm.removeItem(atPath: tar + ".gz")
            try fm.removeItem(atPath: tree)
        }
        let config = try JSONEncoder().encode(ImageConfiguration(architecture: "amd64", rootfs: .init(diffIDs: diffIDs)))
        let manifest = try JSONEncoder().encode(Manifest(
            config: Descriptor(mediaType: MediaType.ociConfig, digest: try store(config), size: Int64(config.count)), layers: layers))
        let index = ImageIndex(manifests: [Descriptor(
            mediaType: MediaType.ociManifest, digest: try store(manifest), size: Int64(manifest.count),
            annotations: ["org.opencontainers.image.ref.name": Self.tag])])
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: URL(fileURLWithPath: layout + "/oci-layout"))
        try JSONEncoder().encode(index).write(to: URL(fileURLWithPath: layout + "/index.json"))
    }

    /// The layer blobs and their media types, read back from the layout.
    func layers() throws -> [Descriptor] {
        let index = try JSONDecoder().decode(ImageIndex.self, from: Data(contentsOf: URL(fileURLWithPath: layout + "/index.json")))
        guard let descriptor = index.manifests.first else { throw BerthError(.invalidState, "\(layout)/index.json lists no manifest") }
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: blobPath(descriptor.digest))))
        return manifest.layers
    }

    func blobPath(_ digest: Digest) -> String { "\(layout)/blobs/\(digest.algorithm.rawValue)/\(digest.encoded)" }

    private func store(_ data: Data) throws -> Digest {
        let digest = Digest.sha256(of: data)
        try data.write(to: URL(fileURLWithPath: blobPath(digest)))
        return digest
    }

    private static func digest(ofFile path: String) throws -> Digest {
        let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        return Digest.sha256(of: data)
    }

    /// 8 MiB that gzip shrinks about as much as programs and libraries (to ~40%): runs of words
    /// mixed with random bytes.
    private static func corpus() -> Data {
        var random = SplitMix64(seed: 42)
        let words = ["lib", "usr", "share", "error", "return", "static", "const", "void", "int", "main", "\n", "{", "}", " "]
            .map { Array($0.utf8) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 << 20)
        while bytes.count < 8 << 20 {
            if random.next() % 5 < 2 {
                for _ in 0..<64 { bytes.append(UInt8(truncatingIfNeeded: random.next())) }
            } else {
                for _ in 0..<16 { bytes += words[Int(random.next() % UInt64(words.count))] }
            }
        }
        return Data(bytes)
    }
}
