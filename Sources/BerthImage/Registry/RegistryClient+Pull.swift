import AsyncHTTPClient
import BerthCore
import BerthOCI
import Foundation
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

    // MARK: - Layers

    private func downloadLayers(_ layers: [Descriptor], ref: ImageReference, store: ContentStore,
                                progress: (@Sendable (PullProgressEvent) -> Void)?) async throws {
        // One download per digest even when a manifest repeats a layer.
        var seen = Set<Digest>()
        let unique = layers.filter { seen.insert($0.digest).inserted }
        try await withThrowingTaskGroup(of: Void.self) { group in
            var pending = unique[...]
            func startNext() {
                guard let layer = pending.popFirst() else { return }
                group.addTask { try await self.downloadLayer(layer, ref: ref, store: store, progress: progress) }
            }
            for _ in 0..<max(configuration.maxConcurrentDownloads, 1) { startNext() }
            while try await group.next() != nil { startNext() }
        }
    }

    private func downloadLayer(_ layer: Descriptor, ref: ImageReference, store: ContentStore,
                               progress: (@Sendable (PullProgressEvent) -> Void)?) async throws {
        let digest = layer.digest
        guard let ingest = try await store.beginIngest(digest, expectedSize: layer.size) else {
            progress?(.layerSkipped(digest, size: layer.size))
            return
        }
        // Keeps the partial on any failure below that did not already delete it.
        defer { ingest.close() }
        if ingest.offset == layer.size {
            // A complete partial from an earlier pull (its hash was checked on begin).
            progress?(.layerStarted(digest, size: layer.size, resumedFrom: ingest.offset))
        }
        var attempt = 1
        while ingest.offset < layer.size {
            do {
                try await transfer(layer, into: ingest, ref: ref, progress: progress)
                break
            } catch let error as BerthError where error.code == .registry && attempt < configuration.maxDownloadAttempts {
                // A broken connection: the bytes so far are kept, the next try asks for the rest.
                logger.warning("\(error.message); retrying (\(attempt + 1) of \(configuration.maxDownloadAttempts))")
                attempt += 1
                try await Task.sleep(for: .milliseconds(200 * attempt))
            }
        }
        try ingest.commit()
        progress?(.layerDone(digest, size: layer.size))
        logger.debug("stored layer \(digest) (\(layer.size) bytes) of \(ref)")
    }

    /// Streams the rest of a layer into `ingest`, asking for a range when part of it is kept.
    private func transfer(_ layer: Descriptor, into ingest: BlobIngest, ref: ImageReference,
                          progress: (@Sendable (PullProgressEvent) -> Void)?) async throws {
        let digest = layer.digest
        var request = Request(method: .GET, url: "\(repositoryURL(ref))/blobs/\(digest)", timeout: configuration.blobTimeout)
        var response: HTTPClientResponse
        if ingest.offset > 0 {
            request.headers.add(name: "Range", value: "bytes=\(ingest.offset)-")
            response = try await execute(request, ref: ref, access: .pull)
            let start = response.headers.first(name: "Content-Range").flatMap(Self.rangeStart)
            if response.status == .partialContent, start == ingest.offset {
                logger.debug("resuming layer \(digest) at byte \(ingest.offset)")
            } else if response.status == .ok {
                // The registry ignored the range: take the whole blob from the start.
                logger.debug("registry \(ref.registry) ignored Range for \(digest); downloading it whole")
                try ingest.restart()
            } else {
                _ = try? await response.body.collect(upTo: 1 << 16)
                try ingest.restart()
                request.headers.remove(name: "Range")
                response = try await execute(request, ref: ref, access: .pull)
            }
        } else {
            response = try await execute(request, ref: ref, access: .pull)
        }
        guard response.status == .ok || response.status == .partialContent else {
            throw await unexpected(response, "image \(ref): cannot get layer \(digest)", ref: ref)
        }
        progress?(.layerStarted(digest, size: layer.size, resumedFrom: ingest.offset))
        do {
            for try await chunk in response.body {
                try Task.checkCancellation()
                try chunk.withUnsafeReadableBytes { try ingest.append($0) }
                progress?(.layerBytes(digest, received: ingest.offset, size: layer.size))
            }
        } catch let error as BerthError {
            throw error
        } catch let error as CancellationError {
            throw error
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw BerthError(.registry, "image \(ref): download of layer \(digest) from \(ref.registry) broke off after \(ingest.offset) of \(layer.size) bytes (\(error)); pull again to resume it", underlying: error)
        }
    }

    /// N from "bytes N-M/T".
    static func rangeStart(_ header: String) -> Int64? {
        guard header.hasPrefix("bytes "), let dash = header.firstIndex(of: "-") else { return nil }
        return Int64(header[header.index(header.startIndex, offsetBy: 6)..<dash].trimmingCharacters(in: .whitespaces))
    }
}
