import BerthCore
@testable import BerthImage
import BerthOCI
import BerthTestSupport
import Foundation

/// A test registry, a content store in a temporary directory and a client for them.
final class RegistryHarness: Sendable {
    let registry: TestRegistry
    let directory: String
    let store: ContentStore
    let client: RegistryClient

    /// `login`: credentials written to the client's credential store (they may be wrong on purpose).
    let tokenServer: TestTokenServer?

    init(username: String? = nil, password: String? = nil, login: (String, String)? = nil,
         tokenServer: TestTokenServer? = nil, directory: String? = nil) throws {
        self.tokenServer = tokenServer
        let token = tokenServer.map {
            TestRegistry.TokenAuth(realm: $0.realm, service: TestTokenServer.service, issuer: TestTokenServer.issuer,
                                   certificatePath: $0.certificatePath)
        }
        registry = try TestRegistry(username: username, password: password, token: token)
        self.directory = directory ?? NSTemporaryDirectory() + "berth-pull-\(UUID().uuidString)"
        store = try ContentStore(root: "\(self.directory)/content")
        let credentials = CredentialStore(berthAuthPath: "\(self.directory)/auth.json", dockerConfigPath: nil)
        if let login {
            try credentials.save(host: registry.host, username: login.0, password: login.1)
        }
        client = RegistryClient(credentials: credentials, httpClient: Self.http)
    }

    /// One HTTP client for all tests, never shut down: a test that fails before its own
    /// shutdown would otherwise trip the client's debug check in deinit and end the whole run.
    static let http = RegistryClient.makeHTTPClient()

    /// A registry behind `TestTokenServer`, which grants everything to `user:pass`.
    static func withTokenAuth(login: (String, String)?) async throws -> RegistryHarness {
        let directory = NSTemporaryDirectory() + "berth-pull-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let tokenServer = try await TestTokenServer(directory: directory, username: "user", password: "pass")
        return try RegistryHarness(username: "user", password: "pass", login: login, tokenServer: tokenServer, directory: directory)
    }

    func ref(_ name: String, _ tag: String = "latest") throws -> ImageReference {
        try ImageReference(parsing: "\(registry.host)/\(name):\(tag)")
    }

    func ref(_ name: String, digest: String) throws -> ImageReference {
        try ImageReference(parsing: "\(registry.host)/\(name)@\(digest)")
    }

    /// Another store under this harness's directory: a second machine's, or a fresh start.
    func freshStore(_ name: String) throws -> ContentStore {
        try ContentStore(root: "\(directory)/\(name)")
    }

    func shutdown() async throws {
        try await client.shutdown()
        registry.stop()
        try await tokenServer?.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Collects progress events from concurrent downloads.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [PullProgressEvent] = []

    var events: [PullProgressEvent] { lock.withLock { storage } }

    func record(_ event: PullProgressEvent) { lock.withLock { storage.append(event) } }

    var handler: @Sendable (PullProgressEvent) -> Void { { [self] in record($0) } }

    var done: [Digest] {
        events.compactMap { if case .layerDone(let d, _) = $0 { d } else { nil } }
    }

    var skipped: [Digest] {
        events.compactMap { if case .layerSkipped(let d, _) = $0 { d } else { nil } }
    }

    var resumedFrom: [Digest: Int64] {
        var result: [Digest: Int64] = [:]
        for case .layerStarted(let d, _, let from) in events { result[d] = from }
        return result
    }
}
