import BerthCore
@testable import BerthImage
import BerthOCI
import Foundation
import Testing

/// The Bearer token flow against `FakeTokenRegistry`: needs only loopback, no registry install.
@Suite("Registry Bearer tokens")
struct RegistryTokenAuthTests {
    func client(login: (String, String)? = nil, host: String) throws -> RegistryClient {
        let dir = NSTemporaryDirectory() + "berth-token-\(UUID().uuidString)"
        let credentials = CredentialStore(berthAuthPath: "\(dir)/auth.json", dockerConfigPath: nil)
        if let login { try credentials.save(host: host, username: login.0, password: login.1) }
        return RegistryClient(credentials: credentials)
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
