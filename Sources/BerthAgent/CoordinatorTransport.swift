import AsyncHTTPClient
import BerthCore
import BerthFramework
import BerthProtocol
import Foundation
import NIOCore

/// The agent protocol's HTTP side (docs/protocol.md "Agents ↔ coordinator"): REGISTER opens
/// the event stream; HEARTBEAT and STATUS_UPDATE are single calls on that stream's ID.
struct CoordinatorTransport: Sendable {
    let coordinator: String
    let http: HTTPClient

    struct Session: Sendable {
        let streamID: String
        let events: RecordIOEvents<AgentEvent>
    }

    var endpoint: String { coordinator + "/api/v1/agent" }

    func register(_ call: AgentCall) async throws -> Session {
        let response = try await http.execute(try request(call, streamID: nil), deadline: .distantFuture)
        guard response.status == .ok else {
            let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
            throw BerthError(.invalidArgument, "REGISTER refused by \(coordinator) with HTTP \(response.status.code): \(body)")
        }
        guard let streamID = response.headers.first(name: ProtocolHeaders.streamID) else {
            throw BerthError(.invalidArgument, "the REGISTER response from \(coordinator) has no \(ProtocolHeaders.streamID) header; is it a Berth coordinator?")
        }
        return Session(streamID: streamID, events: RecordIOEvents(body: response.body, what: "agent event"))
    }

    /// Sends a call on the stream; returns the HTTP status (202 expected, 403: register again).
    func send(_ call: AgentCall, streamID: String) async throws -> Int {
        let response = try await http.execute(try request(call, streamID: streamID), timeout: .seconds(10))
        return Int(response.status.code)
    }

    private func request(_ call: AgentCall, streamID: String?) throws -> HTTPClientRequest {
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let streamID { request.headers.add(name: ProtocolHeaders.streamID, value: streamID) }
        request.body = .bytes(ByteBuffer(bytes: try MesosJSON.encode(call)))
        return request
    }
}
