import Testing
@testable import BerthImage

@Suite struct EntryPathTests {
    @Test(arguments: [
        ("etc/passwd", "etc/passwd"),
        ("./etc//passwd/", "etc/passwd"),
        ("/etc/passwd", "etc/passwd"),
        ("a/b/../c", "a/c"),
        ("a/..", ""),
        ("./", ""),
        ("/", ""),
        ("...", "..."),
        (".wh..wh..opq", ".wh..wh..opq"),
    ])
    func cleansNames(_ name: String, _ expected: String) throws {
        let components = try EntryPath.components(of: Array(name.utf8))
        #expect(String(decoding: EntryPath.join(components), as: UTF8.self) == expected)
    }

    @Test(arguments: ["..", "../x", "a/../../x", "/../etc/passwd", "a/b/../../..", "./.."])
    func rejectsClimbingNames(_ name: String) {
        #expect(throws: EntryPath.Problem.climbsOut) { try EntryPath.components(of: Array(name.utf8)) }
    }

    @Test func rejectsNUL() {
        #expect(throws: EntryPath.Problem.containsNUL) { try EntryPath.components(of: Array("a\u{0}/b".utf8)) }
    }

    @Test(arguments: [
        ("../lib", ["..", "lib"]),
        ("/usr/./lib/", ["usr", "lib"]),
        ("a/../b", ["a", "..", "b"]),
    ])
    func splitsLinkTargetsKeepingDotDot(_ target: String, _ expected: [String]) {
        #expect(EntryPath.linkComponents(of: Array(target.utf8)).map { String(decoding: $0, as: UTF8.self) } == expected)
    }
}
