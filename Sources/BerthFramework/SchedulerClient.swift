import AsyncHTTPClient
import BerthCore
import BerthProtocol
import Foundation
import NIOCore
import NIOHTTP1

/// A client of the Mesos v1 scheduler API, against a Berth coordinator (or a Mesos master).
public struct SchedulerClient: Sendable {
    /// `http://HOST:PORT`, without a trailing slash.
    public let coordinator: String
    let http: HTTPClient

    public init(coordinator: String, httpClient: HTTPClient = .shared) {
        self.coordinator = coordinator.hasSuffix("/") ? String(coordinator.dropLast()) : coordinator
        self.http = httpClient
    }

    var endpoint: String { coordinator + "/api/v1/scheduler" }

    /// SUBSCRIBE: opens the event stream. Its first event is SUBSCRIBED, with the framework ID
    /// every later call needs (see `calls(for:)`).
    public func subscribe(_ info: FrameworkInfo, suppressedRoles: [String]? = nil) async throws -> SchedulerStream {
        var call = Call(type: .subscribe, frameworkID: info.id)
        call.subscribe = Call.Subscribe(frameworkInfo: info, suppressedRoles: suppressedRoles)
        let response = try await http.execute(try request(for: call, streamID: nil), deadline: .distantFuture)
        guard response.status == .ok else {
            throw try await Self.refusal(of: call.type, response)
        }
        guard let streamID = response.headers.first(name: ProtocolHeaders.streamID) else {
            throw BerthError(.invalidArgument, "the SUBSCRIBE response has no \(ProtocolHeaders.streamID) header; is \(coordinator) a Mesos v1 scheduler API?")
        }
        return SchedulerStream(streamID: streamID, events: RecordIOEvents(body: response.body, what: "scheduler event"))
    }

    /// Calls for a subscribed framework on the given stream.
    public func calls(for framework: FrameworkID, streamID: String) -> SchedulerCalls {
        SchedulerCalls(client: self, frameworkID: framework, streamID: streamID)
    }

    /// Sends any call and expects 202; throws a BerthError with the coordinator's message otherwise.
    public func send(_ call: Call, streamID: String?) async throws {
        let response = try await http.execute(try request(for: call, streamID: streamID), timeout: .seconds(30))
        guard response.status == .accepted else { throw try await Self.refusal(of: call.type, response) }
    }

    func request(for call: Call, streamID: String?) throws -> HTTPClientRequest {
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        if let streamID { request.headers.add(name: ProtocolHeaders.streamID, value: streamID) }
        request.body = .bytes(ByteBuffer(bytes: try MesosJSON.encode(call)))
        return request
    }

    static func refusal(of type: Call.Kind, _ response: HTTPClientResponse) async throws -> BerthError {
        let body = try await response.body.collect(upTo: 1 << 20)
        let text = String(buffer: body).trimmingCharacters(in: .whitespacesAndNewlines)
        return BerthError(.invalidArgument, "\(type.rawValue) refused with HTTP \(response.status.code): \(text)",
                          underlying: HTTPStatusError(status: Int(response.status.code), body: text))
    }
}

/// The open SUBSCRIBE stream: its ID (sent back on every call) and its events.
public struct SchedulerStream: Sendable {
    public let streamID: String
    public let events: RecordIOEvents<Event>
}
