import AsyncHTTPClient
import BerthCoordinator
import BerthCore
import BerthProtocol
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// The routes without sockets: status codes and messages of refused calls.
@Suite struct RouterTests {
    static func application() throws -> some ApplicationProtocol {
        let configuration = CoordinatorConfiguration()
        let logger = Logger(label: "router-test")
        let coordinator = try Coordinator(configuration: configuration, logger: logger)
        return Application(router: CoordinatorServer.router(coordinator: coordinator, configuration: configuration, logger: logger))
    }

    @Test func versionAndHealth() async throws {
        try await Self.application().test(.router) { client in
            try await client.execute(uri: "/version", method: .get) { response in
                #expect(response.status == .ok)
                let json = try JSONDecoder().decode([String: String].self, from: Data(response.body.readableBytesView))
                #expect(json["version"] == "1.11.0")
                #expect(json["berth_version"] == BerthVersion.current)
            }
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/state", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("\"slaves\":[]"))
            }
        }
    }

    @Test(arguments: [
        ("{not json", 400, "not valid JSON"),
        (#"{"type": "FLY"}"#, 400, "unknown call type"),
        (#"{"type": "SUBSCRIBE"}"#, 400, "without \"subscribe\""),
        (#"{"type": "SUBSCRIBE", "subscribe": {"framework_info": {"user": "u", "name": "n", "roles": ["a//b"]}}}"#, 400, "role \"a//b\""),
        (#"{"type": "DECLINE", "decline": {"offer_ids": []}}"#, 400, "without \"framework_id\""),
        (#"{"type": "DECLINE", "framework_id": {"value": "nobody"}, "decline": {"offer_ids": []}}"#, 403, "not subscribed"),
        (#"{"type": "ACCEPT", "framework_id": {"value": "f"}}"#, 400, "without \"accept\""),
    ])
    func malformedSchedulerCalls(body: String, status: Int, message: String) async throws {
        try await Self.application().test(.router) { client in
            try await client.execute(uri: "/api/v1/scheduler", method: .post, headers: [.contentType: "application/json"],
                                     body: ByteBuffer(string: body)) { response in
                #expect(Int(response.status.code) == status)
                #expect(String(buffer: response.body).contains(message), "\(String(buffer: response.body))")
            }
        }
    }

    @Test func protobufIsRefused() async throws {
        try await Self.application().test(.router) { client in
            try await client.execute(uri: "/api/v1/scheduler", method: .post, headers: [.contentType: "application/x-protobuf"],
                                     body: ByteBuffer(string: "x")) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("send JSON"))
            }
        }
    }

    @Test(arguments: [
        (#"{"type": "HEARTBEAT"}"#, 400, "without \"agent_id\""),
        (#"{"type": "HEARTBEAT", "agent_id": {"value": "ghost"}}"#, 403, "REGISTER again"),
        (#"{"type": "REGISTER"}"#, 400, "without \"register\""),
        (#"{"type": "STATUS_UPDATE", "agent_id": {"value": "a"}}"#, 400, "without \"status_update\""),
    ])
    func malformedAgentCalls(body: String, status: Int, message: String) async throws {
        try await Self.application().test(.router) { client in
            try await client.execute(uri: "/api/v1/agent", method: .post, headers: [.contentType: "application/json"],
                                     body: ByteBuffer(string: body)) { response in
                #expect(Int(response.status.code) == status)
                #expect(String(buffer: response.body).contains(message), "\(String(buffer: response.body))")
            }
        }
    }

    @Test func offerStatusOfUnknownFramework() async throws {
        try await Self.application().test(.router) { client in
            try await client.execute(uri: "/api/v1/frameworks/nobody/offer-status", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(String(buffer: response.body).contains("not subscribed"))
            }
        }
    }
}

/// The same refusals over real loopback HTTP, and the server keeps serving after them.
@Suite(.serialized) struct MalformedCallsOverHTTPTests {
    static func post(_ url: String, _ body: String, streamID: String? = nil) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: url + "/api/v1/scheduler")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let streamID { request.headers.add(name: ProtocolHeaders.streamID, value: streamID) }
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
    }

    @Test func refusedCallsThenTheServerKeepsServing() async throws {
        let coordinator = try await TestCoordinator.start()
        let framework = try await TestFramework.subscribe(to: coordinator)
        let id = framework.id.value
        let cases: [(String, String?, Int, String)] = [
            ("garbage", nil, 400, "not valid JSON"),
            (#"{"type": "REVIVE", "framework_id": {"value": "\#(id)"}}"#, nil, 400, "missing Mesos-Stream-Id"),
            (#"{"type": "REVIVE", "framework_id": {"value": "\#(id)"}}"#, "wrong", 400, "does not match"),
            (#"{"type": "REVIVE", "framework_id": {"value": "someone-else"}}"#, framework.calls.streamID, 403, "not subscribed"),
            (#"{"type": "REVIVE", "framework_id": {"value": "\#(id)"}, "revive": {"roles": ["other"]}}"#, framework.calls.streamID, 400, "not one of the framework's roles"),
            (#"{"type": "SHUTDOWN", "framework_id": {"value": "\#(id)"}, "shutdown": {"executor_id": {"value": "e"}, "agent_id": {"value": "a"}}}"#, framework.calls.streamID, 501, "not supported"),
        ]
        for (body, streamID, status, message) in cases {
            let (code, text) = try await Self.post(coordinator.url, body, streamID: streamID)
            #expect(code == status, "\(body): \(text)")
            #expect(text.contains(message), "\(body): \(text)")
        }
        // Still serving: the subscribed framework's calls work and a new agent is offered to it.
        try await framework.calls.revive()
        _ = try await SimulatedAgent.register(to: coordinator)
        _ = try await framework.nextOffer()
        let (health, _) = try await Self.get(coordinator.url + "/health")
        #expect(health == 200)
        try await coordinator.stop()
    }

    static func get(_ url: String) async throws -> (Int, String) {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
    }
}
