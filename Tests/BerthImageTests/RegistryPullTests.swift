import BerthCore
@testable import BerthImage
import BerthOCI
import BerthTestSupport
import Foundation
import Testing

@Suite("Registry pull", .requiresRegistry)
struct RegistryPullTests {
    @Test func pullsByTagThenByDigest() async throws {
        let h = try RegistryHarness()
        let pushed = try ImageFixtures.push("single", to: h.registry, as: "busybox")
        let events = EventLog()
        let image = try await h.client.pull(try h.ref("busybox"), into: h.store, progress: events.handler)
        #expect(image.digest.description == pushed)
        #expect(image.manifestDigest == image.digest)
        #expect(image.manifest.layers.count == 1)
        #expect(image.configuration.platform.description == "linux/amd64")
        for blob in [image.digest, image.configDigest] + image.manifest.layers.map(\.digest) {
            #expect(h.store.contains(blob))
            _ = try h.store.data(for: blob)
        }
        #expect(events.done == image.manifest.layers.map(\.digest))

        let fresh = try h.freshStore("by-digest")
        let byDigest = try await h.client.pull(try h.ref("busybox", digest: pushed), into: fresh, progress: nil)
        #expect(byDigest.digest == image.digest)
        #expect(byDigest.reference.tag == nil)
        #expect(try fresh.allDigests() == h.store.allDigests())

        // Everything is present now: a second pull downloads nothing.
        let again = EventLog()
        _ = try await h.client.pull(try h.ref("busybox"), into: h.store, progress: again.handler)
        #expect(again.done.isEmpty)
        #expect(again.skipped == image.manifest.layers.map(\.digest))
        try await h.shutdown()
    }

    @Test func pullsLayersAndConfiguration() async throws {
        let h = try RegistryHarness()
        try ImageFixtures.push("multi", to: h.registry, as: "multi")
        try ImageFixtures.push("configured", to: h.registry, as: "configured")
        let multi = try await h.client.pull(try h.ref("multi"), into: h.store, progress: nil)
        #expect(multi.manifest.layers.count == 2)
        #expect(multi.configuration.rootfs.diffIDs.count == 2)
        // The fixture's second layer adds a file and deletes one: a whiteout entry.
        let listing = try Fixtures.run("/bin/tar", ["-tzf", h.store.path(for: multi.manifest.layers[1].digest)])
        #expect(listing.stdout.contains("hello.txt"))
        #expect(listing.stdout.contains("etc/.wh.hostname"), "\(listing.stdout)")
        let configured = try await h.client.pull(try h.ref("configured"), into: h.store, progress: nil)
        let config = try #require(configured.configuration.config)
        #expect(config.entrypoint == ["/bin/sh"])
        #expect(config.env?.contains("GREETING=hello") == true)
        #expect(config.workingDir == "/srv")
        #expect(config.user == "1000:1000")
        // The two images share busybox's layer: stored once.
        #expect(multi.manifest.layers[0].digest == configured.manifest.layers[0].digest)
        try await h.shutdown()
    }

    @Test func choosesThePlatformFromAnIndex() async throws {
        let h = try RegistryHarness()
        let index = try ImageFixtures.push(ImageFixtures.indexTag, to: h.registry, as: "multiarch")
        let ref = try h.ref("multiarch")

        let host = try await h.client.pull(ref, platform: Platform(os: "linux", architecture: "amd64"), into: h.store, progress: nil)
        #expect(host.digest.description == index)
        #expect(host.manifestDigest.description == (try ImageFixtures.digest(of: "single")))
        #expect(h.store.contains(host.digest) && h.store.contains(host.manifestDigest))

        let arm = try await h.client.pull(ref, platform: Platform(os: "linux", architecture: "arm64"), into: h.store, progress: nil)
        #expect(arm.digest.description == index)
        #expect(arm.manifestDigest.description == (try ImageFixtures.digest(of: "arm64")))
        #expect(arm.configuration.architecture == "arm64")

        let error = await #expect(throws: BerthError.self) {
            try await h.client.pull(ref, platform: Platform(os: "linux", architecture: "s390x"), into: h.store, progress: nil)
        }
        #expect(error?.message.contains("no manifest for linux/s390x") == true)
        #expect(error?.message.contains("linux/amd64, linux/arm64/v8") == true, "\(error?.message ?? "")")
        try await h.shutdown()
    }

    #if arch(x86_64)
    @Test func defaultsToTheHostPlatform() async throws {
        let h = try RegistryHarness()
        try ImageFixtures.push(ImageFixtures.indexTag, to: h.registry, as: "multiarch")
        let image = try await h.client.pull(try h.ref("multiarch"), into: h.store, progress: nil)
        #expect(image.configuration.architecture == "amd64")
        try await h.shutdown()
    }
    #endif

    /// Cancelled midway through a big layer, the pull leaves a partial; the next one asks for
    /// the rest with Range and finishes with a verified blob.
    @Test func resumesAnInterruptedPull() async throws {
        let h = try RegistryHarness()
        try ImageFixtures.push("big", to: h.registry, as: "big")
        let ref = try h.ref("big")
        let taskBox = TaskBox()
        let first = Task {
            try await h.client.pull(ref, into: h.store, progress: { event in
                if case .layerBytes(_, let received, let size) = event, size > 16 << 20, received > size / 4 {
                    taskBox.cancel()
                }
            })
        }
        taskBox.set(first)
        await #expect(throws: (any Error).self) { try await first.value }

        let manifest = try await h.client.fetchManifest(ref, reference: "latest", expected: nil)
        let big = try #require(try JSONDecoder().decode(Manifest.self, from: manifest.data).layers.max { $0.size < $1.size })
        let kept = h.store.partialLength(of: big.digest)
        #expect(!h.store.contains(big.digest))
        #expect(kept > 0 && kept < big.size)

        let events = EventLog()
        let image = try await h.client.pull(ref, into: h.store, progress: events.handler)
        #expect(events.resumedFrom[big.digest] == kept, "the second pull continued at the kept byte with Range")
        #expect(h.store.contains(big.digest))
        #expect(try h.store.size(of: big.digest) == big.size)
        _ = try h.store.data(for: big.digest)
        #expect(image.manifest.layers.contains(big))
        try await h.shutdown()
    }

    @Test func concurrentPullsDownloadEachBlobOnce() async throws {
        let h = try RegistryHarness()
        try ImageFixtures.push("multi", to: h.registry, as: "multi")
        let ref = try h.ref("multi")
        // A second store object on the same root: what another process pulling would use.
        let other = try ContentStore(root: h.store.root)
        let a = EventLog(), b = EventLog()
        async let first = h.client.pull(ref, into: h.store, progress: a.handler)
        async let second = h.client.pull(ref, into: other, progress: b.handler)
        let (one, two) = try await (first, second)
        #expect(one.digest == two.digest)
        let layers = Set(one.manifest.layers.map(\.digest))
        #expect((a.done + b.done).count == layers.count, "each layer downloaded by one of the pulls")
        #expect(Set(a.done + b.done) == layers)
        #expect(Set(a.done + a.skipped) == layers && Set(b.done + b.skipped) == layers)
        try await h.shutdown()
    }
}

/// Lets a progress callback cancel the task it runs in.
final class TaskBox: @unchecked Sendable {
    private let lock = NSLock()
    private var task: Task<PulledImage, any Error>?
    private var cancelled = false

    func set(_ task: Task<PulledImage, any Error>) {
        lock.withLock {
            self.task = task
            if cancelled { task.cancel() }
        }
    }

    func cancel() {
        lock.withLock {
            cancelled = true
            task?.cancel()
        }
    }
}
