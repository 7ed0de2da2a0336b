import BerthCore
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOPosix
import ServiceLifecycle

/// The coordinator's HTTP/1 server: NIO's `ServerBootstrap` with the pipeline Hummingbird's
/// `HTTP1Channel` builds. `AgentCallHandler` answers agents in the pipeline; Hummingbird's router
/// answers everything else through `HTTP1Channel.handle`, set up on a connection only when the
/// first request for it arrives there.
///
/// Why not Hummingbird's `Application`: its server hands every accepted connection through an
/// async sequence to a task of its own that reads the connection's `NIOAsyncChannel`. After a
/// coordinator restart 10,000 agents connect at once, and none of them sends a request the router
/// answers; that machinery was a fifth of the coordinator's CPU while they registered again
/// (docs/benchmarks.md, "Failover"), and its graceful stop with 10,000 such tasks took seconds.
/// What the router sees is unchanged: the same pipeline, the same `handle`, a context and the
/// `Date` and `Server` headers as `Application` gives them.
struct CoordinatorHTTPServer: Service {
    let host: String
    let port: Int
    let backlog: Int
    let additionalHandlers: @Sendable () -> [any RemovableChannelHandler]
    let http1: HTTP1Channel
    let onServerRunning: @Sendable (any Channel) async -> Void
    /// Called once `run` ends, however it ends (a failed bind included).
    let onStopped: @Sendable () -> Void
    let logger: Logger

    init(router: Router<BasicRequestContext>, host: String, port: Int, backlog: Int,
         additionalHandlers: @escaping @Sendable () -> [any RemovableChannelHandler],
         onServerRunning: @escaping @Sendable (any Channel) async -> Void, onStopped: @escaping @Sendable () -> Void, logger: Logger) {
        self.host = host
        self.port = port
        self.backlog = backlog
        self.additionalHandlers = additionalHandlers
        self.onServerRunning = onServerRunning
        self.onStopped = onStopped
        self.logger = logger
        let responder = router.buildResponder()
        http1 = HTTP1Channel(responder: { request, writer, channel in
            let context = BasicRequestContext(source: ApplicationRequestContextSource(channel: channel, logger: logger))
            var response: Response
            do {
                response = try await responder.respond(to: request, context: context)
            } catch let error as HTTPParserError {
                throw error
            } catch {
                logger.debug("unrecognised error", metadata: ["error": "\(error)"])
                response = Response(status: .internalServerError, body: .init())
            }
            response.headers[.date] = HTTPDate.now()
            response.headers[.server] = "berth"
            do {
                try await writer.write(response: response.head, body: response.body)
            } catch is HTTPParserError {
                // As `Application` does: `handleHTTP` answers a parser error with a 400, and a
                // response is already under way here.
                throw ResponseWriteFailed()
            }
        })
    }

    struct ResponseWriteFailed: Error {}

    func run() async throws {
        defer { onStopped() }
        let quiescing = ServerQuiescingHelper(group: MultiThreadedEventLoopGroup.singleton)
        let channel = try await bind(quiescing)
        logger.info("listening", metadata: ["address": "\(host):\(channel.localAddress?.port ?? port)"])
        await onServerRunning(channel)
        // Quiescing closes the listening socket, tells each connection to close once its answer
        // under way is complete, and succeeds when the last one has closed.
        let stopped = channel.eventLoop.makePromise(of: Void.self)
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await channel.closeFuture.get()
                quiescing.initiateShutdown(promise: stopped)
                // Cancelled: the process is going away, and an open stream would hold it.
                guard !Task.isCancelled else { return }
                try await stopped.futureResult.get()
            } onGracefulShutdown: {
                quiescing.initiateShutdown(promise: nil)
            }
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    /// The listening socket; a failure says which address and what to do.
    private func bind(_ quiescing: ServerQuiescingHelper) async throws -> any Channel {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: numericCast(backlog))
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiescing.makeServerChannelHandler(channel: channel))
                }
            }
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { [http1, additionalHandlers, logger] channel in
                channel.eventLoop.makeCompletedFuture {
                    try Self.configure(channel, additionalHandlers: additionalHandlers(), http1: http1, logger: logger)
                }
            }
        do {
            return try await bootstrap.bind(host: host, port: port).get()
        } catch {
            throw ListenFailure.explain(error, host: host, port: port, option: "--listen")
        }
    }

    /// The pipeline of `HTTP1Channel.setup`, less the `NIOAsyncChannel` that `RouterStarter`
    /// adds when the router is first needed.
    static func configure(_ channel: any Channel, additionalHandlers: [any RemovableChannelHandler], http1: HTTP1Channel, logger: Logger) throws {
        let pipeline = channel.pipeline.syncOperations
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderFieldSize = http1.configuration.httpDecoder.maxHeaderFieldSize
        limits.maxHeaderListSize = http1.configuration.httpDecoder.maxHeaderListSize
        limits.maxHeaderFieldCount = http1.configuration.httpDecoder.maxHeaderFieldCount
        try pipeline.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: false, withOutboundHeaderValidation: false,
                                                 withEncoderConfiguration: .init(), withDecoderLimitConfiguration: limits)
        try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
        try pipeline.addHandlers(additionalHandlers)
        try pipeline.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
        try pipeline.addHandler(RouterStarter(http1: http1, logger: logger))
    }
}

/// The last handler of a connection until a request reaches it: then it wraps the channel in the
/// `NIOAsyncChannel` Hummingbird reads requests from, starts Hummingbird's handling of the
/// connection in a task, passes the request part on and leaves the pipeline. Until then it
/// closes the connection when the client closes its side.
final class RouterStarter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart

    private let http1: HTTP1Channel
    private let logger: Logger

    init(http1: HTTP1Channel, logger: Logger) {
        self.http1 = http1
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let asyncChannel: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>
        do {
            asyncChannel = try NIOAsyncChannel(wrappingChannelSynchronously: context.channel,
                                               configuration: .init(isOutboundHalfClosureEnabled: true))
        } catch {
            logger.error("connection closed: the request handling could not be set up", metadata: ["error": "\(error)"])
            context.close(promise: nil)
            return
        }
        let (http1, logger) = (http1, logger)
        Task { await http1.handle(value: asyncChannel, logger: logger) }
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    /// The client closed its side (connections allow half-closure, as Hummingbird's do): with no
    /// request for the router, nothing is left to answer, so the connection closes, as
    /// Hummingbird's reading of it would have closed it. An agent's event stream ends here.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
