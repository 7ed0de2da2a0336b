import Foundation
import Glibc

/// A `docker-registry serve` on 127.0.0.1 and a free port, storing into a temporary directory,
/// optionally behind htpasswd Basic auth or token auth. Stop it with `stop()` (also done on deinit).
public final class TestRegistry: @unchecked Sendable {
    public let port: Int
    /// "127.0.0.1:PORT", as image references name it.
    public let host: String
    public let directory: String
    public let storageDirectory: String
    public let username: String?
    public let password: String?
    private var process: SpawnedCommand?

    /// Token authentication (`auth: token:`): the registry trusts tokens from `realm` signed by
    /// the key of the certificate at `certificatePath`.
    public struct TokenAuth: Sendable {
        public var realm: String
        public var service: String
        public var issuer: String
        public var certificatePath: String

        public init(realm: String, service: String, issuer: String, certificatePath: String) {
            self.realm = realm
            self.service = service
            self.issuer = issuer
            self.certificatePath = certificatePath
        }
    }

    /// With `username` and `password` and no `token`: htpasswd Basic auth. With `token`: token
    /// auth, and the credentials are only what fixtures are pushed with.
    public init(username: String? = nil, password: String? = nil, token: TokenAuth? = nil) throws {
        self.username = username
        self.password = password
        directory = try Self.makeTemporaryDirectory()
        storageDirectory = "\(directory)/storage"
        try FileManager.default.createDirectory(atPath: storageDirectory, withIntermediateDirectories: true)
        var auth = ""
        if let token {
            auth = """
                auth:
                  token:
                    realm: \(token.realm)
                    service: \(token.service)
                    issuer: \(token.issuer)
                    rootcertbundle: \(token.certificatePath)

                """
        } else if let username, let password {
            let result = try Fixtures.run("/usr/bin/htpasswd", ["-Bbn", username, password])
            guard result.status == 0 else { throw FixtureError("htpasswd failed: \(result)") }
            try result.stdout.write(toFile: "\(directory)/htpasswd", atomically: true, encoding: .utf8)
            auth = """
                auth:
                  htpasswd:
                    realm: berth-test
                    path: \(directory)/htpasswd

                """
        }
        guard let registry = TestHost.which("docker-registry") else { throw FixtureError("docker-registry is not on PATH") }
        // The free port is found by binding and closing it, so another test's connection can take
        // it before the registry binds it ("address already in use", seen in CI): then another port.
        var attempts = 0
        while true {
            let port = try Self.freePort()
            let config = """
                version: 0.1
                log:
                  level: info
                  accesslog:
                    disabled: false
                storage:
                  filesystem:
                    rootdirectory: \(storageDirectory)
                  delete:
                    enabled: true
                http:
                  addr: 127.0.0.1:\(port)
                  secret: berth-test-secret
                \(auth)
                """
            try config.write(toFile: "\(directory)/config.yml", atomically: true, encoding: .utf8)
            // Output goes to a file: the registry logs every request, and a pipe nobody drains
            // would fill and stall it.
            let started = try SpawnedCommand(["/bin/sh", "-c", "exec \"$0\" serve \"$1\" >\"$2\" 2>&1", registry,
                                              "\(directory)/config.yml", "\(directory)/registry.log"])
            if try Self.waitUntilListening(port: port, started, log: "\(directory)/registry.log", retryable: attempts < 4) {
                self.port = port
                host = "127.0.0.1:\(port)"
                process = started
                break
            }
            attempts += 1
        }
    }

    deinit { stop() }

    /// Kills the registry and waits for it; removes its directory.
    public func stop() {
        guard let process else { return }
        kill(process.pid, SIGKILL)
        _ = try? process.finish()
        self.process = nil
        try? FileManager.default.removeItem(atPath: directory)
    }

    public var log: String { (try? String(contentsOfFile: "\(directory)/registry.log", encoding: .utf8)) ?? "" }

    /// Where the registry keeps a blob's bytes ("sha256:HEX"): corrupt it to test verification.
    public func blobDataPath(_ digest: String) -> String {
        let hex = digest.split(separator: ":").last.map(String.init) ?? digest
        return "\(storageDirectory)/docker/registry/v2/blobs/sha256/\(hex.prefix(2))/\(hex)/data"
    }

    /// True once the registry listens on `port`; false when it exited because the port was taken
    /// and `retryable`. Anything else (another exit, 20 s without listening) throws with its log.
    private static func waitUntilListening(port: Int, _ process: SpawnedCommand, log path: String, retryable: Bool) throws -> Bool {
        let deadline = Date().addingTimeInterval(20)
        var log: String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
        while Date() < deadline {
            if canConnect(port: port) { return true }
            var status: Int32 = 0
            if waitpid(process.pid, &status, WNOHANG) == process.pid {
                if retryable && log.contains("address already in use") { return false }
                throw FixtureError("docker-registry exited (wait status \(status)) before it listened on 127.0.0.1:\(port); log:\n\(log)")
            }
            usleep(50_000)
        }
        kill(process.pid, SIGKILL)
        _ = try? process.finish()
        throw FixtureError("docker-registry did not listen on 127.0.0.1:\(port) within 20 s; log:\n\(log)")
    }

    /// The registry listens only once its configuration is loaded: a connection means ready.
    static func canConnect(port: Int) -> Bool {
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

    public static func makeTemporaryDirectory() throws -> String {
        var template = Array("/tmp/berth-registry-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw FixtureError("mkdtemp: errno \(errno)") }
        return String(cString: made)
    }

    /// A port nobody listens on now: bind to port 0 and read what the kernel chose.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw FixtureError("socket: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw FixtureError("bind: errno \(errno)") }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw FixtureError("getsockname: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
