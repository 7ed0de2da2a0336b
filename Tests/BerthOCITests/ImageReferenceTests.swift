import BerthCore
import BerthOCI
import Testing

@Suite("Image references")
struct ImageReferenceTests {
    static let hex = String(repeating: "ab", count: 32)

    struct Case: Sendable, CustomTestStringConvertible {
        var text: String
        var registry: String
        var repository: String
        var tag: String?
        var digest: String?
        var full: String
        var familiar: String
        var apiHost: String
        var testDescription: String { text }
    }

    static let valid: [Case] = [
        Case(text: "busybox", registry: "docker.io", repository: "library/busybox", tag: "latest",
             full: "docker.io/library/busybox:latest", familiar: "busybox", apiHost: "registry-1.docker.io"),
        Case(text: "busybox:1.36", registry: "docker.io", repository: "library/busybox", tag: "1.36",
             full: "docker.io/library/busybox:1.36", familiar: "busybox", apiHost: "registry-1.docker.io"),
        Case(text: "library/busybox", registry: "docker.io", repository: "library/busybox", tag: "latest",
             full: "docker.io/library/busybox:latest", familiar: "busybox", apiHost: "registry-1.docker.io"),
        Case(text: "user/app:v1", registry: "docker.io", repository: "user/app", tag: "v1",
             full: "docker.io/user/app:v1", familiar: "user/app", apiHost: "registry-1.docker.io"),
        Case(text: "docker.io/busybox", registry: "docker.io", repository: "library/busybox", tag: "latest",
             full: "docker.io/library/busybox:latest", familiar: "busybox", apiHost: "registry-1.docker.io"),
        Case(text: "index.docker.io/library/busybox", registry: "docker.io", repository: "library/busybox", tag: "latest",
             full: "docker.io/library/busybox:latest", familiar: "busybox", apiHost: "registry-1.docker.io"),
        Case(text: "quay.io/org/app", registry: "quay.io", repository: "org/app", tag: "latest",
             full: "quay.io/org/app:latest", familiar: "quay.io/org/app", apiHost: "quay.io"),
        Case(text: "localhost/app", registry: "localhost", repository: "app", tag: "latest",
             full: "localhost/app:latest", familiar: "localhost/app", apiHost: "localhost"),
        Case(text: "localhost:5000/a/b/c:t_1.x-y", registry: "localhost:5000", repository: "a/b/c", tag: "t_1.x-y",
             full: "localhost:5000/a/b/c:t_1.x-y", familiar: "localhost:5000/a/b/c", apiHost: "localhost:5000"),
        Case(text: "127.0.0.1:5000/app@sha256:\(hex)", registry: "127.0.0.1:5000", repository: "app", tag: nil,
             digest: "sha256:\(hex)", full: "127.0.0.1:5000/app@sha256:\(hex)", familiar: "127.0.0.1:5000/app", apiHost: "127.0.0.1:5000"),
        Case(text: "busybox:1.36@sha256:\(hex)", registry: "docker.io", repository: "library/busybox", tag: "1.36",
             digest: "sha256:\(hex)", full: "docker.io/library/busybox:1.36@sha256:\(hex)", familiar: "busybox", apiHost: "registry-1.docker.io"),
        Case(text: "MyHost/app", registry: "MyHost", repository: "app", tag: "latest",
             full: "MyHost/app:latest", familiar: "MyHost/app", apiHost: "MyHost"),
        Case(text: "[::1]:5000/app", registry: "[::1]:5000", repository: "app", tag: "latest",
             full: "[::1]:5000/app:latest", familiar: "[::1]:5000/app", apiHost: "[::1]:5000"),
        Case(text: "my-registry.example.com/a.b/c__d/e---f", registry: "my-registry.example.com", repository: "a.b/c__d/e---f",
             tag: "latest", full: "my-registry.example.com/a.b/c__d/e---f:latest",
             familiar: "my-registry.example.com/a.b/c__d/e---f", apiHost: "my-registry.example.com"),
    ]

    @Test(arguments: valid)
    func parses(_ c: Case) throws {
        let ref = try ImageReference(parsing: c.text)
        #expect(ref.registry == c.registry)
        #expect(ref.repository == c.repository)
        #expect(ref.tag == c.tag)
        #expect(ref.digest?.description == c.digest)
        #expect(ref.description == c.full)
        #expect(ref.familiarName == c.familiar)
        #expect(ref.apiHost == c.apiHost)
        // The full form parses back to the same reference.
        #expect(try ImageReference(parsing: ref.description) == ref)
    }

    /// Bad references, and a word the error must contain to point at the bad part.
    @Test(arguments: [
        ("", "empty"),
        ("Busybox", "lowercase"),
        ("quay.io/Org/app", "lowercase"),
        ("busybox:", "tag"),
        ("busybox:-x", "tag"),
        ("busybox:" + String(repeating: "t", count: 129), "tag"),
        ("busybox:a/b", "port"),
        ("bad..name", "path component"),
        ("-app", "path component"),
        ("app_", "path component"),
        ("a///b", "path component"),
        ("quay.io/", "empty"),
        ("host:99999/app", "port"),
        ("bad_host.io/app", "registry"),
        ("busybox@sha256:abc", "digest"),
        ("busybox@md5:\(String(repeating: "a", count: 32))", "digest"),
        ("a/" + String(repeating: "b", count: 260), "longer than"),
    ] as [(String, String)])
    func refuses(text: String, mentioning: String) {
        let error = #expect(throws: BerthError.self) { try ImageReference(parsing: text) }
        #expect(error?.message.contains(mentioning) == true, "\(error?.message ?? "")")
    }

    @Test func familiarStringAndTagChange() throws {
        let ref = try ImageReference(parsing: "docker.io/library/busybox")
        #expect(ref.familiarString == "busybox:latest")
        let other = try ref.withTag("1.36")
        #expect(other.description == "docker.io/library/busybox:1.36")
        #expect(try ImageReference(parsing: "app@sha256:\(Self.hex)").manifestReference == "sha256:\(Self.hex)")
    }
}

@Suite("Platform matching")
struct PlatformMatchingTests {
    @Test(arguments: [
        ("linux/amd64", "linux/amd64", true),
        ("linux/amd64", "linux/arm64", false),
        ("linux/arm64/v8", "linux/arm64", true),
        ("linux/arm64", "linux/arm64/v8", true),
        ("linux/arm/v7", "linux/arm/v6", true),
        ("linux/arm/v6", "linux/arm/v7", false),
        ("linux/arm", "linux/arm/v7", true),
        ("linux/amd64", "windows/amd64", false),
        ("linux/s390x", "linux/amd64", false),
        ("linux/amd64", "linux/x86_64", true),
    ] as [(String, String, Bool)])
    func matches(wanted: String, candidate: String, expected: Bool) throws {
        let want = try #require(Platform(parsing: wanted))
        let have = try #require(Platform(parsing: candidate))
        #expect((want.matchRank(of: have) != nil) == expected)
    }

    @Test func exactVariantRanksFirst() throws {
        let want = try #require(Platform(parsing: "linux/arm/v7"))
        let exact = try #require(want.matchRank(of: Platform(os: "linux", architecture: "arm", variant: "v7")))
        let older = try #require(want.matchRank(of: Platform(os: "linux", architecture: "arm", variant: "v5")))
        #expect(exact < older)
    }
}
