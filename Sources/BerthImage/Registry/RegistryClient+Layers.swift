import AsyncHTTPClient
import BerthCore
import BerthOCI
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Layer downloads of a pull: a few at a time, each streamed through a verifying ingest,
/// resumed with Range from a kept partial and retried when the connection breaks.
extension RegistryClient {
    func downloadLayers(_ layers: [Descriptor], ref: ImageReference, store: ContentStore,
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
