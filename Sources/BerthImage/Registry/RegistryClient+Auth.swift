import AsyncHTTPClient
import BerthCore
import BerthOCI
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Answers to a registry's 401: Basic credentials, or a Bearer token from the challenge's realm.
extension RegistryClient {
    func authorize(_ challenges: [AuthChallenge], ref: ImageReference, access: RegistryAccess) async throws -> (String, Duration?) {
        let credentials = try self.credentials?.credentials(for: ref.registry)
        if let bearer = challenges.first(where: { $0.scheme == .bearer }) {
            return try await fetchToken(bearer, credentials: credentials, ref: ref, access: access)
        }
        if challenges.contains(where: { $0.scheme == .basic }) {
            guard let credentials else { throw try refused(ref: ref, access: access) }
            return (credentials.basicAuthorization, nil)
        }
        let offered = challenges.map { "\($0.scheme)" }.joined(separator: ", ")
        throw BerthError(.unsupported, "registry \(ref.registry) asks for authentication Berth does not support (\(offered.isEmpty ? "no WWW-Authenticate challenge" : offered)); Basic and Bearer are supported")
    }

    /// The error for a 401 that credentials did not cure, saying what to do about it.
    func refused(ref: ImageReference, access: RegistryAccess) throws -> BerthError {
        if let credentials = try self.credentials?.credentials(for: ref.registry) {
            return BerthError(.unauthorized, "the registry refused the credentials for \(ref.registry) (user \(credentials.username)) to \(access) \(ref.repository): check the user name, password and permissions, then run berth login \(ref.registry) again")
        }
        var message = "registry \(ref.registry) requires credentials to \(access) \(ref.repository), and none are stored: run berth login \(ref.registry)"
        if let note = self.credentials?.unsupportedHelperNote(for: ref.registry) { message += " (\(note))" }
        return BerthError(.unauthorized, message)
    }

    /// The token flow of the distribution spec: GET REALM?service=S&scope=repository:NAME:ACTIONS,
    /// with Basic credentials when known; the answer is `token` or `access_token`, valid for
    /// `expires_in` seconds.
    private func fetchToken(_ challenge: AuthChallenge, credentials: RegistryCredentials?, ref: ImageReference,
                            access: RegistryAccess) async throws -> (String, Duration?) {
        guard let realm = challenge.realm, var components = URLComponents(string: realm), components.host != nil else {
            throw BerthError(.registry, "registry \(ref.registry) sent a Bearer challenge without a valid realm URL (\(challenge.realm ?? "none")): it cannot be authenticated against")
        }
        var query = components.queryItems ?? []
        if let service = challenge.service { query.append(URLQueryItem(name: "service", value: service)) }
        query.append(URLQueryItem(name: "scope", value: access.scope(ref.repository)))
        components.queryItems = query
        guard let url = components.string else {
            throw BerthError(.registry, "registry \(ref.registry): cannot build a token request from realm \(realm)")
        }
        var request = HTTPClientRequest(url: url)
        request.headers.replaceOrAdd(name: "User-Agent", value: configuration.userAgent)
        if let credentials { request.headers.replaceOrAdd(name: "Authorization", value: credentials.basicAuthorization) }
        let response = try await send(request, timeout: configuration.requestTimeout, registry: ref.registry)
        let body = try await response.body.collect(upTo: 1 << 20)
        if response.status == .unauthorized || response.status == .forbidden {
            throw try refused(ref: ref, access: access)
        }
        guard response.status == .ok else {
            throw BerthError(.registry, "token server \(realm) for \(ref.registry) answered \(response.status): \(String(buffer: body).prefix(300))")
        }
        struct TokenResponse: Decodable {
            var token: String?
            var access_token: String?
            var expires_in: Int?
        }
        let decoded: TokenResponse
        do {
            decoded = try JSONDecoder().decode(TokenResponse.self, from: Data(body.readableBytesView))
        } catch {
            throw BerthError(.registry, "token server \(realm) for \(ref.registry) sent a response that is not a token: \(error)")
        }
        guard let token = decoded.token ?? decoded.access_token, !token.isEmpty else {
            throw BerthError(.registry, "token server \(realm) for \(ref.registry) sent neither token nor access_token")
        }
        let lifetime = decoded.expires_in.map { Duration.seconds(max($0, 1)) } ?? configuration.defaultTokenLifetime
        logger.debug("token for \(ref.registry) \(access.scope(ref.repository)), valid \(lifetime)")
        return ("Bearer \(token)", lifetime)
    }
}
