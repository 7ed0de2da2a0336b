import BerthCore
@testable import BerthImage
import BerthOCI
import BerthTestSupport
import Foundation
import Testing

/// The Bearer token flow against `FakeTokenRegistry`: needs only loopback, no registry install.
@Suite("Registry Bearer tokens")
final class RegistryTokenAuthTests {
    let dir = NSTemporaryDirectory() + "berth-token-\(UUID().uuidString)"

    deinit { try? FileManager.default.removeItem(atPath: dir) }

    func client(login: (String, String)? = nil, host: String) throws -> RegistryClient {
        let credentials = CredentialStore(berthAuthPath: "\(dir)/auth.json", dockerConfigPath: nil)
        if let login { try credentials.save(host: host, username: login.0, password: login.1) }
        return RegistryClient(credentials: credentials, httpClient: RegistryHarness.http)
    }

    @Test func anonymousTokenIsFetchedOnceAndReused() async throws {
        let server = try await FakeTokenRegistry()
        let client = try client(host: server.host)
        let ref = try ImageReference(parsing: "\(server.host)/app")
        let first = try await client.fetchManifest(ref, reference: "latest", expected: nil)
        _ = try await client.fetchManifest(ref, reference: "latest", expected: nil)
        #expect(first.digest == Digest.sha256(of: FakeTokenRegistry.manifest))
        let requests = server.tokenRequests
        #expect(requests.count == 1, "the token is reused until it expires")
        #expect(requests.first?.authorization == nil)
        #expect(requests.first?.query.contains("service=fake%20registry") == true, "\(requests.first?.query ?? "")")
        #expect(requests.first?.query.contains("scope=repository:app:pull") == true, "\(requests.first?.query ?? "")")
        try await client.shutdown()
        try await server.stop()
    }

    @Test func parallelRequestsShareOneTokenFetch() async throws {
        let server = try await FakeTokenRegistry()
        let client = try client(host: server.host)
        let ref = try ImageReference(parsing: "\(server.host)/app")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask { _ = try await client.fetchManifest(ref, reference: "latest", expected: nil) }
            }
            try await group.waitForAll()
        }
        #expect(server.tokenRequests.count == 1)
        try await server.stop()
    }

    @Test func credentialsGoToTheTokenServerAndAccessTokenIsAccepted() async throws {
        let basic = "Basic " + Data("user:pw".utf8).base64EncodedString()
        let server = try await FakeTokenRegistry(useAccessToken: true, requiredAuthorization: basic)
        let client = try client(login: ("user", "pw"), host: server.host)
        _ = try await client.fetchManifest(try ImageReference(parsing: "\(server.host)/app"), reference: "latest", expected: nil)
        #expect(server.tokenRequests.map(\.authorization) == [basic])
        try await client.shutdown()
        try await server.stop()
    }

    @Test func tokenServerRefusingCredentialsIsReported() async throws {
        let server = try await FakeTokenRegistry(requiredAuthorization: "Basic nobody")
        let client = try client(login: ("user", "wrong"), host: server.host)
        let error = await #expect(throws: BerthError.self) {
            try await client.fetchManifest(try ImageReference(parsing: "\(server.host)/app"), reference: "latest", expected: nil)
        }
        #expect(error?.code == .unauthorized)
        #expect(error?.message.contains("the registry refused the credentials for \(server.host)") == true)
        try await client.shutdown()
        try await server.stop()
    }

    @Test func expiredTokenIsRenewed() async throws {
        // expires_in 1 s is within the renewal margin: each request needs a new token.
        let server = try await FakeTokenRegistry(lifetime: 1)
        let client = try client(host: server.host)
        let ref = try ImageReference(parsing: "\(server.host)/app")
        _ = try await client.fetchManifest(ref, reference: "latest", expected: nil)
        _ = try await client.fetchManifest(ref, reference: "latest", expected: nil)
        #expect(server.tokenRequests.count == 2)
        try await client.shutdown()
        try await server.stop()
    }

    @Test func a401WithACachedTokenFetchesANewOne() async throws {
        let server = try await FakeTokenRegistry(lifetime: 300)
        let client = try client(host: server.host)
        let ref = try ImageReference(parsing: "\(server.host)/app")
        _ = try await client.fetchManifest(ref, reference: "latest", expected: nil)
        server.revokeAll()
        _ = try await client.fetchManifest(ref, reference: "latest", expected: nil)
        #expect(server.tokenRequests.count == 2)
        try await client.shutdown()
        try await server.stop()
    }
}

/// Token auth end to end: docker-registry with `auth: token:` trusting `TestTokenServer`.
@Suite("Registry token auth", .requiresRegistry)
struct RegistryTokenAuthEndToEndTests {
    @Test func pullsAndPushesWithTokens() async throws {
        let h = try await RegistryHarness.withTokenAuth(login: ("user", "pass"))
        let pushed = try ImageFixtures.push("single", to: h.registry, as: "team/app")
        let image = try await h.client.pull(try h.ref("team/app"), into: h.store, progress: nil)
        #expect(image.digest.description == pushed)
        try await h.client.push(manifest: image.digest, from: h.store, to: try h.ref("team/copy", "v1"))
        let back = try await h.client.pull(try h.ref("team/copy", "v1"), into: try h.freshStore("back"), progress: nil)
        #expect(back.digest == image.digest)
        let scopes = try #require(h.tokenServer?.requestedScopes)
        #expect(scopes.contains("repository:team/app:pull"))
        #expect(scopes.contains("repository:team/copy:pull,push"))
        try await h.shutdown()
    }

    @Test func wrongCredentialsAreRefusedByTheTokenServer() async throws {
        let h = try await RegistryHarness.withTokenAuth(login: ("user", "nope"))
        try ImageFixtures.push("single", to: h.registry, as: "app")
        let error = await #expect(throws: BerthError.self) { try await h.client.pull(try h.ref("app"), into: h.store, progress: nil) }
        #expect(error?.code == .unauthorized)
        #expect(error?.message.contains("the registry refused the credentials for \(h.registry.host)") == true, "\(error?.message ?? "")")
        try await h.shutdown()
    }

    @Test func anonymousTokensGrantNothingHere() async throws {
        let h = try await RegistryHarness.withTokenAuth(login: nil)
        try ImageFixtures.push("single", to: h.registry, as: "app")
        let error = await #expect(throws: BerthError.self) { try await h.client.pull(try h.ref("app"), into: h.store, progress: nil) }
        #expect(error?.code == .unauthorized)
        #expect(error?.message.contains("berth login \(h.registry.host)") == true, "\(error?.message ?? "")")
        try await h.shutdown()
    }
}
