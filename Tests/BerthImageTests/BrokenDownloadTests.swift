import BerthCore
@testable import BerthImage
import BerthOCI
import Foundation
import NIOHTTP1
import Testing

/// A one-image registry whose first answer for the layer breaks off halfway. Later answers honour
/// Range with 206, or ignore it with a 200 and the whole blob, as some registries and CDNs do.
final class FlakyBlobRegistry: @unchecked Sendable {
    let layer: Data
    let config: Data
    let manifest: Data
    let honoursRange: Bool
    private let lock = NSLock()
    private var layerRequests: [String?] = []
    private var server: TestHTTPServer?

    init(honoursRange: Bool) async throws {
        self.honoursRange = honoursRange
        layer = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) })
        config = Data(#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#.utf8)
        let manifestValue = Manifest(
            config: Descriptor(mediaType: MediaType.ociConfig, digest: Digest.sha256(of: config), size: Int64(config.count)),
            layers: [Descriptor(mediaType: MediaType.ociLayerGzip, digest: Digest.sha256(of: layer), size: Int64(layer.count))])
        manifest = try JSONEncoder().encode(manifestValue)
        server = try await TestHTTPServer { [unowned self] _, uri, headers in
            self.respond(uri: uri, range: headers.first(name: "Range"))
        }
    }

    var host: String { server?.host ?? "" }
    var layerDigest: Digest { Digest.sha256(of: layer) }
    /// The Range header of each layer request (nil: none).
    var rangesAsked: [String?] { lock.withLock { layerRequests } }

    func stop() async throws { try await server?.stop() }

    private func respond(uri: String, range: String?) -> TestHTTPServer.Response {
        switch uri {
        case "/v2/app/manifests/latest":
            return .init(status: .ok, headers: [("Content-Type", MediaType.ociManifest)], body: manifest)
        case "/v2/app/blobs/\(Digest.sha256(of: config))":
            return .init(status: .ok, body: config)
        case "/v2/app/blobs/\(layerDigest)":
            let first = lock.withLock {
                layerRequests.append(range)
                return layerRequests.count == 1
            }
            if first { return .init(status: .ok, body: layer, cutAfter: layer.count / 2) }
            if honoursRange, let range, range.hasPrefix("bytes="), let start = Int(range.dropFirst(6).dropLast()) {
                return .init(status: .partialContent, headers: [("Content-Range", "bytes \(start)-\(layer.count - 1)/\(layer.count)")],
                             body: layer.dropFirst(start))
            }
            return .init(status: .ok, body: layer)
        default:
            return .init(status: .notFound)
        }
    }
}

@Suite("Broken downloads")
struct BrokenDownloadTests {
    @Test(arguments: [true, false])
    func aBrokenLayerDownloadIsRetriedFromWhereItStopped(honoursRange: Bool) async throws {
        let server = try await FlakyBlobRegistry(honoursRange: honoursRange)
        let client = RegistryClient(httpClient: RegistryHarness.http)
        let root = NSTemporaryDirectory() + "berth-flaky-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try ContentStore(root: root)
        let events = EventLog()
        let image = try await client.pull(try ImageReference(parsing: "\(server.host)/app"), into: store, progress: events.handler)
        #expect(try store.data(for: server.layerDigest) == server.layer)
        #expect(image.manifest.layers.first?.digest == server.layerDigest)

        let asked = server.rangesAsked
        #expect(asked.count == 2)
        #expect(asked.first == .some(nil))
        let lastRange = try #require(asked.last ?? nil)
        let kept = try #require(Int64(lastRange.dropFirst("bytes=".count).dropLast()))
        #expect(kept > 0, "the retry asked for the rest with Range")
        let starts = events.events.compactMap { event -> Int64? in
            if case .layerStarted(_, _, let from) = event { from } else { nil }
        }
        // Resumed when the registry honours Range; started over when it answers 200.
        #expect(starts == [0, honoursRange ? kept : 0])
        try await client.shutdown()
        try await server.stop()
    }
}
