import AsyncHTTPClient
import BerthCore
import BerthOCI
import Foundation
import Logging
import NIOCore
import NIOHTTP1

extension RegistryClient {
    /// What Berth can read, best first: OCI and Docker schema 2, indexes and single manifests.
    static let manifestAccept = [MediaType.ociIndex, MediaType.ociManifest, MediaType.dockerManifestList, MediaType.dockerManifest]
        .joined(separator: ", ")

    /// Pulls an image into `store`: its manifest (after choosing `platform`, default the host's,
    /// from an index), configuration and layers, each verified against its digest. Layers already
    /// present are skipped; kept partial downloads are resumed. Manifests are stored last, so a
    /// manifest in the store means every blob it names is there too.
    public func pull(_ ref: ImageReference, platform: Platform? = nil, into store: ContentStore,
                     progress: (@Sendable (PullProgressEvent) -> Void)? = nil) async throws -> PulledImage {
        let top = try await fetchManifest(ref, reference: ref.manifestReference, expected: ref.digest)
        var chosen = top
        var index: FetchedManifest?
        if MediaType.indexTypes.contains(top.mediaType) {
            index = top
            let descriptor = try choosePlatform(from: top.data, wanted: platform ?? .host, ref: ref, indexDigest: top.digest)
            chosen = try await fetchManifest(ref, reference: descriptor.digest.description, expected: descriptor.digest)
            guard MediaType.manifestTypes.contains(chosen.mediaType) else {
                throw BerthError(.unsupported, "image \(ref): the index entry for \(descriptor.platform?.description ?? "?") is a \(chosen.mediaType), not an image manifest; supported: \(MediaType.manifestTypes.sorted().joined(separator: ", "))")
            }
        }
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: chosen.data)
        } catch {
            throw BerthError(.registry, "image \(ref): manifest \(chosen.digest) is not a valid image manifest: \(error)")
        }
        try validateMediaTypes(manifest, digest: chosen.digest, ref: ref)
        progress?(.resolved(manifest: chosen.digest, layers: manifest.layers))

        let configData = try await fetchSmallBlob(manifest.config, ref: ref, store: store)
        let configuration: ImageConfiguration
        do {
            configuration = try JSONDecoder().decode(ImageConfiguration.self, from: configData)
        } catch {
            throw BerthError(.registry, "image \(ref): configuration \(manifest.config.digest) is not a valid image configuration: \(error)")
        }
        if let platform, index == nil, platform.matchRank(of: configuration.platform) == nil {
            logger.warning("image \(ref) is for \(configuration.platform), not the requested \(platform); it has no index to choose from")
        }

        try await downloadLayers(manifest.layers, ref: ref, store: store, progress: progress)

        try store.write(chosen.data, expecting: chosen.digest)
        if let index { try store.write(index.data, expecting: index.digest) }
        return PulledImage(reference: ref, digest: top.digest, manifestDigest: chosen.digest, manifest: manifest,
                           configuration: configuration, configDigest: manifest.config.digest)
    }

    struct FetchedManifest {
        var data: Data
        var digest: Digest
        var mediaType: String
    }

    /// GETs a manifest or index and checks it against the digest it was asked for (or the one the
    /// registry announces): a tag can move, a digest cannot.
    func fetchManifest(_ ref: ImageReference, reference: String, expected: Digest?) async throws -> FetchedManifest {
        var request = Request(method: .GET, url: "\(repositoryURL(ref))/manifests/\(reference)", timeout: configuration.requestTimeout)
        request.headers.add(name: "Accept", value: Self.manifestAccept)
        let response = try await execute(request, ref: ref, access: .pull)
        guard response.status == .ok else {
            throw await unexpected(response, "image \(ref): cannot get manifest \(reference)", ref: ref)
        }
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: configuration.maxManifestBytes)
        } catch is NIOTooManyBytesError {
            throw BerthError(.registry, "image \(ref): manifest \(reference) is larger than \(configuration.maxManifestBytes) bytes; refusing it")
        }
        let data = Data(body.readableBytesView)
        let announced = response.headers.first(name: "Docker-Content-Digest").flatMap { try? Digest(parsing: $0) }
        let algorithm = expected?.algorithm ?? announced?.algorithm ?? .sha256
        var hasher = DigestHasher(algorithm)
        hasher.update(data)
        let actual = hasher.finalize()
        if let wanted = expected ?? announced, wanted != actual {
            throw BerthError(.digestMismatch, "image \(ref): manifest \(reference) hashes to \(actual), expected \(wanted); the registry sent other content than was asked for, nothing was stored")
        }
        let mediaType = try Self.manifestMediaType(header: response.headers.first(name: "Content-Type"), data: data, ref: ref, reference: reference)
        return FetchedManifest(data: data, digest: actual, mediaType: mediaType)
    }

    /// The Content-Type when it names a manifest type; else the document's own mediaType field;
    /// else what its shape says (OCI allows leaving mediaType out).
    static func manifestMediaType(header: String?, data: Data, ref: ImageReference, reference: String) throws -> String {
        let supported = MediaType.indexTypes.union(MediaType.manifestTypes)
        let contentType = header.map { String($0.split(separator: ";")[0]).trimmingCharacters(in: .whitespaces) }
        struct Shape: Decodable {
            var mediaType: String?
            var manifests: [Descriptor]?
            var config: Descriptor?
        }
        let shape = try? JSONDecoder().decode(Shape.self, from: data)
        let mediaType: String
        if let contentType, supported.contains(contentType) || contentType.hasPrefix("application/vnd.") {
            mediaType = contentType
        } else if let declared = shape?.mediaType {
            mediaType = declared
        } else if shape?.manifests != nil {
            mediaType = MediaType.ociIndex
        } else if shape?.config != nil {
            mediaType = MediaType.ociManifest
        } else {
            mediaType = contentType ?? "unknown"
        }
        guard supported.contains(mediaType) else {
            let hint = mediaType.contains("v1+") && mediaType.contains("docker") ? " (Docker schema 1 is deprecated: push the image again with a current Docker or skopeo)" : ""
            throw BerthError(.unsupported, "image \(ref): manifest \(reference) has media type \(mediaType), which Berth does not support\(hint); supported: \(supported.sorted().joined(separator: ", "))")
        }
        return mediaType
    }

    /// The index entry for `wanted`, preferring an exact match as containerd does.
    func choosePlatform(from data: Data, wanted: Platform, ref: ImageReference, indexDigest: Digest) throws -> Descriptor {
        let index: ImageIndex
        do {
            index = try JSONDecoder().decode(ImageIndex.self, from: data)
        } catch {
            throw BerthError(.registry, "image \(ref): index \(indexDigest) is not a valid image index: \(error)")
        }
        let ranked = index.manifests.compactMap { entry -> (Int, Descriptor)? in
            guard let platform = entry.platform, let rank = wanted.matchRank(of: platform) else { return nil }
            return (rank, entry)
        }
        if let best = ranked.min(by: { $0.0 < $1.0 }) { return best.1 }
        // Attestation manifests carry unknown/unknown; they are not platforms anyone can choose.
        let available = index.manifests.compactMap(\.platform).filter { $0.os != "unknown" }.map(\.description)
        throw BerthError(.notFound, "image \(ref) has no manifest for \(wanted); available platforms: \(available.isEmpty ? "none" : available.joined(separator: ", ")); choose one of them")
    }

    /// Refuses an image Berth could store but never run, before downloading any layer.
    func validateMediaTypes(_ manifest: Manifest, digest: Digest, ref: ImageReference) throws {
        guard MediaType.configTypes.contains(manifest.config.mediaType) else {
            throw BerthError(.unsupported, "image \(ref): manifest \(digest) has a config \(manifest.config.digest) of media type \(manifest.config.mediaType), which is not an image configuration; supported: \(MediaType.configTypes.sorted().joined(separator: ", "))")
        }
        for (number, layer) in manifest.layers.enumerated() where LayerCompression(mediaType: layer.mediaType) == nil {
            throw BerthError(.unsupported, "image \(ref): layer \(number + 1) (\(layer.digest)) has media type \(layer.mediaType), which Berth cannot unpack; supported: tar, tar+gzip and tar+zstd layers of the OCI spec and Docker's tar.gzip")
        }
    }

    /// A config-sized blob: taken from the store when present, else fetched, verified and stored.
    func fetchSmallBlob(_ descriptor: Descriptor, ref: ImageReference, store: ContentStore) async throws -> Data {
        if store.contains(descriptor.digest) { return try store.data(for: descriptor.digest) }
        guard descriptor.size <= configuration.maxConfigBytes else {
            throw BerthError(.registry, "image \(ref): configuration \(descriptor.digest) is \(descriptor.size) bytes, more than the \(configuration.maxConfigBytes) accepted; this is not a normal image")
        }
        let limit = max(Int(clamping: descriptor.size), 0)
        let request = Request(method: .GET, url: "\(repositoryURL(ref))/blobs/\(descriptor.digest)", timeout: configuration.requestTimeout)
        let response = try await execute(request, ref: ref, access: .pull)
        guard response.status == .ok else {
            throw await unexpected(response, "image \(ref): cannot get blob \(descriptor.digest)", ref: ref)
        }
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw BerthError(.digestMismatch, "image \(ref): blob \(descriptor.digest) is larger than the \(descriptor.size) bytes its descriptor says; nothing was stored")
        }
        let data = Data(body.readableBytesView)
        guard data.count == descriptor.size else {
            throw BerthError(.digestMismatch, "image \(ref): blob \(descriptor.digest) has \(data.count) bytes, expected \(descriptor.size); nothing was stored")
        }
        try store.write(data, expecting: descriptor.digest)
        return data
    }
}
