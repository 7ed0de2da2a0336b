import BerthCore
@testable import BerthImage
import BerthOCI
import BerthTestSupport
import Foundation
import NIOCore
import Testing

@Suite("Registry pull failures", .requiresRegistry)
struct RegistryFailureTests {
    /// The single fixture's one layer, as the registry serves it.
    func layer(_ h: RegistryHarness, _ ref: ImageReference) async throws -> Descriptor {
        let fetched = try await h.client.fetchManifest(ref, reference: ref.manifestReference, expected: nil)
        return try #require(try JSONDecoder().decode(Manifest.self, from: fetched.data).layers.first)
    }

    func expectNothingStored(for digest: Digest, in store: ContentStore) throws {
        #expect(!store.contains(digest))
        #expect(store.partialLength(of: digest) == 0)
        // At most the config: never the layer, nor the manifest that would promise it.
        #expect(try store.allDigests().count <= 1)
    }

    @Test func corruptBlobIsRefused() async throws {
        let h = try RegistryHarness()
        try ImageFixtures.push("single", to: h.registry, as: "busybox")
        let ref = try h.ref("busybox")
        let layer = try await layer(h, ref)
        let path = h.registry.blobDataPath(layer.digest.description)
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        data[data.count / 2] ^= 0xff
        try data.write(to: URL(fileURLWithPath: path))

        let error = await #expect(throws: BerthError.self) { try await h.client.pull(ref, into: h.store, progress: nil) }
        #expect(error?.code == .digestMismatch)
        #expect(error?.message.contains(layer.digest.description) == true)
        #expect(error?.message.contains("hashes to sha256:") == true, "\(error?.message ?? "")")
        try expectNothingStored(for: layer.digest, in: h.store)
        try await h.shutdown()
    }

    @Test func truncatedBlobIsRefused() async throws {
        let h = try RegistryHarness()
        try ImageFixtures.push("single", to: h.registry, as: "busybox")
        let ref = try h.ref("busybox")
        let layer = try await layer(h, ref)
        let path = h.registry.blobDataPath(layer.digest.description)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path))

        let error = await #expect(throws: BerthError.self) { try await h.client.pull(ref, into: h.store, progress: nil) }
        #expect(error?.code == .digestMismatch)
        #expect(error?.message.contains("got \(data.count / 2) bytes, expected \(data.count)") == true, "\(error?.message ?? "")")
        try expectNothingStored(for: layer.digest, in: h.store)
        try await h.shutdown()
    }

    @Test func unknownLayerMediaTypeIsRefused() async throws {
        let h = try RegistryHarness()
        try ImageFixtures.push("single", to: h.registry, as: "busybox")
        let ref = try h.ref("busybox")
        let fetched = try await h.client.fetchManifest(ref, reference: "latest", expected: nil)
        var manifest = try JSONDecoder().decode(Manifest.self, from: fetched.data)
        manifest.layers[0].mediaType = "application/vnd.example.squashfs"
        let body = try JSONEncoder().encode(manifest)
        var put = RegistryClient.Request(method: .PUT, url: "\(h.client.repositoryURL(ref))/manifests/odd", timeout: .seconds(30))
        put.headers.add(name: "Content-Type", value: MediaType.ociManifest)
        put.body = { .bytes(ByteBuffer(bytes: body)) }
        let response = try await h.client.execute(put, ref: ref, access: .push)
        #expect(response.status.code == 201)

        let error = await #expect(throws: BerthError.self) {
            try await h.client.pull(try h.ref("busybox", "odd"), into: h.store, progress: nil)
        }
        #expect(error?.code == .unsupported)
        #expect(error?.message.contains("layer 1 (\(manifest.layers[0].digest))") == true)
        #expect(error?.message.contains("application/vnd.example.squashfs") == true)
        #expect(error?.message.contains("supported:") == true)
        #expect(!h.store.contains(manifest.layers[0].digest))
        try await h.shutdown()
    }

    @Test func wrongDigestInTheReferenceIsRefused() async throws {
        let h = try RegistryHarness()
        try ImageFixtures.push("single", to: h.registry, as: "busybox")
        let missing = Digest.sha256(of: Data("not a manifest".utf8))
        let error = await #expect(throws: BerthError.self) {
            try await h.client.pull(try h.ref("busybox", digest: missing.description), into: h.store, progress: nil)
        }
        #expect(error?.code == .notFound)
        #expect(error?.message.contains("MANIFEST_UNKNOWN") == true, "\(error?.message ?? "")")
        try await h.shutdown()
    }

    @Test func unreachableRegistryIsNamed() async throws {
        // The HTTP client retries a refused connection until the connect timeout: keep it short.
        var configuration = RegistryClient.Configuration()
        configuration.connectTimeout = .seconds(2)
        let client = RegistryClient(configuration: configuration)
        let ref = try ImageReference(parsing: "127.0.0.1:1/nothing")
        let root = NSTemporaryDirectory() + "berth-unreachable-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try ContentStore(root: root)
        let error = await #expect(throws: BerthError.self) { try await client.pull(ref, into: store, progress: nil) }
        #expect(error?.message.contains("cannot reach registry 127.0.0.1:1") == true)
        try await client.shutdown()
    }
}
