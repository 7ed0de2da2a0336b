import BerthCore
import BerthImage
import BerthOCI
import Foundation
import Testing

struct ImageStoreTests {
    static func record(_ name: String, config: String) throws -> ImageRecord {
        let digest = Digest.sha256(of: Data(name.utf8))
        return ImageRecord(name: name, digest: digest, manifestDigest: digest, configDigest: Digest.sha256(of: Data(config.utf8)),
                           platform: "linux/amd64", size: 10, created: nil)
    }

    static func temporaryHome() throws -> BerthHome {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("berth-home-\(UUID().uuidString)").path
        return BerthHome(root: dir)
    }

    @Test func putFindReplaceRemove() throws {
        let home = try Self.temporaryHome()
        defer { try? FileManager.default.removeItem(atPath: home.root) }
        let store = ImageStore(home: home)
        let a = try Self.record("docker.io/library/busybox:latest", config: "a")
        let b = try Self.record("127.0.0.1:5000/app:1", config: "b")
        try store.put(a)
        try store.put(b)
        #expect(try store.all().map(\.name) == ["127.0.0.1:5000/app:1", "docker.io/library/busybox:latest"])
        #expect(try store.find("busybox", normalize: { _ in "docker.io/library/busybox:latest" }) == a)
        #expect(try store.find(String(b.configDigest.encoded.prefix(6))) == b)
        #expect(try store.find(a.digest.description) == a)
        #expect(try store.find("nothing") == nil)
        let newer = try Self.record("127.0.0.1:5000/app:1", config: "c")
        #expect(try store.put(newer) == b)
        #expect(try store.all().count == 2)
        #expect(try store.remove(names: ["127.0.0.1:5000/app:1"]) == [newer])
        #expect(try store.all() == [a])
    }

    @Test func aCorruptListSaysWhatToDo() throws {
        let home = try Self.temporaryHome()
        defer { try? FileManager.default.removeItem(atPath: home.root) }
        try home.create()
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: home.imagesFile))
        #expect {
            try ImageStore(home: home).all()
        } throws: { error in
            "\(error)".contains("is not a valid image list") && "\(error)".contains("move it aside")
        }
    }

    @Test(arguments: [
        ("/var/lib/x/", nil as String?, "/var/lib/x"),
        (nil as String?, "/srv/berth", "/srv/berth"),
        (nil as String?, nil as String?, "/var/lib/berth"),
    ] as [(String?, String?, String)])
    func homeResolution(option: String?, environment: String?, expected: String) {
        let env = environment.map { ["BERTH_HOME": $0] } ?? [:]
        #expect(BerthHome.resolve(option: option, environment: env).root == expected)
    }
}
