import BerthCore
import BerthLinux
import BerthProtocol
import BerthRuntime
import Foundation
import Glibc

/// One health check, run once: its result and what to tell a person about it. Tasks use host
/// networking, so HTTP and TCP checks go to 127.0.0.1 on the task's port, from the agent
/// (Mesos' rule); a command check runs inside the task's container.
enum HealthProbe {
    struct Outcome: Sendable, Equatable {
        var success: Bool
        /// The check's output, HTTP status or error, for the logs and the kill message.
        var detail: String
    }

    /// Seconds as given in a health check (validated: not negative, not NaN), capped at about 30
    /// years so an absurd value cannot overflow the conversion.
    static func duration(_ seconds: Double) -> Duration {
        .milliseconds(Int64(min(max(seconds, 0), 1e9) * 1000))
    }

    /// Blocking: run it on a BlockingWork thread.
    static func run(_ check: HealthCheck, container: any TaskContainer) -> Outcome {
        let timeout = duration(check.timeout)
        switch check.type {
        case .command:
            guard let command = check.command else { return Outcome(success: false, detail: "no command") }
            let argv = command.shell ?? true ? ["/bin/sh", "-c", command.value ?? ""]
                : (command.arguments.flatMap { $0.isEmpty ? nil : $0 } ?? [command.value ?? ""])
            let env = (command.environment?.variables ?? []).map { "\($0.name)=\($0.value ?? "")" }
            do {
                let result = try container.exec(argv, env: env, timeout: timeout)
                let output = result.output.isEmpty ? "" : ": \(result.output)"
                if result.timedOut { return Outcome(success: false, detail: "command timed out after \(check.timeout) s\(output)") }
                // Not "exited with status N": that phrase in a kill message is read as the task's own exit.
                let ended = switch result.status {
                case .exited(let code)?: "exit code \(code)"
                case .signaled(let signal)?: "terminated by \(Signals.name(signal))"
                case nil: "no exit status"
                }
                return Outcome(success: result.succeeded, detail: "command \(ended)\(output)")
            } catch let failure as LaunchFailure {
                return Outcome(success: false, detail: "command could not run: \(SupervisedLaunch.describe(failure))")
            } catch {
                return Outcome(success: false, detail: "command could not run: \(error)")
            }
        case .http:
            let http = check.http
            return get(port: http?.port ?? 0, path: http?.path ?? "/", statuses: http?.statuses, timeout: timeout)
        case .tcp:
            let port = check.tcp?.port ?? 0
            do {
                let fd = try connect(port: port, timeout: timeout)
                close(fd)
                return Outcome(success: true, detail: "connected to 127.0.0.1:\(port)")
            } catch {
                return Outcome(success: false, detail: "\(error)")
            }
        case nil:
            return Outcome(success: false, detail: "the health check has no type")
        }
    }

    /// GET over HTTP/1.0; success is Mesos' rule (200-399) or one of `statuses`.
    static func get(port: Int, path: String, statuses: [Int]?, timeout: Duration) -> Outcome {
        let deadline = ContinuousClock.now + timeout
        do {
            let fd = try connect(port: port, timeout: timeout)
            defer { close(fd) }
            let request = Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1:\(port)\r\nUser-Agent: berth-health-check\r\nConnection: close\r\n\r\n".utf8)
            var sent = 0
            while sent < request.count {
                try waitFor(fd, events: POLLOUT, until: deadline, what: "send the request to 127.0.0.1:\(port)")
                let n = request.withUnsafeBytes { send(fd, $0.baseAddress.map { $0 + sent }, request.count - sent, Int32(MSG_NOSIGNAL)) }
                if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                guard n > 0 else { throw SystemError("send the request to 127.0.0.1:\(port)", errno: errno) }
                sent += n
            }
            // The status line is all that is needed.
            var response: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 1024)
            while !response.contains(UInt8(ascii: "\n")) && response.count < 8192 {
                try waitFor(fd, events: POLLIN, until: deadline, what: "read the answer of 127.0.0.1:\(port)")
                let n = recv(fd, &buffer, buffer.count, 0)
                if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                if n < 0 { throw SystemError("read the answer of 127.0.0.1:\(port)", errno: errno) }
                if n == 0 { break }
                response += buffer[0..<n]
            }
            let line = String(decoding: response.prefix(while: { $0 != UInt8(ascii: "\n") }), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let fields = line.split(separator: " ")
            guard fields.count >= 2, fields[0].hasPrefix("HTTP/"), let code = Int(fields[1]) else {
                return Outcome(success: false, detail: "GET http://127.0.0.1:\(port)\(path): not an HTTP answer: \(line.prefix(80))")
            }
            let success = statuses.map { $0.contains(code) } ?? (200...399).contains(code)
            return Outcome(success: success, detail: "GET http://127.0.0.1:\(port)\(path) answered \(code)")
        } catch {
            return Outcome(success: false, detail: "GET http://127.0.0.1:\(port)\(path): \(error)")
        }
    }

    /// A connected non-blocking TCP socket to 127.0.0.1:`port`.
    static func connect(port: Int, timeout: Duration) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError("create a socket", errno: errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(clamping: port)).bigEndian
        address.sin_addr.s_addr = in_addr_t(0x7f00_0001).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        do {
            if result != 0 {
                guard errno == EINPROGRESS || errno == EINTR else { throw SystemError("connect to 127.0.0.1:\(port)", errno: errno) }
                try waitFor(fd, events: POLLOUT, until: .now + timeout, what: "connect to 127.0.0.1:\(port)")
                var error: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
                if error != 0 { throw SystemError("connect to 127.0.0.1:\(port)", errno: error) }
            }
            return fd
        } catch {
            close(fd)
            throw error
        }
    }

    private static func waitFor(_ fd: Int32, events: Int32, until deadline: ContinuousClock.Instant, what: String) throws {
        while true {
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else { throw SystemError(what, errno: ETIMEDOUT) }
            var entry = pollfd(fd: fd, events: Int16(events), revents: 0)
            let milliseconds = Int32(clamping: left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)
            let ready = poll(&entry, 1, milliseconds)
            if ready > 0 { return }
            if ready < 0 && errno != EINTR { throw SystemError(what, errno: errno) }
        }
    }
}
