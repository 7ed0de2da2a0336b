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
