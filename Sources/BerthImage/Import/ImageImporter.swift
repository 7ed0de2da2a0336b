import BerthCore
import BerthOCI
import Foundation
import Logging

/// `berth image import`: images from an OCI image layout (a directory or a tar of one) or from a
/// `docker save` archive, copied into the content store with every blob verified.
public struct ImageImporter: Sendable {
    private let images: LocalImages
    private let logger: Logger

    public init(images: LocalImages, logger: Logger) {
        self.images = images
        self.logger = logger
    }

    /// Imports every image the input names. `name` gives the repository for images the input
    /// names by tag only (an OCI layout's `org.opencontainers.image.ref.name` is often just "latest");
    /// without it the repository is the input's file name.
    public func importImages(from path: String, name: String? = nil) throws -> [ImageRecord] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw BerthError(.notFound, "import \(path): no such file or directory; give an OCI image layout (directory or tar) or a docker save tar")
        }
        let repository = name ?? Self.repositoryName(for: path)
        if isDirectory.boolValue { return try importDirectory(path, repository: repository, source: path) }
        let scratch = images.home.root + "/.import-\(getpid())-\(UInt32.random(in: .min ... .max))"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let compression = try Self.sniffCompression(path)
        let source = LayerSource(path: path, compression: compression, imageName: path, layerIndex: 0, layerCount: 1, digest: nil)
        _ = try LayerUnpacker(logger: logger).apply(source, to: scratch)
        return try importDirectory(scratch, repository: repository, source: path)
    }

    private func importDirectory(_ dir: String, repository: String, source: String) throws -> [ImageRecord] {
        let fm = FileManager.default
        let gcLock = try FileLock(path: images.home.collectionLockFile, mode: .shared)
        defer { withExtendedLifetime(gcLock) {} }
        if fm.fileExists(atPath: dir + "/index.json") {
            return try importLayout(dir, repository: repository, source: source, dockerNames: try? Self.dockerManifest(dir))
        }
        if fm.fileExists(atPath: dir + "/manifest.json") {
            return try importDockerArchive(dir, source: source)
        }
        throw BerthError(.invalidArgument, "import \(source): neither an OCI image layout (no index.json) nor a docker save archive (no manifest.json)")
    }

    // MARK: OCI image layout

    private func importLayout(_ dir: String, repository: String, source: String, dockerNames: [DockerArchiveEntry]?) throws -> [ImageRecord] {
        let index = try Self.decodeFile(ImageIndex.self, dir + "/index.json", source: source)
        var result: [ImageRecord] = []
        for descriptor in index.manifests {
            let manifestDigest = try copyTree(descriptor, from: dir, source: source)
            var names: [String] = []
            if let ref = descriptor.annotations?["io.containerd.image.name"] {
                names.append(ref)
            } else if let ref = descriptor.annotations?["org.opencontainers.image.ref.name"] {
                names.append(ref.contains("/") || ref.contains(":") ? ref : "\(repository):\(ref)")
            }
            if names.isEmpty, let dockerNames {
                let config = try images.decode(Manifest.self, manifestDigest, what: "manifest in \(source)").config.digest
                names = dockerNames.filter { $0.configPath.hasSuffix(config.encoded) }.flatMap(\.repoTags)
            }
            if names.isEmpty { names = ["\(repository)@\(descriptor.digest)"] }
            for name in names {
                let normal = (try? ImageReference(parsing: name))?.description ?? name
                result.append(try images.add(name: normal, digest: descriptor.digest, manifestDigest: manifestDigest))
            }
        }
        guard !result.isEmpty else { throw BerthError(.invalidArgument, "import \(source): its index.json lists no images") }
        return result
    }

    /// Copies the descriptor's blob and everything it references; returns the manifest for this
    /// host's platform (the descriptor itself unless it is an index).
    private func copyTree(_ descriptor: Descriptor, from dir: String, source: String) throws -> Digest {
        try copyBlob(descriptor, from: dir, source: source)
        if MediaType.indexTypes.contains(descriptor.mediaType) {
            let index = try images.decode(ImageIndex.self, descriptor.digest, what: "index in \(source)")
            let host = Platform.host
            let ranked = index.manifests.compactMap { candidate in
                candidate.platform.flatMap { host.matchRank(of: $0) }.map { (rank: $0, descriptor: candidate) }
            }
            let best = ranked.min { $0.rank < $1.rank }?.descriptor
            guard let chosen = best ?? (index.manifests.count == 1 ? index.manifests.first : nil) else {
                let available = index.manifests.compactMap(\.platform?.description).joined(separator: ", ")
                throw BerthError(.notFound, "import \(source): no image for \(host) in the index (it has: \(available))")
            }
            return try copyTree(chosen, from: dir, source: source)
        }
        guard MediaType.manifestTypes.contains(descriptor.mediaType) else {
            throw BerthError(.unsupported, "import \(source): \(descriptor.digest) has media type \(descriptor.mediaType), not an image manifest or index")
        }
        let manifest = try images.decode(Manifest.self, descriptor.digest, what: "manifest in \(source)")
        try copyBlob(manifest.config, from: dir, source: source)
        for layer in manifest.layers { try copyBlob(layer, from: dir, source: source) }
        return descriptor.digest
    }

    private func copyBlob(_ descriptor: Descriptor, from dir: String, source: String) throws {
        if images.content.contains(descriptor.digest) { return }
        let path = "\(dir)/blobs/\(descriptor.digest.algorithm.rawValue)/\(descriptor.digest.encoded)"
        guard FileManager.default.fileExists(atPath: path) else {
            throw BerthError(.notFound, "import \(source): blob \(descriptor.digest) (\(descriptor.mediaType)) is missing from the layout")
        }
        try images.content.ingest(file: path, expected: descriptor.digest, size: descriptor.size, what: "\(source): blob")
    }

    // MARK: docker save

    struct DockerArchiveEntry: Decodable {
        var configPath: String
        var repoTags: [String]
        var layers: [String]

        enum CodingKeys: String, CodingKey {
            case configPath = "Config", repoTags = "RepoTags", layers = "Layers"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            configPath = try container.decode(String.self, forKey: .configPath)
            repoTags = try container.decodeIfPresent([String].self, forKey: .repoTags) ?? []
            layers = try container.decode([String].self, forKey: .layers)
        }
    }

    static func dockerManifest(_ dir: String) throws -> [DockerArchiveEntry] {
        try decodeFile([DockerArchiveEntry].self, dir + "/manifest.json", source: dir)
    }

    /// The classic `docker save` format: a config file and uncompressed layer tars, which become
    /// an OCI manifest with uncompressed layers (their digests are their diff IDs).
    private func importDockerArchive(_ dir: String, source: String) throws -> [ImageRecord] {
        let entries = try Self.decodeFile([DockerArchiveEntry].self, dir + "/manifest.json", source: source)
        var result: [ImageRecord] = []
        for entry in entries {
            let configPath = try Self.inside(dir, entry.configPath, source: source)
            let configData = try Data(contentsOf: URL(fileURLWithPath: configPath))
            let configDigest = try images.content.write(configData, expecting: nil)
            var layers: [Descriptor] = []
            for layer in entry.layers {
                let layerPath = try Self.inside(dir, layer, source: source)
                let digest = try images.content.ingest(file: layerPath, expected: nil, size: nil, what: "\(source): layer \(layer)")
                layers.append(Descriptor(mediaType: MediaType.ociLayer, digest: digest, size: try images.content.size(of: digest)))
            }
            let manifest = Manifest(config: Descriptor(mediaType: MediaType.ociConfig, digest: configDigest, size: Int64(configData.count)),
                                    layers: layers)
            let manifestData = try JSONEncoder.berth.encode(manifest)
            let manifestDigest = try images.content.write(manifestData, expecting: nil)
            let names = entry.repoTags.isEmpty ? ["\(Self.repositoryName(for: source))@\(manifestDigest)"] : entry.repoTags
            for name in names {
                let normal = (try? ImageReference(parsing: name))?.description ?? name
                result.append(try images.add(name: normal, digest: manifestDigest, manifestDigest: manifestDigest))
            }
        }
        return result
    }

    // MARK: helpers

    /// A path the archive names, refused when it leaves the archive.
    static func inside(_ dir: String, _ relative: String, source: String) throws -> String {
        let parts = relative.split(separator: "/")
        guard !relative.hasPrefix("/"), !parts.contains("..") else {
            throw BerthError(.invalidArgument, "import \(source): manifest.json names \(relative), outside the archive")
        }
        return dir + "/" + parts.joined(separator: "/")
    }

    static func decodeFile<T: Decodable>(_ type: T.Type, _ path: String, source: String) throws -> T {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BerthError(.notFound, "import \(source): cannot read \((path as NSString).lastPathComponent)")
        }
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw BerthError(.invalidArgument, "import \(source): \((path as NSString).lastPathComponent) is not valid: \(error)")
        }
    }

    /// A repository name from a file name: lowercase, `.tar` and unsupported characters dropped.
    static func repositoryName(for path: String) -> String {
        var base = (path as NSString).lastPathComponent.lowercased()
        for suffix in [".tar.gz", ".tgz", ".tar.zst", ".tar"] where base.hasSuffix(suffix) {
            base = String(base.dropLast(suffix.count))
        }
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789._-")
        let cleaned = String(base.map { allowed.contains($0) ? $0 : "-" }).trimmingCharacters(in: CharacterSet(charactersIn: "._-"))
        return cleaned.isEmpty ? "imported" : cleaned
    }

    /// gzip and zstd by their magic numbers; anything else is read as a plain tar.
    static func sniffCompression(_ path: String) throws -> LayerCompression {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw BerthError(.notFound, "import \(path): cannot open it: \(Errno.message(errno))")
        }
        defer { try? handle.close() }
        let magic = [UInt8](handle.readData(ofLength: 4))
        if magic.starts(with: [0x1f, 0x8b]) { return .gzip }
        if magic.starts(with: [0x28, 0xb5, 0x2f, 0xfd]) { return .zstd }
        return .none
    }
}
