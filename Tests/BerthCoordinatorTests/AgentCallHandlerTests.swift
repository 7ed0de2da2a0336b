@testable import BerthCoordinator
import BerthCore
import BerthProtocol
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `POST /api/v1/agent` answered in the connection's pipeline (AgentCallHandler), over real
/// loopback TCP written and read as bytes, so that requests can go back to back on one connection
/// and the exact answers can be seen.
@Suite(.serialized) struct AgentCallHandlerTests {
    static func register(hostname: String = "raw-agent", agentID: AgentID? = nil, extraHeaders: String = "") throws -> String {
        var call = AgentCall(type: .register, register: .init(hostname: hostname, resources: try Resources.parse("cpus:2;mem:1024")))
        call.agentID = agentID
        return try post(call, extraHeaders: extraHeaders)
    }

    static func post(_ call: AgentCall, streamID: String? = nil, extraHeaders: String = "") throws -> String {
        post(String(decoding: try MesosJSON.encode(call), as: UTF8.self), streamID: streamID, extraHeaders: extraHeaders)
    }

    static func post(_ body: String, streamID: String? = nil, contentType: String = "application/json", extraHeaders: String = "") -> String {
        let stream = streamID.map { "Mesos-Stream-Id: \($0)\r\n" } ?? ""
        return "POST /api/v1/agent HTTP/1.1\r\nHost: localhost\r\nContent-Type: \(contentType)\r\n\(stream)\(extraHeaders)"
            + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    /// The status codes of the responses in `text`, in order.
    static func statuses(_ text: String) -> [Int] {
        text.components(separatedBy: "HTTP/1.1 ").dropFirst().compactMap { Int($0.prefix(3)) }
    }

    @Test func registerIsAnsweredWithItsEventStream() async throws {
        let coordinator = try await TestCoordinator.start()
        let connection = try RawConnection(port: coordinator.port)
        try connection.send(try Self.register())
        let answer = try await connection.read { $0.contains("REGISTERED") }
        let head = answer.lowercased()
        #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(answer)")
        #expect(head.contains("mesos-stream-id: "), "\(answer)")
        #expect(head.contains("content-type: application/json"), "\(answer)")
        #expect(head.contains("transfer-encoding: chunked"), "\(answer)")
        #expect(head.contains("server: berth") && head.contains("date: "), "\(answer)")
        #expect(await coordinator.coordinator.state().activatedSlaves == 1)
        connection.close()
        try await coordinator.stop()
    }

    @Test func callsSentBackToBackAreAnsweredInOrder() async throws {
        let coordinator = try await TestCoordinator.start()
        let agent = try await SimulatedAgent.register(to: coordinator)
        let heartbeat = AgentCall(type: .heartbeat, agentID: agent.id)
        let connection = try RawConnection(port: coordinator.port)
        // Taken here, Hummingbird's, refused here, and Hummingbird's refusal of a body that is not JSON.
        try connection.send(try Self.post(heartbeat, streamID: agent.streamID)
                            + "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n"
                            + (try Self.post(heartbeat, streamID: "stale"))
                            + Self.post("garbage", streamID: agent.streamID))
        let answers = try await connection.read { Self.statuses($0).count == 4 && $0.contains("not valid JSON") }
        #expect(Self.statuses(answers) == [202, 200, 400, 400], "\(answers)")
        #expect(answers.contains("stale Mesos-Stream-Id header"), "\(answers)")
        // The connection still serves.
        try connection.send(try Self.post(heartbeat, streamID: agent.streamID))
        let more = try await connection.read { Self.statuses($0).count == 5 }
        #expect(Self.statuses(more).last == 202, "\(more)")
        connection.close()
        try await coordinator.stop()
    }

    @Test func refusalsAreHummingbirdsAsBefore() async throws {
        let coordinator = try await TestCoordinator.start(TestCoordinator.configuration { $0.maximumBodySize = 64 })
        let cases: [(String, String)] = [
            (try Self.register(hostname: String(repeating: "h", count: 100)), "larger than 64 bytes"),
            (Self.post("{}", contentType: "text/plain"), "Content-Type text/plain is not supported"),
            (Self.post(#"{"type": "HEARTBEAT"}"#), "without \"agent_id\""),
            (Self.post(#"{"type": "HEARTBEAT", "agent_id": {"value": "ghost"}}"#), "REGISTER again"),
        ]
        for (request, message) in cases {
            let connection = try RawConnection(port: coordinator.port)
            try connection.send(request)
            let answer = try await connection.read { $0.contains(message) }
            #expect(Self.statuses(answer).first.map { (400..<500).contains($0) } == true, "\(answer)")
            connection.close()
        }
        try await coordinator.stop()
    }

    @Test func connectionCloseIsHonoured() async throws {
        let coordinator = try await TestCoordinator.start()
        let agent = try await SimulatedAgent.register(to: coordinator)
        let connection = try RawConnection(port: coordinator.port)
        try connection.send(try Self.post(AgentCall(type: .heartbeat, agentID: agent.id), streamID: agent.streamID,
                                          extraHeaders: "Connection: close\r\n"))
        let answer = try await connection.read { _ in false }
        #expect(Self.statuses(answer) == [202], "read until the coordinator closed: \(answer)")
        connection.close()
        try await coordinator.stop()
    }

    @Test func aStreamEndsWhenItsConnectionClosesOrTheAgentRegistersAgain() async throws {
        let coordinator = try await TestCoordinator.start()
        let first = try RawConnection(port: coordinator.port)
        try first.send(try Self.register())
        let answer = try await first.read { $0.contains("REGISTERED") }
        let agents = await coordinator.coordinator.agents
        let id = try #require(agents.keys.first)
        // Registering again on another connection ends the first stream: its last chunk.
        let second = try RawConnection(port: coordinator.port)
        try second.send(try Self.register(agentID: id))
        _ = try await second.read { $0.contains("REGISTERED") }
        let ended = try await first.read { $0.hasSuffix("\r\n0\r\n\r\n") }
        #expect(ended.count > answer.count)
        // Closing the second connection ends the agent's stream on the coordinator.
        second.close()
        var open = true
        for _ in 0..<200 where open {
            open = await coordinator.coordinator.agents[id]?.channel != nil
            if open { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(!open, "the agent's event channel is closed once its connection is gone")
        first.close()
        try await coordinator.stop()
    }
}

/// One TCP connection to 127.0.0.1, written and read as bytes; reads run off the cooperative pool.
final class RawConnection: @unchecked Sendable {
    private let descriptor: Int32
    private var received: [UInt8] = []

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw FixtureFailure("socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7f00_0001).bigEndian)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw FixtureFailure("connect to 127.0.0.1:\(port): errno \(errno)") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { throw FixtureFailure("write: errno \(errno)") }
            sent += count
        }
    }

    /// Everything received so far once `done` holds for it, or once the peer closed; throws when
    /// 10 s pass without either.
    func read(until done: @escaping @Sendable (String) -> Bool) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                var buffer = [UInt8](repeating: 0, count: 65536)
                while !done(String(decoding: self.received, as: UTF8.self)) {
                    let count = Glibc.read(self.descriptor, &buffer, buffer.count)
                    if count == 0 { break }
                    guard count > 0 else {
                        continuation.resume(throwing: FixtureFailure("no answer in time; received so far: \(String(decoding: self.received, as: UTF8.self))"))
                        return
                    }
                    self.received += buffer[..<count]
                }
                continuation.resume(returning: String(decoding: self.received, as: UTF8.self))
            }
        }
    }

    func close() {
        Glibc.close(descriptor)
    }
}
