import BerthCore
import Foundation
import Glibc

/// A `docker-registry serve` on 127.0.0.1 for the image benchmark, storing into a directory of
/// the benchmark's work directory, quiet (access logs off). The tests have a fuller one with auth
/// (Tests/BerthTestSupport/TestRegistry.swift); a benchmark binary cannot link the test support.
final class BenchRegistry {
    let host: String
    private let process: SpawnedCommand

    init(directory: String) throws {
        let registry = try Tool.find("docker-registry")
        try FileManager.default.createDirectory(atPath: directory + "/storage", withIntermediateDirectories: true)
        let port = try Self.freePort()
        host = "127.0.0.1:\(port)"
        let config = """
            version: 0.1
            log:
              level: error
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: \(directory)/storage
            http:
              addr: \(host)
            """
        try config.write(toFile: directory + "/config.yml", atomically: true, encoding: .utf8)
        process = try SpawnedCommand(["/bin/sh", "-c", "exec \"$0\" serve \"$1\" >\"$2\" 2>&1", registry,
                                      directory + "/config.yml", directory + "/registry.log"])
        let deadline = Date().addingTimeInterval(20)
        while !Self.accepts(port: port) {
            guard Date() < deadline else { throw BerthError(.invalidState, "docker-registry did not listen on \(host) within 20 s; see \(directory)/registry.log") }
            usleep(50_000)
        }
    }

    func stop() {
        kill(process.pid, SIGKILL)
        _ = try? process.finish()
    }

    private static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    /// Binds port 0 and reads back what the kernel chose.
    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SystemError("socket", errno: errno) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 ? getsockname(fd, $0, &length) : -1
            }
        }
        guard bound == 0 else { throw SystemError("bind 127.0.0.1:0", errno: errno) }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
