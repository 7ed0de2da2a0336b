import BerthCore
import BerthOCI
import Foundation
import Testing

@Suite("Digests")
struct DigestTests {
    @Test func sha256OfKnownBytes() throws {
        let digest = Digest.sha256(of: Data("hello".utf8))
        #expect(digest.description == "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        #expect(try Digest(parsing: digest.description) == digest)
        #expect(digest.short == "2cf24dba5fb0")
    }

    @Test(arguments: ["", "sha256", "sha256:abc", "md5:d41d8cd98f00b204e9800998ecf8427e",
                      "sha256:2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824"])
    func refusesMalformed(text: String) {
        #expect(throws: BerthError.self) { try Digest(parsing: text) }
    }

    @Test func streamingEqualsOneShot() {
        var hasher = DigestHasher(.sha256)
        hasher.update(Data("hel".utf8))
        hasher.update(Data("lo".utf8))
        #expect(hasher.finalize() == Digest.sha256(of: Data("hello".utf8)))
    }
}

@Suite("Manifests and chain IDs")
struct ManifestTests {
    @Test func chainIDsFollowTheSpec() throws {
        let a = try Digest(parsing: "sha256:" + String(repeating: "a", count: 64))
        let b = try Digest(parsing: "sha256:" + String(repeating: "b", count: 64))
        let chain = ChainID.compute([a, b])
        #expect(chain[0] == a)
        #expect(chain[1] == Digest.sha256(of: Data("\(a) \(b)".utf8)))
    }

    @Test func decodesADockerConfig() throws {
        let json = """
            {"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin"],"Entrypoint":["/bin/app"],"User":"1000","WorkingDir":"/srv"},
             "rootfs":{"type":"layers","diff_ids":["sha256:\(String(repeating: "c", count: 64))"]}}
            """
        let config = try JSONDecoder().decode(ImageConfiguration.self, from: Data(json.utf8))
        #expect(config.config?.entrypoint == ["/bin/app"])
        #expect(config.config?.user == "1000")
        #expect(config.rootfs.diffIDs.count == 1)
        #expect(config.platform.description == "linux/amd64")
    }
}
