import BerthCore
import BerthOCI
import BerthTestSupport
import Foundation
import Testing

/// `berth image …` and `berth run IMAGE` end to end: the built binary against a real registry on
/// loopback, images built with umoci and pushed with skopeo, real overlay mounts.
@Suite(.serialized, .requiresRoot, .requiresRegistry)
struct ImageCommandTests {
    /// A Berth home in a temporary directory, removed with everything under it.
    final class Home {
        let root: String
        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("berth-e2e-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        }
        deinit {
            // A failed test must not leave overlay mounts behind that make the removal fail.
            for mount in Self.mounts(under: root) { _ = umount2(mount, Int32(MNT_DETACH)) }
            try? FileManager.default.removeItem(atPath: root)
        }

        func berth(_ command: String, _ arguments: [String]) throws -> CommandResult {
            try Fixtures.berth(command.split(separator: " ").map(String.init) + ["--home", root] + arguments)
        }

        func list(_ path: String) -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: root + "/" + path)) ?? []).sorted()
        }

        static func mounts(under path: String) -> [String] {
            let text = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap { line in
                let fields = line.split(separator: " ")
                return fields.count > 4 && fields[4].hasPrefix(path) ? String(fields[4]) : nil
            }
        }
    }

    @Test func pullByTagThenByDigestAndUnpackLikeUmoci() throws {
        let registry = try TestRegistry()
        defer { registry.stop() }
        let digest = try ImageFixtures.push("multi", to: registry, as: "e2e/multi", tag: "v1")
        let home = try Home()
        let ref = "\(registry.host)/e2e/multi:v1"
        let pulled = try home.berth("image pull", [ref])
        #expect(pulled.status == 0, "\(pulled)")
        #expect(pulled.stdout.contains(digest), "\(pulled)")
        let byDigest = try home.berth("image pull", ["\(registry.host)/e2e/multi@\(digest)"])
        #expect(byDigest.status == 0, "\(byDigest)")
        let listed = try home.berth("image ls", [])
        #expect(listed.stdout.contains("\(registry.host)/e2e/multi:v1"), "\(listed)")
        #expect(listed.stdout.contains("\(registry.host)/e2e/multi@\(digest)"), "\(listed)")

        let ours = home.root + "/unpacked"
        let unpacked = try home.berth("image unpack", [ref, ours])
        #expect(unpacked.status == 0, "\(unpacked)")
        let bundle = home.root + "/umoci-bundle"
        let umoci = try Fixtures.run(TestHost.which("umoci") ?? "/usr/bin/umoci",
                                     ["unpack", "--image", "\(try ImageFixtures.layout()):multi", bundle])
        #expect(umoci.status == 0, "\(umoci)")
        let differences = try TreeSnapshot(ours).differences(from: TreeSnapshot(bundle + "/rootfs"))
        #expect(differences.isEmpty, "berth and umoci unpacked different trees: \(differences.prefix(20))")
        #expect(!FileManager.default.fileExists(atPath: ours + "/etc/hostname"), "the whiteout was not applied")
    }

    @Test func runUsesTheImageConfigurationAndTheLimits() throws {
        let registry = try TestRegistry()
        defer { registry.stop() }
        try ImageFixtures.push("configured", to: registry, as: "e2e/configured")
        let home = try Home()
        let ref = "\(registry.host)/e2e/configured"
        // Not pulled yet: run pulls it. The image's entrypoint is /bin/sh, so arguments are its Cmd.
        let run = try Fixtures.berth(["run", "--home", home.root, "--memory", "32m", ref,
                                      "-c", "echo greeting=$GREETING; echo cwd=$(pwd); echo uid=$(id -u); echo pid=$$"])
        #expect(run.status == 0, "\(run)")
        #expect(run.values["greeting"] == "hello")
        #expect(run.values["cwd"] == "/srv")
        #expect(run.values["uid"] == "1000")
        #expect(run.values["pid"] == "1")

        let overridden = try Fixtures.berth(["run", "--home", home.root, "-e", "GREETING=bye", "-u", "0", "-w", "/tmp", ref,
                                             "-c", "echo greeting=$GREETING; echo cwd=$(pwd); echo uid=$(id -u)"])
        #expect(overridden.values["greeting"] == "bye", "\(overridden)")
        #expect(overridden.values["cwd"] == "/tmp")
        #expect(overridden.values["uid"] == "0")

        let oom = try Fixtures.berth(["run", "--home", home.root, "--memory", "32m", "--pull", "never", ref, "-c", "/bin/probe alloc 100"])
        #expect(oom.status == 137, "\(oom)")
        #expect(oom.stderr.contains("memory limit of 32 MiB reached"), "\(oom)")

        // Writes go to the container's own layer, which goes away with it.
        let write = try Fixtures.berth(["run", "--home", home.root, "-u", "0", ref, "-c", "echo x > /bin/written && ls /bin/written"])
        #expect(write.status == 0, "\(write)")
        let again = try Fixtures.berth(["run", "--home", home.root, ref, "-c", "test ! -e /bin/written"])
        #expect(again.status == 0, "a container saw another container's write: \(again)")
        #expect(home.list("containers").isEmpty, "container directories left: \(home.list("containers"))")
        #expect(Home.mounts(under: home.root).isEmpty, "mounts left: \(Home.mounts(under: home.root))")

        let missing = try Fixtures.berth(["run", "--home", home.root, "--pull", "never", "\(registry.host)/e2e/absent", "-c", "true"])
        #expect(missing.status == 125, "\(missing)")
        #expect(missing.stderr.contains("--pull never"), "\(missing)")
    }

    @Test func anInterruptedPullResumesOrRestartsAndVerifies() throws {
        let registry = try TestRegistry()
        defer { registry.stop() }
        try ImageFixtures.push("big", to: registry, as: "e2e/big")
        let home = try Home()
        let ref = "\(registry.host)/e2e/big"
        // A real kill, at whatever point the pull has reached.
        let child = try SpawnedCommand([TestHost.berthBinary, "image", "pull", "--home", home.root, ref])
        usleep(150_000)
        kill(child.pid, SIGKILL)
        _ = try child.finish()
        #expect(try home.berth("image pull", [ref]).status == 0)

        // What a kill leaves, made certain: a partial download with a good prefix, and one with a
        // corrupt prefix. The next pull must end with verified blobs either way.
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: URL(fileURLWithPath:
            home.root + "/content/blobs/sha256/" + (try inspectManifestDigest(home: home, ref: ref)))))
        guard let big = manifest.layers.max(by: { $0.size < $1.size }) else { Issue.record("no layers"); return }
        let blob = try Data(contentsOf: URL(fileURLWithPath: home.root + "/content/blobs/sha256/" + big.digest.encoded))
        #expect(try home.berth("image rm", [ref]).status == 0)
        #expect(home.list("content/blobs/sha256").isEmpty)
        for corrupt in [false, true] {
            var prefix = blob.prefix(blob.count / 2)
            if corrupt { prefix[prefix.startIndex + 1000] ^= 0xff }
            try FileManager.default.createDirectory(atPath: home.root + "/content/ingest", withIntermediateDirectories: true)
            try prefix.write(to: URL(fileURLWithPath: home.root + "/content/ingest/sha256-\(big.digest.encoded).partial"))
            var result = try home.berth("image pull", [ref])
            if corrupt && result.status != 0 {
                // A corrupt partial may fail the pull that finds it, never the next one.
                #expect(result.stderr.contains("digest"), "\(result)")
                result = try home.berth("image pull", [ref])
            }
            #expect(result.status == 0, "\(result)")
            let stored = try Data(contentsOf: URL(fileURLWithPath: home.root + "/content/blobs/sha256/" + big.digest.encoded))
            #expect(Digest.sha256(of: stored) == big.digest)
            #expect(try home.berth("image rm", [ref]).status == 0)
        }
    }

    private func inspectManifestDigest(home: Home, ref: String) throws -> String {
        let inspected = try home.berth("image inspect", [ref])
        struct Shape: Decodable { struct Record: Decodable { var manifestDigest: Digest }; var record: Record }
        return try JSONDecoder().decode(Shape.self, from: Data(inspected.stdout.utf8)).record.manifestDigest.encoded
    }

    /// A registry with e2e/single and e2e/multi, both pulled into a new home.
    private func pulledSingleAndMulti() throws -> (TestRegistry, Home) {
        let registry = try TestRegistry()
        try ImageFixtures.push("single", to: registry, as: "e2e/single")
        try ImageFixtures.push("multi", to: registry, as: "e2e/multi")
        let home = try Home()
        for name in ["single", "multi"] {
            #expect(try home.berth("image pull", ["\(registry.host)/e2e/\(name)"]).status == 0)
        }
        return (registry, home)
    }

    @Test func removeAndPruneFreeWhatNothingUses() throws {
        let (registry, home) = try pulledSingleAndMulti()
        defer { registry.stop() }
        for name in ["single", "multi"] {
            #expect(try Fixtures.berth(["run", "--home", home.root, "\(registry.host)/e2e/\(name)", "--", "/bin/true"]).status == 0)
        }
        // multi is single plus a layer: they share the first snapshot.
        #expect(home.list("snapshots").filter { $0.hasPrefix("sha256-") && !$0.hasSuffix(".lock") }.count == 2)
        let removed = try home.berth("image rm", ["\(registry.host)/e2e/multi"])
        #expect(removed.status == 0, "\(removed)")
        #expect(removed.stdout.contains("freed"), "\(removed)")
        #expect(home.list("snapshots").filter { $0.hasPrefix("sha256-") && !$0.hasSuffix(".lock") }.count == 1)
        #expect(try Fixtures.berth(["run", "--home", home.root, "--pull", "never", "\(registry.host)/e2e/single", "--", "/bin/true"]).status == 0)

        // The leftovers of a berth process that died: prune removes them.
        try FileManager.default.createDirectory(atPath: home.root + "/containers/deadbeef/upper", withIntermediateDirectories: true)
        try Data(repeating: 1, count: 1 << 20).write(to: URL(fileURLWithPath: home.root + "/containers/deadbeef/upper/junk"))
        let pruned = try home.berth("image prune", [])
        #expect(pruned.status == 0, "\(pruned)")
        #expect(pruned.stdout.contains("1 container leftovers"), "\(pruned)")
        #expect(home.list("containers").isEmpty)
        #expect(try home.berth("image rm", ["\(registry.host)/e2e/single"]).status == 0)
        #expect(home.list("content/blobs/sha256").isEmpty)
        #expect(home.list("snapshots").filter { $0.hasPrefix("sha256-") }.isEmpty)
    }

    @Test func pruneByAgeKeepsWhatContainersStartedFromLately() throws {
        let (registry, home) = try pulledSingleAndMulti()
        defer { registry.stop() }
        Thread.sleep(forTimeInterval: 2.2)
        #expect(try Fixtures.berth(["run", "--home", home.root, "--pull", "never", "\(registry.host)/e2e/single", "--", "/bin/true"]).status == 0)
        let images = try String(contentsOfFile: home.root + "/images.json", encoding: .utf8)
        #expect(images.contains("lastUsed"), "\(images)")
        let pruned = try home.berth("image prune", ["--unused-for", "2s"])
        #expect(pruned.status == 0, "\(pruned)")
        #expect(pruned.stdout.contains("removed \(registry.host)/e2e/multi"), "\(pruned)")
        #expect(!pruned.stdout.contains("e2e/single"), "\(pruned)")
        #expect(try Fixtures.berth(["run", "--home", home.root, "--pull", "never", "\(registry.host)/e2e/single", "--", "/bin/true"]).status == 0)
        let invalid = try home.berth("image prune", ["--min-free", "150%"])
        #expect(invalid.status == 125)
        #expect(invalid.stderr.contains("between 0 and 100"), "\(invalid)")
    }

    @Test func importsAnOCILayoutAndADockerSaveArchive() throws {
        let home = try Home()
        let layout = try ImageFixtures.layout()
        let imported = try home.berth("image import", ["--name", "local/fixture", layout])
        #expect(imported.status == 0, "\(imported)")
        #expect(imported.stdout.contains("local/fixture:configured"), "\(imported)")
        let run = try Fixtures.berth(["run", "--home", home.root, "local/fixture:configured", "-c", "echo greeting=$GREETING"])
        #expect(run.values["greeting"] == "hello", "\(run)")

        // docker save's classic format, made from the same image: config + uncompressed layer tars.
        let save = home.root + "/save"
        try FileManager.default.createDirectory(atPath: save + "/layer0", withIntermediateDirectories: true)
        let inspected = try home.berth("image inspect", ["local/fixture:single"])
        struct Shape: Decodable { var manifest: Manifest; var record: ImageRecordShape }
        struct ImageRecordShape: Decodable { var configDigest: Digest }
        let shape = try JSONDecoder().decode(Shape.self, from: Data(inspected.stdout.utf8))
        let blobs = home.root + "/content/blobs/sha256/"
        try FileManager.default.copyItem(atPath: blobs + shape.record.configDigest.encoded, toPath: save + "/config.json")
        guard let layer = shape.manifest.layers.first else { Issue.record("no layer"); return }
        let unzip = try Fixtures.run("/bin/sh", ["-c", "gzip -dc < \(blobs)\(layer.digest.encoded) > \(save)/layer0/layer.tar"])
        #expect(unzip.status == 0, "\(unzip)")
        try Data(#"[{"Config":"config.json","RepoTags":["saved/busybox:1"],"Layers":["layer0/layer.tar"]}]"#.utf8)
            .write(to: URL(fileURLWithPath: save + "/manifest.json"))
        let tar = try Fixtures.run("/bin/tar", ["-C", save, "-cf", home.root + "/save.tar", "."])
        #expect(tar.status == 0, "\(tar)")
        let loaded = try home.berth("image import", [home.root + "/save.tar"])
        #expect(loaded.status == 0, "\(loaded)")
        let ran = try Fixtures.berth(["run", "--home", home.root, "saved/busybox:1", "--", "/bin/echo", "saved-ok"])
        #expect(ran.stdout.contains("saved-ok"), "\(ran)")
    }

    @Test func loginThenPullAndPushWithBasicAuth() throws {
        let registry = try TestRegistry(username: "ci", password: "s3cret")
        defer { registry.stop() }
        try ImageFixtures.push("single", to: registry, as: "private/single")
        let home = try Home()
        let ref = "\(registry.host)/private/single"
        let refused = try home.berth("image pull", [ref])
        #expect(refused.status != 0, "\(refused)")
        #expect(refused.stderr.contains("berth login"), "\(refused)")
        let wrong = try Fixtures.berth(["login", "--home", home.root, "-u", "ci", "--password-stdin", registry.host], stdin: "wrong\n")
        #expect(wrong.status == 0, "\(wrong)")
        let denied = try home.berth("image pull", [ref])
        #expect(denied.stderr.contains("refused the credentials"), "\(denied)")
        let login = try Fixtures.berth(["login", "--home", home.root, "-u", "ci", "--password-stdin", registry.host], stdin: "s3cret\n")
        #expect(login.status == 0, "\(login)")
        let pulled = try home.berth("image pull", [ref])
        #expect(pulled.status == 0, "\(pulled)")

        // Push a local image, and an OCI layout straight from disk, then pull both back.
        let pushed = try home.berth("image push", [ref, "\(registry.host)/private/copy:2"])
        #expect(pushed.status == 0, "\(pushed)")
        let example = try Fixtures.run("/bin/bash", [TestHost.packageRoot.appendingPathComponent("rootfs/image.sh").path])
        #expect(example.status == 0, "\(example)")
        let layoutPush = try home.berth("image push", [example.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "\(registry.host)/private/example:1"])
        #expect(layoutPush.status == 0, "\(layoutPush)")
        let missing = try home.berth("image push", [home.root + "/no-such-layout", "\(registry.host)/private/none:1"])
        #expect(missing.status != 0 && missing.stderr.contains("neither a local image nor a file"), "\(missing)")
        let other = try Home()
        let copied = try other.berth("image pull", ["\(registry.host)/private/copy:2"])
        #expect(copied.status != 0, "a second home has no credentials yet: \(copied)")
        #expect(try Fixtures.berth(["login", "--home", other.root, "-u", "ci", "--password-stdin", registry.host], stdin: "s3cret\n").status == 0)
        let back = try other.berth("image pull", ["\(registry.host)/private/copy:2"])
        #expect(back.status == 0, "\(back)")
        let exampleBack = try Fixtures.berth(["run", "--home", other.root, "\(registry.host)/private/example:1"])
        #expect(exampleBack.stdout.contains("hello from"), "\(exampleBack)")
        let original = try home.berth("image inspect", [ref]).stdout
        let copy = try other.berth("image inspect", ["\(registry.host)/private/copy:2"]).stdout
        struct Shape: Decodable { struct Record: Decodable { var manifestDigest: Digest }; var record: Record }
        #expect(try JSONDecoder().decode(Shape.self, from: Data(original.utf8)).record.manifestDigest
                == JSONDecoder().decode(Shape.self, from: Data(copy.utf8)).record.manifestDigest)
    }

    @Test func theCopyDriverServesWhereOverlayfsCannot() throws {
        let home = try Home()
        // What Berth writes when its scratch overlay mount fails: full trees instead of diffs.
        try FileManager.default.createDirectory(atPath: home.root + "/snapshots", withIntermediateDirectories: true)
        try Data("copy".utf8).write(to: URL(fileURLWithPath: home.root + "/snapshots/driver"))
        #expect(try home.berth("image import", ["--name", "local/fixture", try ImageFixtures.layout()]).status == 0)
        let run = try Fixtures.berth(["run", "--home", home.root, "local/fixture:multi", "--", "/bin/sh", "-c",
                                      "cat /hello.txt; test -e /etc/hostname.orig || echo whiteout-ok; touch /mine"])
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("hello from layer 2"), "\(run)")
        #expect(home.list("containers").isEmpty)
        #expect(Home.mounts(under: home.root).isEmpty)
        // The second snapshot is a whole tree: the busybox files and layer 2's file together.
        let snapshots = home.list("snapshots").filter { $0.hasPrefix("sha256-") }
        let full = snapshots.filter { FileManager.default.fileExists(atPath: "\(home.root)/snapshots/\($0)/fs/hello.txt") }
        #expect(full.count == 1 && FileManager.default.fileExists(atPath: "\(home.root)/snapshots/\(full[0])/fs/bin/busybox"))
    }

    @Test func aHostileLayerIsRejectedAndNothingLeaksOrLingers() throws {
        let home = try Home()
        let sentinel = home.root + "/outside"
        try FileManager.default.createDirectory(atPath: sentinel, withIntermediateDirectories: true)
        // Layer 1 plants a symlink pointing out of the root; layer 2 writes through it.
        var first = TarBuilder()
        first.directory("bin")
        first.symlink("escape", to: "../../../../../../../../\(sentinel.dropFirst())")
        first.end()
        var second = TarBuilder()
        second.file("escape/pwned", "gotcha")
        second.end()
        let layout = try HostileLayout.write(layers: [first.finished(), second.finished()], under: home.root + "/hostile-layout")
        #expect(try home.berth("image import", ["--name", "bad/escape", layout]).status == 0)
        let run = try Fixtures.berth(["run", "--home", home.root, "bad/escape:latest", "--", "/bin/true"])
        #expect(run.status == 125, "\(run)")
        #expect(run.stderr.contains("layer 2/2"), "\(run)")
        #expect(run.stderr.contains("escape/pwned"), "\(run)")
        #expect(home.list("outside").isEmpty, "a file was written outside the root")
        #expect(home.list("snapshots").filter { $0.hasPrefix(".tmp-") }.isEmpty, "a half-made snapshot was left")
        #expect(home.list("containers").isEmpty)
        let unpack = try home.berth("image unpack", ["bad/escape:latest", home.root + "/target"])
        #expect(unpack.status != 0, "\(unpack)")
        #expect(home.list("outside").isEmpty)
    }
}

/// An OCI layout with the given uncompressed layers, named `latest`.
enum HostileLayout {
    static func write(layers: [[UInt8]], under dir: String) throws -> String {
        let blobs = dir + "/blobs/sha256"
        try FileManager.default.createDirectory(atPath: blobs, withIntermediateDirectories: true)
        func put(_ data: Data) throws -> Digest {
            let digest = Digest.sha256(of: data)
            try data.write(to: URL(fileURLWithPath: blobs + "/" + digest.encoded))
            return digest
        }
        var descriptors: [Descriptor] = []
        for layer in layers {
            let data = Data(layer)
            descriptors.append(Descriptor(mediaType: MediaType.ociLayer, digest: try put(data), size: Int64(data.count)))
        }
        var config = ImageConfiguration.Config()
        config.cmd = ["/bin/true"]
        let configuration = ImageConfiguration(architecture: "amd64", config: config, rootfs: .init(diffIDs: descriptors.map(\.digest)))
        let configData = try JSONEncoder().encode(configuration)
        let manifest = Manifest(config: Descriptor(mediaType: MediaType.ociConfig, digest: try put(configData), size: Int64(configData.count)),
                                layers: descriptors)
        let manifestData = try JSONEncoder().encode(manifest)
        let index = ImageIndex(manifests: [Descriptor(mediaType: MediaType.ociManifest, digest: try put(manifestData), size: Int64(manifestData.count),
                                                      annotations: ["org.opencontainers.image.ref.name": "latest"])])
        try JSONEncoder().encode(index).write(to: URL(fileURLWithPath: dir + "/index.json"))
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: URL(fileURLWithPath: dir + "/oci-layout"))
        return dir
    }
}
