import BerthCore
import BerthOCI

/// What `berth run IMAGE` runs: the image configuration's entrypoint, cmd, env, workdir and user,
/// overridden by the user's options the way `docker run` overrides them.
public struct ImageRunSpec: Equatable, Sendable {
    public var argv: [String]
    public var env: [String]
    public var workingDirectory: String
    public var user: String?

    /// The options a user gave; nil means "not given", so the image's value applies.
    public struct Overrides: Sendable {
        /// Arguments after the image name: they replace the image's Cmd.
        public var command: [String] = []
        /// `--entrypoint`: replaces the image's Entrypoint, and drops its Cmd as Docker does.
        /// An empty string clears the entrypoint.
        public var entrypoint: String?
        public var env: [String] = []
        public var workingDirectory: String?
        public var user: String?

        public init(command: [String] = [], entrypoint: String? = nil, env: [String] = [], workingDirectory: String? = nil, user: String? = nil) {
            self.command = command
            self.entrypoint = entrypoint
            self.env = env
            self.workingDirectory = workingDirectory
            self.user = user
        }
    }

    public init(image: String, configuration: ImageConfiguration, overrides: Overrides) throws {
        let config = configuration.config ?? ImageConfiguration.Config()
        let entrypoint: [String]
        var cmd: [String]
        if let given = overrides.entrypoint {
            entrypoint = given.isEmpty ? [] : [given]
            cmd = []
        } else {
            entrypoint = config.entrypoint ?? []
            cmd = config.cmd ?? []
        }
        if !overrides.command.isEmpty { cmd = overrides.command }
        argv = entrypoint + cmd
        guard !argv.isEmpty else {
            throw BerthError(.invalidArgument, "image \(image) has no entrypoint or cmd: give the command after the image name (berth run \(image) -- CMD)")
        }
        env = Self.merge(config.env ?? [], overrides.env)
        let imageWorkdir = config.workingDir.flatMap { $0.isEmpty ? nil : $0 }
        workingDirectory = overrides.workingDirectory ?? imageWorkdir ?? "/"
        user = overrides.user ?? config.user.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The image's variables with the user's on top: same key, the user's value, in the image's place.
    static func merge(_ base: [String], _ overrides: [String]) -> [String] {
        func key(_ entry: String) -> Substring { entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[0] }
        var result = base
        for entry in overrides {
            if let index = result.firstIndex(where: { key($0) == key(entry) }) {
                result[index] = entry
            } else {
                result.append(entry)
            }
        }
        return result
    }
}
