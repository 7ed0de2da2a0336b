import BerthCore
import BerthOCI
import Foundation

public struct RegistryCredentials: Hashable, Sendable {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    /// The value of an `Authorization: Basic` header.
    var basicAuthorization: String {
        "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
    }
}

/// Registry credentials from Berth's own `auth.json` (written by `berth login`) and, after it,
/// Docker's `config.json`. Both have Docker's shape:
/// `{"auths": {"HOST": {"auth": base64("user:pass")}}}` or `{"username": ..., "password": ...}`.
/// Credential helpers (`credsStore`, `credHelpers`) are not run: Berth says so when one is
/// configured for a registry and no plain entry exists.
public struct CredentialStore: Sendable {
    /// Berth's file: `HOME_DIR/auth.json`.
    public var berthAuthPath: String
    /// Docker's file, or nil to ignore Docker's configuration.
    public var dockerConfigPath: String?

    public init(berthAuthPath: String, dockerConfigPath: String? = CredentialStore.defaultDockerConfigPath()) {
        self.berthAuthPath = berthAuthPath
        self.dockerConfigPath = dockerConfigPath
    }

    /// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
    public static func defaultDockerConfigPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let dir = environment["DOCKER_CONFIG"], !dir.isEmpty { return "\(dir)/config.json" }
        guard let home = environment["HOME"], !home.isEmpty else { return nil }
        return "\(home)/.docker/config.json"
    }

    /// The credentials for a registry ("docker.io", "host:5000"), nil when none are stored.
    public func credentials(for registry: String) throws -> RegistryCredentials? {
        let key = Self.normalizedHost(registry)
        for path in [berthAuthPath] + [dockerConfigPath].compactMap({ $0 }) {
            guard let file = try Self.load(path) else { continue }
            for (host, entry) in file.auths ?? [:] where Self.normalizedHost(host) == key {
                if let found = try entry.credentials(host: host, path: path) { return found }
            }
        }
        return nil
    }

    /// Why no credentials were found although some are configured: a credential helper Berth does
    /// not run. nil when there is nothing to say.
    public func unsupportedHelperNote(for registry: String) -> String? {
        guard let path = dockerConfigPath, let file = try? Self.load(path) else { return nil }
        let key = Self.normalizedHost(registry)
        if let helper = file.credHelpers?.first(where: { Self.normalizedHost($0.key) == key })?.value {
            return "\(path) sends \(registry) to the credential helper docker-credential-\(helper), which Berth does not support: run berth login \(registry)"
        }
        if let store = file.credsStore {
            return "\(path) keeps credentials in the credential store docker-credential-\(store), which Berth does not support: run berth login \(registry)"
        }
        return nil
    }

    /// Stores credentials in Berth's file, keeping other hosts' entries; readable by the owner only.
    public func save(host: String, username: String, password: String) throws {
        var file = try Self.load(berthAuthPath) ?? AuthFile()
        var auths = file.auths ?? [:]
        for existing in auths.keys where Self.normalizedHost(existing) == Self.normalizedHost(host) {
            auths[existing] = nil
        }
        auths[Self.normalizedHost(host)] = AuthFile.Entry(auth: Data("\(username):\(password)".utf8).base64EncodedString())
        file.auths = auths
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let url = URL(fileURLWithPath: berthAuthPath)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try encoder.encode(file).write(to: url, options: .atomic)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: berthAuthPath)
        } catch {
            throw BerthError(.system, "cannot save credentials to \(berthAuthPath): \(error.localizedDescription)")
        }
    }

    /// One spelling per registry: no scheme or path, Docker Hub's aliases folded into docker.io.
    static func normalizedHost(_ text: String) -> String {
        var host = Substring(text.lowercased())
        if let scheme = host.range(of: "://") { host = host[scheme.upperBound...] }
        if let slash = host.firstIndex(of: "/") { host = host[..<slash] }
        switch host {
        case "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com": return ImageReference.dockerHub
        default: return String(host)
        }
    }

    private static func load(_ path: String) throws -> AuthFile? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try JSONDecoder().decode(AuthFile.self, from: data)
        } catch {
            throw BerthError(.invalidArgument, "cannot read credentials from \(path): not valid JSON of Docker's config.json shape (\(error)); fix or remove the file")
        }
    }
}

private struct AuthFile: Codable {
    struct Entry: Codable {
        var auth: String?
        var username: String?
        var password: String?

        func credentials(host: String, path: String) throws -> RegistryCredentials? {
            if let auth, !auth.isEmpty {
                guard let decoded = Data(base64Encoded: auth).map({ String(decoding: $0, as: UTF8.self) }),
                      let colon = decoded.firstIndex(of: ":") else {
                    throw BerthError(.invalidArgument, "\(path): the auth entry for \(host) is not base64 of USER:PASSWORD; log in again")
                }
                return RegistryCredentials(username: String(decoded[..<colon]), password: String(decoded[decoded.index(after: colon)...]))
            }
            if let username, let password { return RegistryCredentials(username: username, password: password) }
            return nil
        }
    }

    var auths: [String: Entry]?
    var credsStore: String?
    var credHelpers: [String: String]?
}
