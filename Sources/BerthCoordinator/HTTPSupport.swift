import BerthCore
import BerthProtocol
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension HTTPField.Name {
    /// `Mesos-Stream-Id`; a valid token, so the failable initializer always succeeds.
    static let mesosStreamID = HTTPField.Name(ProtocolHeaders.streamID)
}

extension HTTPFields {
    var mesosStreamID: String? {
        guard let name = HTTPField.Name.mesosStreamID else { return nil }
        return self[name]
    }

    mutating func setMesosStreamID(_ value: String) {
        guard let name = HTTPField.Name.mesosStreamID else { return }
        self[name] = value
    }
}

enum HTTPSupport {
    /// The request body decoded as `type`, refusing oversized bodies and, when `jsonContentTypeOnly`,
    /// non-JSON content types.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int, what: String,
                                     jsonContentTypeOnly: Bool = true) async throws -> T {
        let buffer = try await body(of: request, limit: limit, what: what, jsonContentTypeOnly: jsonContentTypeOnly)
        return try MesosJSON.decode(type, from: Data(buffer.readableBytesView), what: what)
    }

    /// An agent call: through `AgentCall.decodeFast` when the body has a shape it takes (what
    /// agents send), else through `MesosJSON.decode`, which gives the same value or the error.
    static func decodeAgentCall(from request: Request, limit: Int) async throws -> AgentCall {
        let buffer = try await body(of: request, limit: limit, what: "agent call", jsonContentTypeOnly: true)
        if let call = buffer.withUnsafeReadableBytes({ AgentCall.decodeFast($0) }) { return call }
        return try MesosJSON.decode(AgentCall.self, from: Data(buffer.readableBytesView), what: "agent call")
    }

    /// The request body, refusing oversized bodies and, when `jsonContentTypeOnly`, non-JSON content types.
    static func body(of request: Request, limit: Int, what: String, jsonContentTypeOnly: Bool) async throws -> ByteBuffer {
        if jsonContentTypeOnly, let contentType = request.headers[.contentType], !contentType.lowercased().hasPrefix("application/json") {
            throw BerthError(.invalidArgument, "Content-Type \(contentType) is not supported; send JSON with Content-Type: application/json")
        }
        do {
            return try await request.body.collect(upTo: limit)
        } catch {
            throw BerthError(.invalidArgument, "the \(what) body is larger than \(limit) bytes or could not be read")
        }
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try MesosJSON.encode(value)
        return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A 200 response streaming `events` as RecordIO-framed JSON (`encode`: MesosJSON unless
    /// told otherwise) until the stream ends or the client goes away; `ended` runs either way.
    static func recordIOStream<Element: Encodable & Sendable>(_ events: AsyncStream<Element>, streamID: String,
                                                              encode: @escaping @Sendable (Element) throws -> [UInt8] = { Array(try MesosJSON.encode($0)) },
                                                              ended: @escaping @Sendable () async -> Void) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        headers.setMesosStreamID(streamID)
        let body = ResponseBody { writer in
            do {
                for await event in events {
                    try await writer.write(ByteBuffer(bytes: RecordIO.frame(try encode(event))))
                }
            } catch {
                // The client closed the connection: the stream is over.
            }
            await ended()
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }
}

/// A listening address that could not be bound, said as a person can act on it.
public enum ListenFailure {
    /// `error` when it is not a bind failure; else what failed and what to do about `option`.
    public static func explain(_ error: any Error, host: String, port: Int, option: String) -> any Error {
        guard let error = error as? IOError, error.description.contains("bind") else { return error }
        let hint = switch error.errnoCode {
        case EADDRINUSE: "another process listens there: stop it, or give \(option) another port"
        case EADDRNOTAVAIL: "no interface of this host has that address: give \(option) an address of this host, or 0.0.0.0"
        case EACCES: "ports below 1024 need root or CAP_NET_BIND_SERVICE: give \(option) another port"
        default: "check the address given to \(option)"
        }
        return BerthError(.system, "listen on \(host):\(port): \(Errno.name(error.errnoCode)) (\(Errno.message(error.errnoCode))); \(hint)", underlying: error)
    }
}
