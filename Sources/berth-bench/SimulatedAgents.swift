import BerthCore
import BerthProtocol
import NIOCore
import NIOPosix

/// The failover benchmark's agents on the wire, kept cheap so the figures measure the
/// coordinator: one event-loop thread, a plain channel handler per agent, requests encoded in
/// full (head and body) before the clock starts. Each agent still does what a real one does: its
/// own TCP connection, one HTTP `POST /api/v1/agent` REGISTER, and its response read (chunked
/// HTTP, RecordIO) until the REGISTERED event, after which the stream stays open.
/// AsyncHTTPClient spent more CPU per agent (0.37 ms) than the coordinator did.
final class SimulatedAgents: Sendable {
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let address: SocketAddress
    let host: String

    init(host: String, port: Int) throws {
        do {
            address = try SocketAddress(ipAddress: host, port: port)
        } catch {
            throw BerthError(.invalidArgument, "the coordinator's address \(host):\(port) is not an IP address and port: \(error)")
        }
        self.host = "\(host):\(port)"
    }

    func shutdown() async throws { try await group.shutdownGracefully() }

    /// A whole REGISTER request as the agent sends it.
    func request(body: [UInt8]) -> ByteBuffer {
        let head = "POST /api/v1/agent HTTP/1.1\r\nHost: \(host)\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: \(body.count)\r\n\r\n"
        var buffer = ByteBuffer()
        buffer.reserveCapacity(head.utf8.count + body.count)
        buffer.writeString(head)
        buffer.writeBytes(body)
        return buffer
    }

    /// Registers every agent at once (each `requests` element is one agent's whole request);
    /// returns the seconds from the first connect to the last REGISTERED event, the agent IDs
    /// the coordinator gave, and the open connections (close them with `close`).
    func registerAll(_ requests: [ByteBuffer]) async throws -> (seconds: Double, ids: [AgentID], channels: [any Channel]) {
        let loop = group.next()
        let promise = loop.makePromise(of: Round.Outcome.self)
        let address = self.address
        loop.execute {
            let round = Round(count: requests.count, promise: promise)
            for (index, request) in requests.enumerated() {
                ClientBootstrap(group: loop)
                    .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                    .connectTimeout(.seconds(60))
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(AgentHandler(index: index, request: request, round: round))
                        }
                    }
                    .connect(to: address)
                    .whenComplete { result in
                        switch result {
                        case .success(let channel): round.channels[index] = channel
                        case .failure(let error): round.fail(BerthError(.invalidState, "agent \(index) could not connect to \(address): \(error)"))
                        }
                    }
            }
        }
        let outcome = try await promise.futureResult.get()
        return (outcome.seconds, outcome.ids, outcome.channels)
    }

    func close(_ channels: [any Channel]) async {
        for channel in channels { try? await channel.close() }
    }

    /// One round of registrations. Touched only on its event loop (the handlers' and the
    /// connects' callbacks all run there), hence unchecked.
    final class Round: @unchecked Sendable {
        struct Outcome: Sendable {
            var seconds: Double
            var ids: [AgentID]
            var channels: [any Channel]
        }

        let start = ContinuousClock.now
        var ids: [AgentID?]
        var channels: [(any Channel)?]
        var remaining: Int
        let promise: EventLoopPromise<Outcome>
        var finished = false

        init(count: Int, promise: EventLoopPromise<Outcome>) {
            ids = Array(repeating: nil, count: count)
            channels = Array(repeating: nil, count: count)
            remaining = count
            self.promise = promise
        }

        func registered(_ index: Int, as id: AgentID) {
            guard !finished, ids[index] == nil else { return }
            ids[index] = id
            remaining -= 1
            guard remaining == 0 else { return }
            finished = true
            let seconds = (ContinuousClock.now - start) / .seconds(1)
            promise.succeed(Outcome(seconds: seconds, ids: ids.compactMap { $0 }, channels: channels.compactMap { $0 }))
        }

        func fail(_ error: any Error) {
            guard !finished else { return }
            finished = true
            promise.fail(error)
        }
    }

    /// One agent's connection: sends its request once connected, reads until REGISTERED.
    final class AgentHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer

        let index: Int
        let request: ByteBuffer
        let round: Round
        private var received: [UInt8] = []
        private var done = false

        init(index: Int, request: ByteBuffer, round: Round) {
            self.index = index
            self.request = request
            self.round = round
        }

        func channelActive(context: ChannelHandlerContext) {
            context.writeAndFlush(NIOAny(request), promise: nil)
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard !done else { return }
            let bytes = unwrapInboundIn(data)
            received.append(contentsOf: bytes.readableBytesView)
            do {
                if let id = try RegisteredScan.agentID(inResponse: received) {
                    done = true
                    received = []
                    round.registered(index, as: AgentID(id))
                }
            } catch {
                done = true
                round.fail(BerthError(.invalidState, "agent \(index): \(error)"))
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            if !done {
                done = true
                round.fail(BerthError(.invalidState, "agent \(index)'s connection closed before its REGISTERED event"))
            }
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            if !done {
                done = true
                round.fail(BerthError(.invalidState, "agent \(index)'s connection failed: \(error)"))
            }
            context.close(promise: nil)
        }
    }
}

/// Reads a REGISTER response as far as its REGISTERED event: the HTTP head (200, chunked),
/// the chunks, the RecordIO records. Enough HTTP for the coordinator's answers, not a general
/// client.
enum RegisteredScan {
    /// The agent ID of the REGISTERED event once `response` holds it, nil while more is needed.
    /// Works on bytes: Foundation's string search was a visible part of the agents' CPU.
    static func agentID(inResponse response: [UInt8]) throws -> String? {
        guard let headEnd = find(crlfcrlf, in: response, from: 0) else { return nil }
        let bodyStart = headEnd + 4
        guard response.starts(with: status200) else {
            let status = response[..<(find(crlf, in: response, from: 0) ?? headEnd)]
            throw BerthError(.invalidState, "REGISTER answered \"\(String(decoding: status, as: UTF8.self))\": \(String(decoding: response[bodyStart...].prefix(500), as: UTF8.self))")
        }
        guard find(chunked, in: response[..<headEnd].map(lowercased), from: 0) != nil else {
            throw BerthError(.invalidState, "the REGISTER response is not a chunked stream")
        }
        var body: [UInt8] = []
        var position = bodyStart
        while let lineEnd = find(crlf, in: response, from: position) {
            var size = 0
            for byte in response[position..<lineEnd] {
                guard let digit = hexValue(byte) else { break }
                size = size * 16 + digit
                guard size < 1 << 24 else { throw BerthError(.invalidState, "a chunk of over 16 MiB in the REGISTER response") }
            }
            guard lineEnd > position, hexValue(response[position]) != nil else {
                throw BerthError(.invalidState, "bad chunk size \"\(String(decoding: response[position..<lineEnd].prefix(20), as: UTF8.self))\" in the REGISTER response")
            }
            guard size > 0 else { throw BerthError(.invalidState, "the event stream ended before REGISTERED") }
            let dataStart = lineEnd + 2
            guard response.count >= dataStart + size + 2 else { break }
            body.append(contentsOf: response[dataStart..<dataStart + size])
            position = dataStart + size + 2
        }
        var decoder = RecordIODecoder()
        for record in try decoder.feed(body) where find(registeredType, in: record, from: 0) != nil {
            guard let at = find(agentIDValue, in: record, from: 0),
                  let end = record[(at + agentIDValue.count)...].firstIndex(of: UInt8(ascii: "\"")) else {
                throw BerthError(.invalidState, "a REGISTERED event without agent_id: \(String(decoding: record, as: UTF8.self))")
            }
            return String(decoding: record[(at + agentIDValue.count)..<end], as: UTF8.self)
        }
        return nil
    }

    static let crlf = Array("\r\n".utf8)
    static let crlfcrlf = Array("\r\n\r\n".utf8)
    static let status200 = Array("HTTP/1.1 200".utf8)
    static let chunked = Array("\r\ntransfer-encoding: chunked".utf8)
    static let registeredType = Array(#""type":"REGISTERED""#.utf8)
    static let agentIDValue = Array(#""agent_id":{"value":""#.utf8)

    static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
    }

    static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(byte - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(byte - UInt8(ascii: "A")) + 10
        default: nil
        }
    }

    /// Where `needle` starts in `haystack` at or after `start`.
    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        var index = start
        while index + needle.count <= haystack.count {
            if haystack[index] == needle[0] {
                var matched = 1
                while matched < needle.count, haystack[index + matched] == needle[matched] { matched += 1 }
                if matched == needle.count { return index }
            }
            index += 1
        }
        return nil
    }
}
