import Foundation
import Glibc

/// Fixture images built with umoci from the busybox tree of rootfs/build.sh, in one OCI layout
/// per test process, and pushed to a `TestRegistry` with skopeo. Tags in the layout:
/// - `single`: busybox in one layer (linux/amd64);
/// - `multi`: `single` plus a layer that adds /hello.txt and deletes /etc/hostname (a whiteout);
/// - `configured`: `single` with entrypoint, env, working directory and a non-root user;
/// - `arm64`: `single`'s layer with a linux/arm64 configuration;
/// - `index`: an OCI index of `single` (linux/amd64) and `arm64` (linux/arm64/v8);
/// - `big` (from `bigImage()`): `single` plus a layer holding 32 MiB of random bytes.
public enum ImageFixtures {
    public static let indexTag = "index"

    /// The OCI layout directory, built on first use.
    public static func layout() throws -> String {
        try lock.withLock {
            if let built { return built }
            let dir = try TestRegistry.makeTemporaryDirectory()
            fixtureDirectory = dir
            // Tests have no global teardown: remove the layout (tens of MiB) when the process exits.
            atexit {
                if let dir = ImageFixtures.fixtureDirectory { try? FileManager.default.removeItem(atPath: dir) }
            }
            let layout = "\(dir)/layout"
            let busybox = try Fixtures.busyboxRootfs()
            try umoci(["init", "--layout", layout])
            try umoci(["new", "--image", "\(layout):single"])
            try umoci(["insert", "--image", "\(layout):single", busybox, "/"])

            let bundle = "\(dir)/bundle"
            try umoci(["unpack"] + rootless + ["--image", "\(layout):single", bundle])
            try "hello from layer 2\n".write(toFile: "\(bundle)/rootfs/hello.txt", atomically: true, encoding: .utf8)
            try FileManager.default.removeItem(atPath: "\(bundle)/rootfs/etc/hostname")
            try umoci(["repack", "--image", "\(layout):multi", bundle])
            try? FileManager.default.removeItem(atPath: bundle)

            try umoci(["config", "--image", "\(layout):single", "--tag", "configured",
                       "--config.entrypoint", "/bin/sh", "--config.env", "GREETING=hello",
                       "--config.workingdir", "/srv", "--config.user", "1000:1000"])
            try umoci(["config", "--image", "\(layout):single", "--tag", "arm64", "--architecture", "arm64"])
            try addIndex(layout: layout, tag: indexTag, entries: [
                ("single", ["os": "linux", "architecture": "amd64"]),
                ("arm64", ["os": "linux", "architecture": "arm64", "variant": "v8"]),
            ])
            built = layout
            return layout
        }
    }

    /// Adds the `big` tag to the layout (once) and returns the layout.
    public static func bigImage() throws -> String {
        let layout = try layout()
        return try lock.withLock {
            if bigBuilt { return layout }
            let dir = try TestRegistry.makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try run("/bin/dd", ["if=/dev/urandom", "of=\(dir)/random.bin", "bs=1M", "count=32", "status=none"])
            try umoci(["config", "--image", "\(layout):single", "--tag", "big"])
            try umoci(["insert", "--image", "\(layout):big", "\(dir)/random.bin", "/random.bin"])
            bigBuilt = true
            return layout
        }
    }

    /// The digest ("sha256:...") of what a tag of the layout points at.
    public static func digest(of tag: String) throws -> String {
        try descriptor(layout: layout(), tag: tag)["digest"] as? String ?? ""
    }

    /// Copies a tag of the layout to `registry` as NAME:TARGET_TAG (all platforms of an index)
    /// and returns the digest it has there (the same as in the layout: nothing is converted).
    @discardableResult
    public static func push(_ tag: String, to registry: TestRegistry, as name: String, tag targetTag: String = "latest") throws -> String {
        let layout = tag == "big" ? try bigImage() : try layout()
        var arguments = ["--insecure-policy", "copy", "--all", "--dest-tls-verify=false"]
        if let user = registry.username, let password = registry.password {
            arguments += ["--dest-creds", "\(user):\(password)"]
        }
        arguments += ["oci:\(layout):\(tag)", "docker://\(registry.host)/\(name):\(targetTag)"]
        try run(TestHost.which("skopeo") ?? "/usr/bin/skopeo", arguments)
        return try digest(of: tag)
    }

    // MARK: - Helpers

    private static let lock = NSLock()
    nonisolated(unsafe) private static var built: String?
    nonisolated(unsafe) private static var bigBuilt = false
    nonisolated(unsafe) private static var fixtureDirectory: String?

    private static var rootless: [String] { geteuid() == 0 ? [] : ["--rootless"] }

    private static func umoci(_ arguments: [String]) throws {
        try run(TestHost.which("umoci") ?? "/usr/bin/umoci", arguments)
    }

    @discardableResult
    private static func run(_ program: String, _ arguments: [String]) throws -> CommandResult {
        let result = try Fixtures.run(program, arguments)
        guard result.status == 0 else {
            throw FixtureError("\(program) \(arguments.joined(separator: " ")) failed: \(result)")
        }
        return result
    }

    private static func readIndex(_ layout: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(layout)/index.json"))
        guard let index = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw FixtureError("\(layout)/index.json is not a JSON object")
        }
        return index
    }

    private static func descriptor(layout: String, tag: String) throws -> [String: Any] {
        let manifests = try readIndex(layout)["manifests"] as? [[String: Any]] ?? []
        guard let found = manifests.last(where: { ($0["annotations"] as? [String: String])?["org.opencontainers.image.ref.name"] == tag }) else {
            throw FixtureError("tag \(tag) is not in the layout \(layout)")
        }
        return found
    }

    /// Writes an OCI index listing the tags' manifests with their platforms and tags it.
    private static func addIndex(layout: String, tag: String, entries: [(String, [String: String])]) throws {
        var manifests: [[String: Any]] = []
        for (entryTag, platform) in entries {
            var entry = try descriptor(layout: layout, tag: entryTag)
            entry["annotations"] = nil
            entry["platform"] = platform
            manifests.append(entry)
        }
        let index: [String: Any] = ["schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests]
        let data = try JSONSerialization.data(withJSONObject: index, options: [.sortedKeys])
        let temporary = "\(layout)/index.tmp"
        try data.write(to: URL(fileURLWithPath: temporary))
        let sum = try run("/usr/bin/sha256sum", [temporary]).stdout.split(separator: " ").first.map(String.init) ?? ""
        try FileManager.default.moveItem(atPath: temporary, toPath: "\(layout)/blobs/sha256/\(sum)")

        var top = try readIndex(layout)
        var list = top["manifests"] as? [[String: Any]] ?? []
        list.append(["mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:\(sum)", "size": data.count,
                     "annotations": ["org.opencontainers.image.ref.name": tag]])
        top["manifests"] = list
        try JSONSerialization.data(withJSONObject: top, options: [.sortedKeys]).write(to: URL(fileURLWithPath: "\(layout)/index.json"))
    }
}
