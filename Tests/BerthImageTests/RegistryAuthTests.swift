import BerthCore
@testable import BerthImage
import BerthOCI
import BerthTestSupport
import Foundation
import Testing

@Suite("Registry Basic auth", .requiresRegistry)
struct RegistryBasicAuthTests {
    @Test func rightCredentialsPull() async throws {
        let h = try RegistryHarness(username: "berth", password: "s3cret", login: ("berth", "s3cret"))
        let pushed = try ImageFixtures.push("single", to: h.registry, as: "private")
        let image = try await h.client.pull(try h.ref("private"), into: h.store, progress: nil)
        #expect(image.digest.description == pushed)
        try await h.shutdown()
    }

    @Test func wrongCredentialsAreRefused() async throws {
        let h = try RegistryHarness(username: "berth", password: "s3cret", login: ("berth", "wrong"))
        try ImageFixtures.push("single", to: h.registry, as: "private")
        let error = await #expect(throws: BerthError.self) { try await h.client.pull(try h.ref("private"), into: h.store, progress: nil) }
        #expect(error?.code == .unauthorized)
        #expect(error?.message.contains("the registry refused the credentials for \(h.registry.host)") == true, "\(error?.message ?? "")")
        try await h.shutdown()
    }

    @Test func missingCredentialsAreAskedFor() async throws {
        let h = try RegistryHarness(username: "berth", password: "s3cret")
        try ImageFixtures.push("single", to: h.registry, as: "private")
        let error = await #expect(throws: BerthError.self) { try await h.client.pull(try h.ref("private"), into: h.store, progress: nil) }
        #expect(error?.code == .unauthorized)
        #expect(error?.message.contains("berth login \(h.registry.host)") == true, "\(error?.message ?? "")")
        try await h.shutdown()
    }

    @Test func pushesWithCredentials() async throws {
        let h = try RegistryHarness(username: "berth", password: "s3cret", login: ("berth", "s3cret"))
        try ImageFixtures.push("single", to: h.registry, as: "private")
        let image = try await h.client.pull(try h.ref("private"), into: h.store, progress: nil)
        try await h.client.push(manifest: image.digest, from: h.store, to: try h.ref("copy", "v1"))
        let back = try await h.client.pull(try h.ref("copy", "v1"), into: try h.freshStore("back"), progress: nil)
        #expect(back.digest == image.digest)
        try await h.shutdown()
    }
}

@Suite("Registry push", .requiresRegistry)
struct RegistryPushTests {
    @Test func pushesAPulledImageToAnotherRepository() async throws {
        let h = try RegistryHarness()
        try ImageFixtures.push("multi", to: h.registry, as: "origin")
        let image = try await h.client.pull(try h.ref("origin"), into: h.store, progress: nil)
        let target = try h.ref("team/copy", "v2")
        try await h.client.push(manifest: image.digest, from: h.store, to: target)
        // A second push finds every blob there already and only puts the manifest again.
        try await h.client.push(manifest: image.digest, from: h.store, to: target)

        let fresh = try h.freshStore("back")
        let back = try await h.client.pull(target, into: fresh, progress: nil)
        #expect(back.digest == image.digest)
        #expect(back.configDigest == image.configDigest)
        #expect(try fresh.allDigests() == h.store.allDigests())
        try await h.shutdown()
    }

    @Test func pushesAnIndexWithItsPlatforms() async throws {
        let h = try RegistryHarness()
        try ImageFixtures.push(ImageFixtures.indexTag, to: h.registry, as: "multiarch")
        let amd = try await h.client.pull(try h.ref("multiarch"), platform: Platform(os: "linux", architecture: "amd64"), into: h.store, progress: nil)
        // With only one platform pulled, pushing the index would leave it dangling: refused.
        let error = await #expect(throws: BerthError.self) {
            try await h.client.push(manifest: amd.digest, from: h.store, to: try h.ref("copy"))
        }
        #expect(error?.message.contains("not in the content store") == true)

        _ = try await h.client.pull(try h.ref("multiarch"), platform: Platform(os: "linux", architecture: "arm64"), into: h.store, progress: nil)
        try await h.client.push(manifest: amd.digest, from: h.store, to: try h.ref("copy"))
        let back = try await h.client.pull(try h.ref("copy"), platform: Platform(os: "linux", architecture: "arm64"), into: try h.freshStore("back"), progress: nil)
        #expect(back.digest == amd.digest)
        #expect(back.configuration.architecture == "arm64")
        try await h.shutdown()
    }
}
