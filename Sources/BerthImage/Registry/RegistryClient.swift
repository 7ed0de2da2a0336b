import AsyncHTTPClient
import BerthCore
import BerthOCI
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// A client of the OCI distribution API (`/v2/`): pulls images into a `ContentStore` and pushes
/// them from it. HTTPS with the system's CAs, except for insecure and loopback registries.
///
/// Uses one `HTTPClient`: the caller's, or its own, which `shutdown()` must then close.
public final class RegistryClient: Sendable {
    public let configuration: Configuration
    public let credentials: CredentialStore?
    let http: HTTPClient
    private let ownsHTTPClient: Bool
    let authorizations = RegistryAuthorizations()
    let logger: Logger

    public init(configuration: Configuration = Configuration(), credentials: CredentialStore? = nil,
                httpClient: HTTPClient? = nil, logger: Logger = Logger(label: "berth.registry")) {
        self.configuration = configuration
        self.credentials = credentials
        self.logger = logger
        if let httpClient {
            http = httpClient
            ownsHTTPClient = false
        } else {
            http = Self.makeHTTPClient(configuration)
            ownsHTTPClient = true
        }
    }

    /// An HTTP client set up as registries need, for a caller that shares one between clients
    /// (and shuts it down itself): timeouts from `configuration`, redirects followed, bodies
    /// left compressed so blobs hash to their digests.
    public static func makeHTTPClient(_ configuration: Configuration = Configuration()) -> HTTPClient {
        var config = HTTPClient.Configuration(
            // Blob GETs are commonly redirected to a CDN; the client drops Authorization
            // when the redirect leaves the registry's origin.
            redirectConfiguration: .follow(max: 5, allowCycles: false),
            timeout: .init(connect: configuration.connectTimeout.timeAmount, read: configuration.readTimeout.timeAmount))
        config.decompression = .disabled
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }

    /// Closes the HTTP client when this client created it; a caller's client is left open.
    public func shutdown() async throws {
        if ownsHTTPClient { try await http.shutdown() }
    }

    // MARK: - URLs

    /// "http" for insecure and loopback registries, else "https".
    public func scheme(for registry: String) -> String {
        configuration.insecureRegistries.contains(registry) || Self.isLoopback(registry) ? "http" : "https"
    }

    /// localhost, 127.0.0.0/8 and [::1], with or without a port.
    public static func isLoopback(_ registry: String) -> Bool {
        let host: Substring
        if registry.hasPrefix("["), let close = registry.firstIndex(of: "]") {
            host = registry[...close]
        } else {
            host = registry.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        }
        if host == "localhost" || host == "[::1]" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    func baseURL(_ ref: ImageReference) -> String {
        "\(scheme(for: ref.registry))://\(ref.apiHost)"
    }

    func repositoryURL(_ ref: ImageReference) -> String {
        "\(baseURL(ref))/v2/\(ref.repository)"
    }

    // MARK: - Requests with authentication

    struct Request {
        var method: HTTPMethod
        var url: String
        var headers = HTTPHeaders()
        /// Made again for a retry after a 401: a streamed body cannot be replayed.
        var body: (@Sendable () throws -> HTTPClientRequest.Body)?
        var timeout: Duration
    }

    /// Sends a request, answering a 401 once with the credentials its challenge asks for: Basic
    /// from the credential store, or a Bearer token from the challenge's realm.
    func execute(_ request: Request, ref: ImageReference, access: RegistryAccess) async throws -> HTTPClientResponse {
        let key = RegistryAuthorizations.Key(registry: ref.registry, scope: access.scope(ref.repository))
        var authorization = await authorizations.header(for: key)
        var answeredChallenge = false
        while true {
            var outgoing = HTTPClientRequest(url: request.url)
            outgoing.method = request.method
            outgoing.headers = request.headers
            outgoing.headers.replaceOrAdd(name: "User-Agent", value: configuration.userAgent)
            if let authorization { outgoing.headers.replaceOrAdd(name: "Authorization", value: authorization) }
            outgoing.body = try request.body?()
            let response = try await send(outgoing, timeout: request.timeout, registry: ref.registry)
            guard response.status == .unauthorized else { return response }
            let challenges = response.headers["WWW-Authenticate"].flatMap(AuthChallenge.parse)
            _ = try? await response.body.collect(upTo: 1 << 16)
            if answeredChallenge {
                await authorizations.invalidate(key)
                throw try refused(ref: ref, access: access)
            }
            answeredChallenge = true
            authorization = try await authorizations.renew(key, stale: authorization) {
                try await self.authorize(challenges, ref: ref, access: access)
            }
        }
    }

    func send(_ request: HTTPClientRequest, timeout: Duration, registry: String) async throws -> HTTPClientResponse {
        do {
            return try await http.execute(request, timeout: timeout.timeAmount, logger: logger)
        } catch let error as CancellationError {
            throw error
        } catch {
            // The HTTP client reports a cancelled task as its own error; it is no network failure.
            if Task.isCancelled { throw CancellationError() }
            let hint = scheme(for: registry) == "https"
                ? "; if \(registry) serves plain HTTP, add it to the insecure registries"
                : ""
            throw BerthError(.registry, "cannot reach registry \(registry) (\(request.method) \(request.url)): \(error)\(hint)", underlying: error)
        }
    }

    /// Turns an unexpected response into an error carrying the registry's own error message.
    func unexpected(_ response: HTTPClientResponse, _ what: String, ref: ImageReference) async -> BerthError {
        let body = (try? await response.body.collect(upTo: 1 << 16)).map { String(buffer: $0) } ?? ""
        struct Errors: Decodable {
            struct Entry: Decodable { var code: String?; var message: String? }
            var errors: [Entry]?
        }
        let detail = (try? JSONDecoder().decode(Errors.self, from: Data(body.utf8)))?.errors?
            .map { [$0.code, $0.message].compactMap { $0 }.joined(separator: ": ") }.joined(separator: "; ")
        let text = detail ?? String(body.prefix(300))
        let code: BerthError.Code = response.status == .notFound ? .notFound : .registry
        return BerthError(code, "\(what): registry \(ref.registry) answered \(response.status.code) \(response.status.reasonPhrase)\(text.isEmpty ? "" : " (\(text))")")
    }
}

extension RegistryAccess: CustomStringConvertible {
    var description: String { self == .pull ? "pull" : "push to" }
}

extension Duration {
    var timeAmount: TimeAmount {
        let (seconds, attoseconds) = components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
