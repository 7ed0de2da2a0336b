import BerthCore
import BerthProtocol
import CEpoll
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The failover benchmark's agents on the wire, kept cheap so the figures measure the
/// coordinator: non-blocking sockets and one epoll loop on a thread of its own, requests encoded
/// in full (head and body) before the clock starts. Each agent still does what a real one does:
/// its own TCP connection, one HTTP `POST /api/v1/agent` REGISTER, and its response read (chunked
/// HTTP, RecordIO) until the REGISTERED event, after which the stream stays open.
///
/// AsyncHTTPClient spent 0.37 ms of CPU per agent, a NIO channel handler per agent 0.10 ms (half
/// of it NIO's connect path); both share this machine's two cores with the coordinator being
/// measured. At most `inFlight` registrations are under way at once, below the coordinator's
/// listen backlog (4,096): more connects at once than it can queue would be dropped SYNs, each
/// costing its agent a 1 s retransmission, which real agents spread over a network do not see.
final class SimulatedAgents: Sendable {
    let address: sockaddr_in
    let host: String
    let inFlight: Int

    init(host: String, port: Int, inFlight: Int = 2048) throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
        guard (1...65535).contains(port), inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            throw BerthError(.invalidArgument, "the coordinator's address \(host):\(port) is not an IPv4 address and port")
        }
        self.address = address
        self.host = "\(host):\(port)"
        self.inFlight = inFlight
    }

    /// A whole REGISTER request as the agent sends it.
    func request(body: [UInt8]) -> [UInt8] {
        let head = "POST /api/v1/agent HTTP/1.1\r\nHost: \(host)\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: \(body.count)\r\n\r\n"
        return Array(head.utf8) + body
    }

    /// Registers every agent (each `requests` element is one agent's whole request); returns the
    /// seconds from the first connect to the last REGISTERED event, the agent IDs the coordinator
    /// gave, and the open connections (close them with `close`). Runs on a thread of its own.
    func registerAll(_ requests: [[UInt8]]) async throws -> (seconds: Double, ids: [AgentID], sockets: [Int32]) {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try self.registerAllBlocking(requests) })
            }
            thread.name = "simulated-agents"
            thread.start()
        }
    }

    func close(_ sockets: [Int32]) {
        for socket in sockets { Glibc.close(socket) }
    }

    private func registerAllBlocking(_ requests: [[UInt8]]) throws -> (seconds: Double, ids: [AgentID], sockets: [Int32]) {
        let poll = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard poll >= 0 else { throw BerthError(.system, "epoll_create1: \(SystemError("epoll_create1", errno: errno))") }
        defer { Glibc.close(poll) }
        var agents = requests.map { Agent(request: $0) }
        var sockets: [Int32] = []
        sockets.reserveCapacity(requests.count)
        var failure: (any Error)?
        defer { if failure != nil { close(sockets) } }
        var started = 0, underway = 0, registered = 0
        var events = [epoll_event](repeating: epoll_event(), count: 1024)
        var buffer = [UInt8](repeating: 0, count: 16384)
        let start = ContinuousClock.now
        do {
            while registered < requests.count {
                while underway < inFlight, started < requests.count {
                    agents[started].socket = try connect(agent: started, poll: poll)
                    sockets.append(agents[started].socket)
                    started += 1
                    underway += 1
                }
                let count = epoll_wait(poll, &events, Int32(events.count), 60_000)
                if count < 0, errno == EINTR { continue }
                guard count > 0 else {
                    throw BerthError(.invalidState, count == 0 ? "no agent heard from the coordinator for 60 s (\(registered) of \(requests.count) registered)"
                                                              : "epoll_wait: \(SystemError("epoll_wait", errno: errno))")
                }
                for event in events[..<Int(count)] {
                    let index = Int(event.data.u32)
                    guard agents[index].id == nil else { continue }
                    if event.events & EPOLLOUT.rawValue != 0, agents[index].sent < agents[index].request.count {
                        try agents[index].send(index: index)
                    }
                    if event.events & (EPOLLIN.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0,
                       try agents[index].receive(index: index, into: &buffer) {
                        registered += 1
                        underway -= 1
                    }
                }
            }
        } catch {
            failure = error
            throw error
        }
        let seconds = (ContinuousClock.now - start) / .seconds(1)
        return (seconds, agents.compactMap(\.id), sockets)
    }

    /// A non-blocking socket connecting to the coordinator, watched (edge-triggered) for being
    /// writable once connected and for the response.
    private func connect(agent index: Int, poll: Int32) throws -> Int32 {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socket >= 0 else { throw BerthError(.system, "agent \(index): \(SystemError("socket", errno: errno)) (raise the open-file limit?)") }
        var on: Int32 = 1
        setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
        var address = self.address
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 || errno == EINPROGRESS else {
            let error = SystemError("connect to \(host)", errno: errno)
            Glibc.close(socket)
            throw BerthError(.system, "agent \(index): \(error)")
        }
        var event = epoll_event()
        event.events = EPOLLIN.rawValue | EPOLLOUT.rawValue | EPOLLET.rawValue | EPOLLRDHUP.rawValue
        event.data.u32 = UInt32(index)
        guard epoll_ctl(poll, EPOLL_CTL_ADD, socket, &event) == 0 else {
            let error = SystemError("epoll_ctl", errno: errno)
            Glibc.close(socket)
            throw BerthError(.system, "agent \(index): \(error)")
        }
        return socket
    }

    /// One agent's connection: its request, what was sent of it, what came back.
    struct Agent {
        let request: [UInt8]
        var socket: Int32 = -1
        var sent = 0
        var received: [UInt8] = []
        var id: AgentID?

        init(request: [UInt8]) { self.request = request }

        mutating func send(index: Int) throws {
            while sent < request.count {
                let count = request[sent...].withUnsafeBytes { write(socket, $0.baseAddress, $0.count) }
                if count > 0 {
                    sent += count
                } else if errno == EAGAIN {
                    return // the rest when it is writable again
                } else if errno != EINTR {
                    throw BerthError(.invalidState, "agent \(index) could not send its REGISTER: \(SystemError("write", errno: errno))")
                }
            }
        }

        /// Reads what is there; true once the REGISTERED event is in.
        mutating func receive(index: Int, into buffer: inout [UInt8]) throws -> Bool {
            while true {
                let count = read(socket, &buffer, buffer.count)
                if count > 0 {
                    received.append(contentsOf: buffer[..<count])
                    continue
                }
                if count < 0, errno == EINTR { continue }
                if count < 0, errno != EAGAIN {
                    throw BerthError(.invalidState, "agent \(index)'s connection failed: \(SystemError("read", errno: errno))")
                }
                if let found = try RegisteredScan.agentID(inResponse: received) {
                    id = AgentID(found)
                    received = []
                    return true
                }
                guard count < 0 else {
                    throw BerthError(.invalidState, "agent \(index)'s connection closed before its REGISTERED event")
                }
                return false
            }
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
