import BerthCore
import Testing

@Suite("Fixed-point scalars")
struct ScalarTests {
    @Test func sumsAreExact() throws {
        let tenth = try #require(Scalar(parsing: "0.1"))
        let fifth = try #require(Scalar(parsing: "0.2"))
        #expect(tenth.milli == 100)
        #expect(tenth + fifth == Scalar(parsing: "0.3"))
        #expect((tenth + fifth).description == "0.3")
        var total = Scalar.zero
        for _ in 0..<10 { total += tenth }
        #expect(total == 1)
    }

    static let parsed: [(String, Int64)] = [
        ("4", 4000), ("0.1", 100), ("8192", 8_192_000), ("0.01", 10), (".5", 500), ("1.2345", 1235), ("1.2344", 1234), ("0", 0),
    ]

    @Test(arguments: parsed)
    func parsesDigitsExactly(text: String, milli: Int64) {
        #expect(Scalar(parsing: text)?.milli == milli)
    }

    @Test(arguments: ["", "-1", "1.", "abc", "1e3", "1.2.3", "99999999999999999999", " 1"])
    func refuses(text: String) {
        #expect(Scalar(parsing: text) == nil)
    }

    static let rounded: [(Double, Int64)] = [(0.1, 100), (0.30000000000000004, 300), (0.0005, 1), (1.9994, 1999), (1024, 1_024_000)]

    @Test(arguments: rounded)
    func roundsDoublesToThousandths(value: Double, milli: Int64) {
        #expect(Scalar(rounding: value)?.milli == milli)
    }

    static let printed: [(Int64, String)] = [(4000, "4"), (500, "0.5"), (10, "0.01"), (1235, "1.235"), (0, "0")]

    @Test(arguments: printed)
    func prints(milli: Int64, text: String) {
        #expect(Scalar(milli: milli).description == text)
    }
}

@Suite("Roles")
struct RoleTests {
    @Test(arguments: ["*", "eng", "eng/web", "a/b/c", "dev-ops", "team.x"])
    func accepts(name: String) throws {
        #expect(try Role(name).name == name)
    }

    @Test(arguments: ["", "/eng", "eng/", "eng//web", ".", "..", "eng/..", "eng/.", "eng/*", "-eng", "eng/-web", "my role", "tab\there", "back\\slash"])
    func refusesWithTheName(name: String) {
        do {
            _ = try Role(name)
            Issue.record("\(name) accepted")
        } catch let error as BerthError {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("\"\(name)\""))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func hierarchy() throws {
        let web = try Role("eng/web")
        let eng = try Role("eng")
        #expect(web.parent == eng)
        #expect(try Role("a/b/c").ancestors == [try Role("a/b"), try Role("a")])
        #expect(web.isSelfOrDescendant(of: eng))
        #expect(!eng.isSelfOrDescendant(of: web))
        #expect(!(try Role("engineering")).isSelfOrDescendant(of: eng))
        #expect(!web.isSelfOrDescendant(of: .default))
        #expect(Role.default.parent == nil)
    }
}
