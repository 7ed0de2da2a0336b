import BerthCore
import BerthImage
import BerthOCI
import Testing

struct ImageRunSpecTests {
    static func configuration(entrypoint: [String]? = nil, cmd: [String]? = nil, env: [String]? = nil,
                              workdir: String? = nil, user: String? = nil) -> ImageConfiguration {
        var config = ImageConfiguration.Config()
        config.entrypoint = entrypoint
        config.cmd = cmd
        config.env = env
        config.workingDir = workdir
        config.user = user
        return ImageConfiguration(architecture: "amd64", config: config, rootfs: .init(diffIDs: []))
    }

    struct CommandCase: Sendable, CustomTestStringConvertible {
        var entrypoint: [String]?
        var cmd: [String]?
        var given: [String]
        var givenEntrypoint: String?
        var expected: [String]
        var testDescription: String { "entrypoint \(entrypoint ?? []) cmd \(cmd ?? []) given \(given) → \(expected)" }
    }

    // As `docker run`: arguments replace Cmd and keep Entrypoint; --entrypoint drops Cmd too.
    static let commandCases: [CommandCase] = [
        CommandCase(entrypoint: ["/app"], cmd: ["--serve"], given: [], givenEntrypoint: nil, expected: ["/app", "--serve"]),
        CommandCase(entrypoint: ["/app"], cmd: ["--serve"], given: ["--check"], givenEntrypoint: nil, expected: ["/app", "--check"]),
        CommandCase(entrypoint: nil, cmd: ["/bin/sh"], given: [], givenEntrypoint: nil, expected: ["/bin/sh"]),
        CommandCase(entrypoint: nil, cmd: ["/bin/sh"], given: ["/bin/echo", "hi"], givenEntrypoint: nil, expected: ["/bin/echo", "hi"]),
        CommandCase(entrypoint: ["/app"], cmd: ["--serve"], given: [], givenEntrypoint: "/bin/sh", expected: ["/bin/sh"]),
        CommandCase(entrypoint: ["/app"], cmd: ["--serve"], given: ["-c", "true"], givenEntrypoint: "/bin/sh", expected: ["/bin/sh", "-c", "true"]),
        CommandCase(entrypoint: ["/app"], cmd: nil, given: ["/bin/true"], givenEntrypoint: "", expected: ["/bin/true"]),
    ]

    @Test(arguments: commandCases)
    func commandFollowsDocker(_ row: CommandCase) throws {
        let spec = try ImageRunSpec(image: "x", configuration: Self.configuration(entrypoint: row.entrypoint, cmd: row.cmd),
                                    overrides: .init(command: row.given, entrypoint: row.givenEntrypoint))
        #expect(spec.argv == row.expected)
    }

    @Test func noCommandAnywhereIsAnError() {
        #expect {
            try ImageRunSpec(image: "127.0.0.1:5000/empty:1", configuration: Self.configuration(), overrides: .init())
        } throws: { error in
            "\(error)".contains("127.0.0.1:5000/empty:1 has no entrypoint or cmd")
        }
    }

    @Test func envMergesByKeyWithTheUsersWinning() throws {
        let spec = try ImageRunSpec(image: "x", configuration: Self.configuration(cmd: ["/a"], env: ["PATH=/bin", "MODE=prod", "EMPTY="]),
                                    overrides: .init(env: ["MODE=test", "EXTRA=1"]))
        #expect(spec.env == ["PATH=/bin", "MODE=test", "EMPTY=", "EXTRA=1"])
    }

    @Test func workdirAndUserComeFromTheImageUnlessGiven() throws {
        let image = Self.configuration(cmd: ["/a"], workdir: "/srv", user: "app:app")
        let plain = try ImageRunSpec(image: "x", configuration: image, overrides: .init())
        #expect(plain.workingDirectory == "/srv")
        #expect(plain.user == "app:app")
        let given = try ImageRunSpec(image: "x", configuration: image, overrides: .init(workingDirectory: "/tmp", user: "0"))
        #expect(given.workingDirectory == "/tmp")
        #expect(given.user == "0")
        let bare = try ImageRunSpec(image: "x", configuration: Self.configuration(cmd: ["/a"], workdir: "", user: ""), overrides: .init())
        #expect(bare.workingDirectory == "/")
        #expect(bare.user == nil)
    }
}
