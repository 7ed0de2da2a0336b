import BerthCore
import BerthProtocol
import Foundation
import HTTPTypes
import Logging
import NIOCore
import NIOHTTPTypes
import Synchronization

/// Answers `POST /api/v1/agent` in the connection's channel pipeline, ahead of Hummingbird's
/// router, and writes an agent's event stream straight to its connection.
///
/// Why: after a coordinator restart every agent registers again at once, each on a connection of
/// its own. Through the router a registration also cost a request and a response object, the body
/// read and the response written as async sequences, and an `AsyncStream` with a task reading it
/// per agent; that was more than half of the coordinator's CPU per registration
/// (docs/benchmarks.md, "Failover").
///
/// What it does not take goes on to Hummingbird untouched, and `AgentRoutes` answers it as before,
/// errors included: another path, a content type that is not JSON, a body larger than the limit,
/// a body `AgentCall.decodeFast` does not read, a call that fails validation. Requests on one
/// connection are answered in order: parts that arrive while an answer is under way (its own or
/// Hummingbird's) wait.
final class AgentCallHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    static let path = "/api/v1/agent"
    /// Request parts kept waiting per connection, at most.
    static let heldLimit = 1024

    private enum State {
        case idle
        /// An agent call's body is being read.
        case collecting(HTTPRequest, ByteBuffer?)
        /// Hummingbird has a request: its parts go on until it and its response have ended.
        case forwarding(requestEnded: Bool, responseEnded: Bool)
        /// The coordinator has the call; nothing has been written yet.
        case answering(HTTPRequest)
        /// REGISTER's event stream is open.
        case streaming(HTTPRequest, agent: AgentID, streamID: String)
    }

    private let coordinator: Coordinator
    private let bodyLimit: Int
    private let logger: Logger
    private var state = State.idle
    /// Parts of later requests, held until the current answer is complete.
    private var held = CircularBuffer<HTTPRequestPart>()
    private var active = true

    init(coordinator: Coordinator, bodyLimit: Int, logger: Logger) {
        self.coordinator = coordinator
        self.bodyLimit = bodyLimit
        self.logger = logger
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if held.isEmpty, accepts(part) {
            process(part, context: context)
        } else if held.count < Self.heldLimit {
            held.append(part)
        } else {
            // A client piling up requests behind an open event stream, which never ends for it.
            logger.notice("connection closed: too many requests sent ahead of the answers", metadata: ["held": "\(held.count)"])
            context.close(promise: nil)
        }
    }

    /// Whether a part can be handled now rather than wait for the answer under way.
    private func accepts(_ part: HTTPRequestPart) -> Bool {
        switch state {
        case .idle, .collecting: true
        case .forwarding(let requestEnded, _): !requestEnded
        case .answering, .streaming: false
        }
    }

    private func process(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        switch (state, part) {
        case (.idle, .head(let head)):
            if head.method == .post, Self.requestPath(head) == Self.path {
                state = .collecting(head, nil)
            } else {
                state = .forwarding(requestEnded: false, responseEnded: false)
                context.fireChannelRead(wrapInboundOut(part))
            }
        case (.collecting(let head, var body), .body(var chunk)):
            if (body?.readableBytes ?? 0) + chunk.readableBytes > bodyLimit {
                // Hummingbird refuses it with the usual message.
                forward(head, body: body, context: context)
                context.fireChannelRead(wrapInboundOut(part))
                return
            }
            if body == nil {
                body = chunk
            } else {
                body?.writeBuffer(&chunk)
            }
            state = .collecting(head, body)
        case (.collecting(let head, let body), .end):
            guard let call = Self.takenCall(head, body: body) else {
                forward(head, body: body, context: context)
                context.fireChannelRead(wrapInboundOut(part))
                return
            }
            state = .answering(head)
            answer(call, head: head, context: context)
        case (.forwarding(let requestEnded, let responseEnded), _):
            if case .end = part {
                state = responseEnded ? .idle : .forwarding(requestEnded: true, responseEnded: false)
            } else {
                state = .forwarding(requestEnded: requestEnded, responseEnded: responseEnded)
            }
            context.fireChannelRead(wrapInboundOut(part))
        default:
            // Out of order (a body with no head): Hummingbird's loop refuses it.
            context.fireChannelRead(wrapInboundOut(part))
        }
    }

    /// Hands a request read so far to Hummingbird, as if it had never stopped here.
    private func forward(_ head: HTTPRequest, body: ByteBuffer?, context: ChannelHandlerContext) {
        state = .forwarding(requestEnded: false, responseEnded: false)
        context.fireChannelRead(wrapInboundOut(.head(head)))
        if let body { context.fireChannelRead(wrapInboundOut(.body(body))) }
    }

    /// The call when this handler answers it: a JSON body of the shape agents send, valid.
    static func takenCall(_ head: HTTPRequest, body: ByteBuffer?) -> AgentCall? {
        if let contentType = head.headerFields[.contentType], !contentType.lowercased().hasPrefix("application/json") { return nil }
        guard let body, let call = body.withUnsafeReadableBytes({ AgentCall.decodeFast($0) }) else { return nil }
        guard (try? call.validate()) != nil else { return nil }
        return call
    }

    static func requestPath(_ head: HTTPRequest) -> Substring {
        let path = head.path ?? ""
        return path.firstIndex(of: "?").map { path[..<$0] } ?? path[...]
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        active = false
        if case .streaming(_, let agent, let streamID) = state {
            coordinator.submit { $0.agentStreamEnded(agent: agent, streamID: streamID) }
        }
        context.fireChannelInactive()
    }

    // MARK: Outbound: Hummingbird's answers

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        context.write(data, promise: promise)
        guard case .end = unwrapOutboundIn(data), case .forwarding(let requestEnded, _) = state else { return }
        state = requestEnded ? .idle : .forwarding(requestEnded: false, responseEnded: true)
        if requestEnded { releaseHeld(context: context) }
    }

    // MARK: Answers

    private func answer(_ call: AgentCall, head: HTTPRequest, context: ChannelHandlerContext) {
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        guard call.type == .register, let register = call.register else {
            let streamID = head.headerFields.mesosStreamID
            coordinator.submit { coordinator in
                let failure: (any Error)?
                do {
                    try coordinator.handle(call, streamID: streamID)
                    failure = nil
                } catch {
                    failure = error
                }
                loop.execute {
                    let (handler, context) = bound.value
                    if let failure {
                        handler.refuse(failure, context: context)
                    } else {
                        handler.respond(HTTPResponse(status: .accepted, headerFields: [.contentLength: "0"]), context: context)
                    }
                }
            }
            return
        }
        coordinator.submit { coordinator in
            do {
                _ = try coordinator.register(register, agentID: call.agentID) { agent, streamID in
                    // The actor calls this, and the sink's closures below, in the order of the
                    // stream; each runs on the connection's event loop in that order.
                    loop.execute { bound.value.0.openStream(agent: agent, streamID: streamID, context: bound.value.1) }
                    return EventSink(send: { event in loop.execute { bound.value.0.writeEvent(event, context: bound.value.1) } },
                                     finish: { loop.execute { bound.value.0.endStream(context: bound.value.1) } })
                }
            } catch {
                loop.execute { bound.value.0.refuse(error, context: bound.value.1) }
            }
        }
    }

    private func openStream(agent: AgentID, streamID: String, context: ChannelHandlerContext) {
        guard case .answering(let head) = state else { return }
        guard active else {
            coordinator.submit { $0.agentStreamEnded(agent: agent, streamID: streamID) }
            return
        }
        state = .streaming(head, agent: agent, streamID: streamID)
        var fields: HTTPFields = [.contentType: "application/json"]
        fields.setMesosStreamID(streamID)
        context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .ok, headerFields: Self.withServerFields(fields)))), promise: nil)
    }

    private func writeEvent(_ event: AgentEvent, context: ChannelHandlerContext) {
        guard active, case .streaming = state else { return }
        do {
            let frame = RecordIO.frame(try event.encodedJSON())
            context.writeAndFlush(wrapOutboundOut(.body(context.channel.allocator.buffer(bytes: frame))), promise: nil)
        } catch {
            logger.error("agent event not encoded", metadata: ["event": "\(event.type)", "error": "\(error)"])
        }
    }

    /// The coordinator closed the stream (the agent registered again, or became unreachable).
    private func endStream(context: ChannelHandlerContext) {
        guard case .streaming(let head, _, _) = state else { return }
        finish(head, context: context)
    }

    private func respond(_ response: HTTPResponse, body: ByteBuffer? = nil, context: ChannelHandlerContext) {
        guard case .answering(let head) = state else { return }
        var response = response
        response.headerFields = Self.withServerFields(response.headerFields)
        context.write(wrapOutboundOut(.head(response)), promise: nil)
        if let body { context.write(wrapOutboundOut(.body(body)), promise: nil) }
        finish(head, context: context)
    }

    /// A refusal as `BerthErrorMiddleware` writes it: the status for the error's code and its
    /// message as plain text.
    private func refuse(_ error: any Error, context: ChannelHandlerContext) {
        let berthError = error as? BerthError ?? BerthError(.system, "\(error)")
        logger.info("request refused", metadata: ["path": "\(Self.path)", "status": "\(HTTPErrorMapping.status(for: berthError.code).code)",
                                                  "why": "\(berthError.message)"])
        let body = context.channel.allocator.buffer(string: berthError.message + "\n")
        respond(HTTPResponse(status: HTTPErrorMapping.status(for: berthError.code),
                             headerFields: [.contentType: "text/plain; charset=utf-8", .contentLength: "\(body.readableBytes)"]),
                body: body, context: context)
    }

    /// Ends the answer to `head`; the connection goes on to the requests that waited, or closes
    /// when the client asked for that.
    private func finish(_ head: HTTPRequest, context: ChannelHandlerContext) {
        state = .idle
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        if head.headerFields[.connection]?.lowercased() == "close" {
            context.close(promise: nil)
            return
        }
        releaseHeld(context: context)
    }

    /// Goes on with the parts that waited. This runs outside a read from the socket, so it ends
    /// with the read-complete that makes the handlers after it (Hummingbird's) deliver them.
    private func releaseHeld(context: ChannelHandlerContext) {
        guard !held.isEmpty else { return }
        while let part = held.first, accepts(part) {
            held.removeFirst()
            process(part, context: context)
        }
        context.fireChannelReadComplete()
    }

    // MARK: Headers Hummingbird adds to its answers

    static func withServerFields(_ fields: HTTPFields) -> HTTPFields {
        var fields = fields
        fields[.date] = HTTPDate.now()
        fields[.server] = "berth"
        return fields
    }
}

/// The `Date` header's value (RFC 9110, IMF-fixdate), formatted once per second.
enum HTTPDate {
    private static let cache = Mutex<(second: Int, text: String)>((-1, ""))

    static func now() -> String {
        var seconds = time_t()
        time(&seconds)
        return cache.withLock { cached in
            if cached.second != Int(seconds) {
                var parts = tm()
                gmtime_r(&seconds, &parts)
                var text = [CChar](repeating: 0, count: 64)
                let count = strftime(&text, text.count, "%a, %d %b %Y %H:%M:%S GMT", &parts)
                cached = (Int(seconds), String(decoding: text[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            return cached.text
        }
    }
}
