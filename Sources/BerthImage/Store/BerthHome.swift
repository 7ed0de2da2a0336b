import Foundation

/// Where all of Berth's state lives: one directory, `/var/lib/berth` unless `--home` or
/// `BERTH_HOME` says otherwise. Every store takes its paths from here so the layout is in one place.
public struct BerthHome: Sendable, Hashable {
    public static let defaultPath = "/var/lib/berth"

    public let root: String

    public init(root: String) {
        self.root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
    }

    /// The home a command uses: the option if given, then `BERTH_HOME`, then the default.
    public static func resolve(option: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> BerthHome {
        if let option, !option.isEmpty { return BerthHome(root: option) }
        if let env = environment["BERTH_HOME"], !env.isEmpty { return BerthHome(root: env) }
        return BerthHome(root: defaultPath)
    }

    /// Blobs by digest, and partial downloads.
    public var content: String { root + "/content" }
    /// Image records: which names point at which manifests.
    public var imagesFile: String { root + "/images.json" }
    /// One unpacked layer per chain ID.
    public var snapshots: String { root + "/snapshots" }
    /// Each container's own writable part and its mounted root.
    public var containers: String { root + "/containers" }
    /// Registry credentials saved by `berth login` (Docker config.json format).
    public var authFile: String { root + "/auth.json" }
    /// Held shared by pulls, imports and container setup for as long as what they add is not yet
    /// referenced by an image record or a container, and exclusively by garbage collection: so
    /// that prune never removes what a concurrent pull or run is about to use.
    public var collectionLockFile: String { root + "/gc.lock" }
    /// Serializes rewrites of the image records.
    public var imagesLockFile: String { root + "/images.lock" }

    /// Creates the directories with owner-only access: layers may hold secrets of their images.
    public func create() throws {
        for dir in [root, content, snapshots, containers] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        }
    }
}
