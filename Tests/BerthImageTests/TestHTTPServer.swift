import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A minimal HTTP/1.1 server on 127.0.0.1 and a free port: each request (body ignored) is
/// answered by `respond`. For the fake registries and token servers of the tests.
final class TestHTTPServer: Sendable {
    struct Response: Sendable {
        var status: HTTPResponseStatus
        var headers: [(String, String)] = []
        var body = Data()
        /// Sends only this many bytes of the body, then closes the connection: a broken download.
        var cutAfter: Int?
    }

    typealias Responder = @Sendable (_ method: HTTPMethod, _ uri: String, _ headers: HTTPHeaders) -> Response

    private let channel: Channel
    let port: Int

    init(respond: @escaping Responder) async throws {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler(respond: respond))
                }
            }
        channel = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
    }

    var host: String { "127.0.0.1:\(port)" }

    func stop() async throws {
        try await channel.close()
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let respond: Responder
        var head: HTTPRequestHead?

        init(respond: @escaping Responder) { self.respond = respond }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
            case .body:
                break
            case .end:
                guard let head else { return }
                let response = respond(head.method, head.uri, head.headers)
                var headers = HTTPHeaders(response.headers)
                headers.add(name: "Content-Length", value: "\(response.body.count)")
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: response.status, headers: headers))), promise: nil)
                let sent = response.cutAfter.map { response.body.prefix($0) } ?? response.body
                var buffer = context.channel.allocator.buffer(capacity: sent.count)
                buffer.writeBytes(sent)
                if response.cutAfter != nil {
                    context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
                    context.close(promise: nil)
                    return
                }
                context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                self.head = nil
            }
        }
    }
}
