import AsyncHTTPClient
import BerthCore
import BerthOCI
import Foundation
import NIOCore
import NIOHTTP1

extension RegistryClient {
    /// Pushes the manifest or index `digest` and everything it references from `store` to `ref`:
    /// blobs the registry lacks first (monolithic uploads), then manifests, children by digest
    /// before the index, the top one by `ref`'s tag (or digest when it has no tag).
    public func push(manifest digest: Digest, from store: ContentStore, to ref: ImageReference) async throws {
        let data = try store.data(for: digest)
        let mediaType = try Self.manifestMediaType(header: nil, data: data, ref: ref, reference: digest.description)
        if MediaType.indexTypes.contains(mediaType) {
            let index = try JSONDecoder().decode(ImageIndex.self, from: data)
            for child in index.manifests {
                guard store.contains(child.digest) else {
                    throw BerthError(.notFound, "cannot push index \(digest) to \(ref): its manifest \(child.digest) (\(child.platform?.description ?? "no platform")) is not in the content store; pull all its platforms first, or push one platform's manifest")
                }
                let childData = try store.data(for: child.digest)
                let childType = try Self.manifestMediaType(header: nil, data: childData, ref: ref, reference: child.digest.description)
                guard MediaType.manifestTypes.contains(childType) else {
                    throw BerthError(.unsupported, "cannot push index \(digest) to \(ref): entry \(child.digest) is a \(childType); nested indexes are not supported")
                }
                try await pushImageManifest(childData, digest: child.digest, mediaType: childType, from: store, to: ref, reference: child.digest.description)
            }
            try await putManifest(data, mediaType: mediaType, to: ref, reference: ref.tag ?? digest.description)
        } else {
            try await pushImageManifest(data, digest: digest, mediaType: mediaType, from: store, to: ref, reference: ref.tag ?? digest.description)
        }
    }

    private func pushImageManifest(_ data: Data, digest: Digest, mediaType: String, from store: ContentStore,
                                   to ref: ImageReference, reference: String) async throws {
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: data)
        } catch {
            throw BerthError(.invalidArgument, "cannot push \(digest): it is not a valid image manifest: \(error)")
        }
        let blobs = [manifest.config] + manifest.layers
        for blob in blobs where !store.contains(blob.digest) {
            throw BerthError(.notFound, "cannot push \(digest) to \(ref): blob \(blob.digest) is not in the content store; pull the image again")
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            var pending = blobs[...]
            func startNext() {
                guard let blob = pending.popFirst() else { return }
                group.addTask { try await self.pushBlob(blob, from: store, to: ref) }
            }
            for _ in 0..<max(configuration.maxConcurrentUploads, 1) { startNext() }
            while try await group.next() != nil { startNext() }
        }
        try await putManifest(data, mediaType: mediaType, to: ref, reference: reference)
    }

    private func pushBlob(_ blob: Descriptor, from store: ContentStore, to ref: ImageReference) async throws {
        let head = Request(method: .HEAD, url: "\(repositoryURL(ref))/blobs/\(blob.digest)", timeout: configuration.requestTimeout)
        let existing = try await execute(head, ref: ref, access: .push)
        _ = try? await existing.body.collect(upTo: 1 << 16)
        if existing.status == .ok {
            logger.debug("\(ref.registry)/\(ref.repository) has \(blob.digest) already")
            return
        }
        guard existing.status == .notFound else {
            throw await unexpected(existing, "cannot push blob \(blob.digest) to \(ref)", ref: ref)
        }

        let start = Request(method: .POST, url: "\(repositoryURL(ref))/blobs/uploads/", timeout: configuration.requestTimeout)
        let started = try await execute(start, ref: ref, access: .push)
        guard started.status == .accepted, let location = started.headers.first(name: "Location") else {
            throw await unexpected(started, "cannot start the upload of blob \(blob.digest) to \(ref)", ref: ref)
        }
        _ = try? await started.body.collect(upTo: 1 << 16)
        let uploadURL = try resolveLocation(location, ref: ref)
        let separator = uploadURL.contains("?") ? "&" : "?"
        let path = store.path(for: blob.digest)
        let size = try store.size(of: blob.digest)
        var put = Request(method: .PUT, url: "\(uploadURL)\(separator)digest=\(blob.digest)", timeout: configuration.blobTimeout)
        put.headers.add(name: "Content-Type", value: "application/octet-stream")
        put.body = { .stream(FileChunks(path: path), length: .known(size)) }
        let finished = try await execute(put, ref: ref, access: .push)
        guard finished.status == .created else {
            throw await unexpected(finished, "cannot upload blob \(blob.digest) to \(ref)", ref: ref)
        }
        _ = try? await finished.body.collect(upTo: 1 << 16)
        logger.debug("uploaded \(blob.digest) (\(size) bytes) to \(ref.registry)/\(ref.repository)")
    }

    private func putManifest(_ data: Data, mediaType: String, to ref: ImageReference, reference: String) async throws {
        var put = Request(method: .PUT, url: "\(repositoryURL(ref))/manifests/\(reference)", timeout: configuration.requestTimeout)
        put.headers.add(name: "Content-Type", value: mediaType)
        let bytes = ByteBuffer(bytes: data)
        put.body = { .bytes(bytes) }
        let response = try await execute(put, ref: ref, access: .push)
        guard response.status == .created else {
            throw await unexpected(response, "cannot push manifest \(reference) to \(ref)", ref: ref)
        }
        _ = try? await response.body.collect(upTo: 1 << 16)
    }

    /// Upload locations may be absolute or relative to the registry.
    func resolveLocation(_ location: String, ref: ImageReference) throws -> String {
        guard let base = URL(string: baseURL(ref) + "/"), let resolved = URL(string: location, relativeTo: base) else {
            throw BerthError(.registry, "registry \(ref.registry) sent an upload location that is not a URL: \(location)")
        }
        return resolved.absoluteString
    }
}

/// A blob file read in chunks, for streaming uploads without holding the blob in memory.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let path: String
    static let chunkSize = 1 << 20

    struct AsyncIterator: AsyncIteratorProtocol {
        let handle: FileHandle?
        let path: String

        mutating func next() async throws -> ByteBuffer? {
            guard let handle else {
                throw BerthError(.notFound, "cannot read blob file \(path) for upload")
            }
            let data = try handle.read(upToCount: FileChunks.chunkSize) ?? Data()
            if data.isEmpty {
                try? handle.close()
                return nil
            }
            return ByteBuffer(bytes: data)
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(handle: FileHandle(forReadingAtPath: path), path: path)
    }
}
