import BerthCore
@testable import BerthImage
import Foundation
import Testing

@Suite("WWW-Authenticate parsing")
struct AuthChallengeTests {
    @Test(arguments: [
        ("Basic realm=\"Registry Realm\"", [AuthChallenge(scheme: .basic, parameters: ["realm": "Registry Realm"])]),
        ("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/busybox:pull\"",
         [AuthChallenge(scheme: .bearer, parameters: ["realm": "https://auth.docker.io/token", "service": "registry.docker.io",
                                                      "scope": "repository:library/busybox:pull"])]),
        // A scope with several actions holds a comma inside the quotes.
        ("bearer Realm=\"https://a/token\", scope=\"repository:x/y:pull,push\", error=\"insufficient_scope\"",
         [AuthChallenge(scheme: .bearer, parameters: ["realm": "https://a/token", "scope": "repository:x/y:pull,push",
                                                      "error": "insufficient_scope"])]),
        ("Bearer realm=\"a \\\"quoted\\\" realm\"", [AuthChallenge(scheme: .bearer, parameters: ["realm": "a \"quoted\" realm"])]),
        ("Bearer realm=https://unquoted/token,service=svc", [AuthChallenge(scheme: .bearer, parameters: ["realm": "https://unquoted/token", "service": "svc"])]),
        ("Basic realm=\"r\", Bearer realm=\"https://t\"", [AuthChallenge(scheme: .basic, parameters: ["realm": "r"]),
                                                           AuthChallenge(scheme: .bearer, parameters: ["realm": "https://t"])]),
        ("Negotiate", [AuthChallenge(scheme: .other("Negotiate"), parameters: [:])]),
        ("", []),
    ] as [(String, [AuthChallenge])])
    func parses(header: String, expected: [AuthChallenge]) {
        #expect(AuthChallenge.parse(header) == expected)
    }
}

@Suite("Credential store")
final class CredentialStoreTests {
    let dir = NSTemporaryDirectory() + "berth-creds-\(UUID().uuidString)"

    deinit { try? FileManager.default.removeItem(atPath: dir) }

    func write(_ json: String, to name: String) throws -> String {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = "\(dir)/\(name)"
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func readsDockerConfigInBothShapes() throws {
        let auth = Data("alice:s3cr:et".utf8).base64EncodedString()
        let docker = try write("""
            {"auths": {"https://index.docker.io/v1/": {"auth": "\(auth)"},
                       "registry.example.com:5000": {"username": "bob", "password": "pw"}}}
            """, to: "config.json")
        let store = CredentialStore(berthAuthPath: "\(dir)/missing.json", dockerConfigPath: docker)
        #expect(try store.credentials(for: "docker.io") == RegistryCredentials(username: "alice", password: "s3cr:et"))
        #expect(try store.credentials(for: "registry.example.com:5000") == RegistryCredentials(username: "bob", password: "pw"))
        #expect(try store.credentials(for: "quay.io") == nil)
    }

    @Test func berthFileComesFirstAndSaveKeepsOtherHosts() throws {
        let docker = try write(#"{"auths": {"quay.io": {"username": "docker", "password": "d"}}}"#, to: "config.json")
        let store = CredentialStore(berthAuthPath: "\(dir)/berth/auth.json", dockerConfigPath: docker)
        try store.save(host: "quay.io", username: "berth", password: "b")
        try store.save(host: "127.0.0.1:5000", username: "local", password: "l")
        #expect(try store.credentials(for: "quay.io") == RegistryCredentials(username: "berth", password: "b"))
        #expect(try store.credentials(for: "127.0.0.1:5000") == RegistryCredentials(username: "local", password: "l"))
        let mode = try FileManager.default.attributesOfItem(atPath: "\(dir)/berth/auth.json")[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test func saysWhenACredentialHelperIsConfigured() throws {
        let docker = try write(#"{"auths": {"quay.io": {}}, "credsStore": "desktop", "credHelpers": {"gcr.io": "gcloud"}}"#, to: "config.json")
        let store = CredentialStore(berthAuthPath: "\(dir)/none.json", dockerConfigPath: docker)
        #expect(try store.credentials(for: "quay.io") == nil)
        #expect(store.unsupportedHelperNote(for: "gcr.io")?.contains("docker-credential-gcloud") == true)
        #expect(store.unsupportedHelperNote(for: "quay.io")?.contains("not support") == true)
    }

    @Test(arguments: [
        (["DOCKER_CONFIG": "/etc/dc", "HOME": "/root"], "/etc/dc/config.json"),
        (["HOME": "/home/u"], "/home/u/.docker/config.json"),
        ([:], nil),
    ] as [([String: String], String?)])
    func dockerConfigLocation(environment: [String: String], expected: String?) {
        #expect(CredentialStore.defaultDockerConfigPath(environment: environment) == expected)
    }

    @Test(arguments: [
        ("localhost", true), ("localhost:5000", true), ("127.0.0.1:5000", true), ("127.1.2.3", true),
        ("[::1]:5000", true), ("128.0.0.1", false), ("127.example.com", false), ("docker.io", false),
    ] as [(String, Bool)])
    func loopbackRegistriesUsePlainHTTP(registry: String, loopback: Bool) {
        #expect(RegistryClient.isLoopback(registry) == loopback)
    }
}
