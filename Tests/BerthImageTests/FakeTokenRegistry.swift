import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A tiny HTTP server on 127.0.0.1 that plays a registry behind Bearer tokens: it serves one
/// manifest (`/v2/app/manifests/latest`) to requests with a token it issued, answers others with
/// a challenge pointing at its own `/token` endpoint, and records what the token requests carried.
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

    private let lock = NSLock()
    private var issued: Set<String> = []
    private var tokenRequestsStorage: [TokenRequest] = []
    private var channel: Channel?
    private(set) var port = 0

    init(lifetime: Int? = nil, useAccessToken: Bool = false, requiredAuthorization: String? = nil) async throws {
        self.lifetime = lifetime
        self.useAccessToken = useAccessToken
        self.requiredAuthorization = requiredAuthorization
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler(server: self))
                }
            }
        let channel = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        self.channel = channel
        port = channel.localAddress?.port ?? 0
    }

    var host: String { "127.0.0.1:\(port)" }
    var tokenRequests: [TokenRequest] { lock.withLock { tokenRequestsStorage } }

    /// Makes every issued token invalid, as a token that expired on the server's side.
    func revokeAll() { lock.withLock { issued.removeAll() } }

    func stop() async throws {
        try await channel?.close()
    }

    fileprivate func respond(method: HTTPMethod, uri: String, headers: HTTPHeaders) -> (HTTPResponseStatus, HTTPHeaders, Data) {
        var out = HTTPHeaders()
        if uri.hasPrefix("/token") {
            let query = uri.split(separator: "?", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
            let authorization = headers.first(name: "Authorization")
            return lock.withLock {
                tokenRequestsStorage.append(TokenRequest(query: query, authorization: authorization))
                if let requiredAuthorization, authorization != requiredAuthorization {
                    return (.unauthorized, out, Data(#"{"details":"bad credentials"}"#.utf8))
                }
                let token = "token-\(tokenRequestsStorage.count)"
                issued.insert(token)
                var body: [String: Any] = [useAccessToken ? "access_token" : "token": token]
                if let lifetime { body["expires_in"] = lifetime }
                out.add(name: "Content-Type", value: "application/json")
                return (.ok, out, (try? JSONSerialization.data(withJSONObject: body)) ?? Data())
            }
        }
        guard uri == "/v2/app/manifests/latest" else { return (.notFound, out, Data()) }
        let authorization = headers.first(name: "Authorization") ?? ""
        let valid = lock.withLock { authorization.hasPrefix("Bearer ") && issued.contains(String(authorization.dropFirst(7))) }
        guard valid else {
            out.add(name: "WWW-Authenticate",
                    value: #"Bearer realm="http://\#(host)/token",service="fake registry",scope="repository:app:pull""#)
            return (.unauthorized, out, Data(#"{"errors":[{"code":"UNAUTHORIZED"}]}"#.utf8))
        }
        out.add(name: "Content-Type", value: "application/vnd.oci.image.manifest.v1+json")
        return (.ok, out, Self.manifest)
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let server: FakeTokenRegistry
        var head: HTTPRequestHead?

        init(server: FakeTokenRegistry) { self.server = server }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
            case .body:
                break
            case .end:
                guard let head else { return }
                var (status, headers, body) = server.respond(method: head.method, uri: head.uri, headers: head.headers)
                headers.add(name: "Content-Length", value: "\(body.count)")
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
                var buffer = context.channel.allocator.buffer(capacity: body.count)
                buffer.writeBytes(body)
                context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                self.head = nil
            }
        }
    }
}
