import BerthTestSupport
import Crypto
import Foundation
import NIOHTTP1

/// A token server for `docker-registry` with `auth: token:`: issues ES256 JWTs signed with a key
/// whose self-signed certificate (made with openssl) is the registry's `rootcertbundle`; the
/// certificate travels in the token's `x5c` header. Grants what `scope` asks for to `user:pass`,
/// nothing to anonymous requests, and refuses other credentials.
final class TestTokenServer: @unchecked Sendable {
    static let service = "berth-test-registry"
    static let issuer = "berth-test-issuer"

    let certificatePath: String
    private let key: P256.Signing.PrivateKey
    private let certificateDER: String
    private let basic: String
    private let lock = NSLock()
    private var scopes: [String] = []
    private var server: TestHTTPServer?

    init(directory: String, username: String, password: String) async throws {
        certificatePath = "\(directory)/token-cert.pem"
        let keyPath = "\(directory)/token-key.pem"
        let made = try Fixtures.run("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", keyPath, "-out", certificatePath, "-days", "2", "-subj", "/CN=berth-test-token",
        ])
        guard made.status == 0 else { throw FixtureError("openssl req failed: \(made)") }
        key = try P256.Signing.PrivateKey(pemRepresentation: String(contentsOfFile: keyPath, encoding: .utf8))
        certificateDER = try String(contentsOfFile: certificatePath, encoding: .utf8)
            .split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        basic = "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
        server = try await TestHTTPServer { [unowned self] _, uri, headers in
            self.issue(uri: uri, authorization: headers.first(name: "Authorization"))
        }
    }

    var realm: String { "http://\(server?.host ?? "")/token" }
    /// The scopes tokens were asked for, in order.
    var requestedScopes: [String] { lock.withLock { scopes } }

    func stop() async throws { try await server?.stop() }

    private func issue(uri: String, authorization: String?) -> TestHTTPServer.Response {
        let query = URLComponents(string: uri)?.queryItems ?? []
        let requested = query.filter { $0.name == "scope" }.compactMap(\.value)
        lock.withLock { scopes += requested }
        if let authorization, authorization != basic {
            return .init(status: .unauthorized, body: Data(#"{"details":"wrong user name or password"}"#.utf8))
        }
        let access: [[String: Any]] = authorization == nil ? [] : requested.compactMap { scope in
            // repository:NAME:ACTIONS; NAME may hold slashes but no colons.
            let parts = scope.split(separator: ":")
            guard parts.count == 3, parts[0] == "repository" else { return nil }
            return ["type": "repository", "name": String(parts[1]), "actions": parts[2].split(separator: ",").map(String.init)]
        }
        let now = Int(Date().timeIntervalSince1970)
        let claims: [String: Any] = [
            "iss": Self.issuer, "sub": authorization == nil ? "" : "user", "aud": Self.service,
            "exp": now + 300, "nbf": now - 10, "iat": now, "jti": UUID().uuidString, "access": access,
        ]
        let header: [String: Any] = ["alg": "ES256", "typ": "JWT", "x5c": [certificateDER]]
        do {
            let signingInput = try Self.base64URL(JSONSerialization.data(withJSONObject: header)) + "."
                + Self.base64URL(JSONSerialization.data(withJSONObject: claims))
            let signature = try key.signature(for: Data(signingInput.utf8))
            let token = signingInput + "." + Self.base64URL(signature.rawRepresentation)
            let body = try JSONSerialization.data(withJSONObject: ["token": token, "expires_in": 300])
            return .init(status: .ok, headers: [("Content-Type", "application/json")], body: body)
        } catch {
            return .init(status: .internalServerError, body: Data("\(error)".utf8))
        }
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
