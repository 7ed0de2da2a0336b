import Foundation
import NIOHTTP1

/// Plays a registry behind Bearer tokens on a `TestHTTPServer`: serves one manifest
/// (`/v2/app/manifests/latest`) to requests with a token it issued, answers others with a
/// challenge pointing at its own `/token` endpoint, and records what the token requests carried.
final class FakeTokenRegistry: @unchecked Sendable {
    struct TokenRequest {
        var query: String
        var authorization: String?
    }

    static let manifest = Data("""
        {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
         "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:\(String(repeating: "0", count: 64))","size":2},
         "layers":[]}
        """.utf8)

    /// `expires_in` of issued tokens; nil leaves it out.
    let lifetime: Int?
    /// Answer with `access_token` instead of `token`.
    let useAccessToken: Bool
    /// When set, the token endpoint requires exactly this Authorization header.
    let requiredAuthorization: String?

    // Guards the two below: requests arrive on NIO's threads.
    private let lock = NSLock()
    private var issued: Set<String> = []
    private var tokenRequestsStorage: [TokenRequest] = []
    private var server: TestHTTPServer?

    init(lifetime: Int? = nil, useAccessToken: Bool = false, requiredAuthorization: String? = nil) async throws {
        self.lifetime = lifetime
        self.useAccessToken = useAccessToken
        self.requiredAuthorization = requiredAuthorization
        server = try await TestHTTPServer { [unowned self] method, uri, headers in
            self.respond(method: method, uri: uri, headers: headers)
        }
    }

    var host: String { server?.host ?? "" }
    var tokenRequests: [TokenRequest] { lock.withLock { tokenRequestsStorage } }

    /// Makes every issued token invalid, as a token that expired on the server's side.
    func revokeAll() { lock.withLock { issued.removeAll() } }

    func stop() async throws {
        try await server?.stop()
    }

    private func respond(method: HTTPMethod, uri: String, headers: HTTPHeaders) -> TestHTTPServer.Response {
        if uri.hasPrefix("/token") {
            let query = uri.split(separator: "?", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
            let authorization = headers.first(name: "Authorization")
            return lock.withLock {
                tokenRequestsStorage.append(TokenRequest(query: query, authorization: authorization))
                if let requiredAuthorization, authorization != requiredAuthorization {
                    return .init(status: .unauthorized, body: Data(#"{"details":"bad credentials"}"#.utf8))
                }
                let token = "token-\(tokenRequestsStorage.count)"
                issued.insert(token)
                var body: [String: Any] = [useAccessToken ? "access_token" : "token": token]
                if let lifetime { body["expires_in"] = lifetime }
                return .init(status: .ok, headers: [("Content-Type", "application/json")],
                             body: (try? JSONSerialization.data(withJSONObject: body)) ?? Data())
            }
        }
        guard uri == "/v2/app/manifests/latest" else { return .init(status: .notFound) }
        let authorization = headers.first(name: "Authorization") ?? ""
        let valid = lock.withLock { authorization.hasPrefix("Bearer ") && issued.contains(String(authorization.dropFirst(7))) }
        guard valid else {
            return .init(status: .unauthorized, headers: [
                ("WWW-Authenticate", #"Bearer realm="http://\#(host)/token",service="fake registry",scope="repository:app:pull""#),
            ], body: Data(#"{"errors":[{"code":"UNAUTHORIZED"}]}"#.utf8))
        }
        return .init(status: .ok, headers: [("Content-Type", "application/vnd.oci.image.manifest.v1+json")], body: Self.manifest)
    }
}
