import BerthCore
import Testing

@Suite struct PathTextTests {
    @Test func componentsAreJoinedBySlashes() {
        #expect(PathText.join("/a//b/c/".split(separator: "/")[...]) == "a/b/c")
        #expect(PathText.join("/a/b/c".split(separator: "/").dropFirst()) == "b/c")
        #expect(PathText.join("x".split(separator: "/")[...]) == "x")
        #expect(PathText.join("/".split(separator: "/")[...]) == "")
    }

    /// The published FNV-1a 64 test vectors.
    @Test func fnv1aMatchesItsReferenceValues() {
        #expect(FNV1a.hash64([UInt8]()) == 0xcbf2_9ce4_8422_2325)
        #expect(FNV1a.hash64(Array("a".utf8)) == 0xaf63_dc4c_8601_ec8c)
        #expect(FNV1a.hash64(Array("foobar".utf8)) == 0x8594_4171_f739_67e8)
    }
}
