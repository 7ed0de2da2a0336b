@testable import BerthAgent
import BerthCore
import Foundation
import Testing

/// The files API's reads and its refusals, without an agent: a sandboxes directory in /tmp.
struct SandboxFilesTests {
    struct Sandboxes {
        let root: String
        let files: SandboxFiles
        let stdout: String

        init() throws {
            var template = Array("/tmp/berth-files-test-XXXXXX".utf8CString)
            guard let made = mkdtemp(&template) else { throw BerthError(.system, "mkdtemp") }
            let base = String(cString: made)
            root = base + "/sandboxes"
            try FileManager.default.createDirectory(atPath: root + "/fw/task", withIntermediateDirectories: true)
            stdout = root + "/fw/task/stdout"
            try Data("hello\nworld\n".utf8).write(to: URL(fileURLWithPath: stdout))
            try Data("secret\n".utf8).write(to: URL(fileURLWithPath: base + "/outside"))
            try FileManager.default.createSymbolicLink(atPath: root + "/fw/task/escape", withDestinationPath: base + "/outside")
            try FileManager.default.createSymbolicLink(atPath: root + "/fw/task/inner", withDestinationPath: stdout)
            files = SandboxFiles(root: root)
        }

        func remove() { try? FileManager.default.removeItem(atPath: (root as NSString).deletingLastPathComponent) }
    }

    @Test func readsChunksAndTheSize() throws {
        let sandboxes = try Sandboxes()
        defer { sandboxes.remove() }
        #expect(try sandboxes.files.read(path: sandboxes.stdout, offset: -1, length: nil) == .init(data: "", offset: 12, length: 0))
        #expect(try sandboxes.files.read(path: sandboxes.stdout, offset: 0, length: nil) == .init(data: "hello\nworld\n", offset: 0, length: 12))
        #expect(try sandboxes.files.read(path: sandboxes.stdout, offset: 6, length: 3) == .init(data: "wor", offset: 6, length: 3))
        #expect(try sandboxes.files.read(path: sandboxes.stdout, offset: 20, length: nil) == .init(data: "", offset: 20, length: 0))
        // A link that stays inside the sandboxes is followed.
        #expect(try sandboxes.files.read(path: sandboxes.root + "/fw/task/inner", offset: 0, length: 5).data == "hello")
        let entries = try sandboxes.files.browse(path: sandboxes.root + "/fw/task")
        #expect(entries.map(\.path) == ["escape", "inner", "stdout"].map { sandboxes.root + "/fw/task/" + $0 })
        #expect(entries.last?.size == 12)
        #expect(entries.last?.mode == "-rw-r--r--")
    }

    @Test func refusesPathsOutsideTheSandboxes() throws {
        let sandboxes = try Sandboxes()
        defer { sandboxes.remove() }
        func code(_ path: String) -> BerthError.Code? {
            do {
                _ = try sandboxes.files.read(path: path, offset: 0, length: nil)
                return nil
            } catch let error as BerthError {
                return error.code
            } catch {
                return .system
            }
        }
        #expect(code(sandboxes.root + "/fw/task/escape") == .forbiddenPath)
        #expect(code("/etc/passwd") == .forbiddenPath)
        #expect(code(sandboxes.root + "/fw/task/../../outside") == .invalidArgument)
        #expect(code("fw/task/stdout") == .invalidArgument)
        #expect(code(sandboxes.root + "/fw/task/nothing") == .notFound)
        #expect(code(sandboxes.root + "/fw/task") == .invalidArgument)
        #expect(throws: BerthError.self) { try sandboxes.files.read(path: sandboxes.stdout, offset: -2, length: nil) }
        #expect(throws: BerthError.self) { try sandboxes.files.browse(path: sandboxes.root + "/fw/task/escape") }
    }

    @Test(arguments: [
        ([0x61, 0x62], 2),
        ([0x61, 0xC3], 1),               // é cut after its first byte
        ([0x61, 0xC3, 0xA9], 3),
        ([0x61, 0xE2, 0x82], 1),         // € cut after two bytes
        ([0xF0, 0x9F, 0x98], 0),         // an emoji cut after three
        ([0xF0, 0x9F, 0x98, 0x80], 4),
        ([0x80, 0x80, 0x80, 0x80], 4),   // not UTF-8: sent as is, replaced when decoded
    ] as [([UInt8], Int)])
    func chunksEndOnACharacterBoundary(bytes: [UInt8], kept: Int) {
        #expect(SandboxFiles.completeUTF8Prefix(bytes[...]) == kept)
    }

    @Test(arguments: [
        ("a\nb\nc\n", 2, false, 2),
        ("a\nb\nc\n", 3, false, nil),
        ("a\nb\nc\n", 3, true, 0),
        ("a\nb\nc", 1, false, 4),
        ("a\nb\nc\n", 0, false, 6),
        ("", 5, true, 0),
    ] as [(String, Int, Bool, Int?)])
    func tailFindsWhereTheLastLinesBegin(text: String, lines: Int, whole: Bool, start: Int?) {
        #expect(LogTail.start(of: Array(text.utf8), lines: lines, isWholeFile: whole) == start)
    }

    @Test(arguments: ["fw-1", "a/b", "..", ".hidden", "x y%z", "ünï", ""])
    func sandboxPathComponentsDecodeToTheirIDs(id: String) {
        #expect(AgentStore.decode(AgentStore.component(id)) == id)
    }

    @Test(arguments: [
        (0.0, 0.9), (0.5, 0.4), (0.85, 0.05), (0.9, 0.0), (0.99, 0.0),
    ] as [(Double, Double)])
    func theSandboxDelayShrinksAsTheDiskFills(usage: Double, fraction: Double) {
        let age = SandboxCollection.maximumAge(delay: .seconds(1000), diskUsage: usage, headroom: 0.1)
        #expect(abs(Double(age.components.seconds) + Double(age.components.attoseconds) / 1e18 - 1000 * fraction) < 0.001)
    }

    @Test func expiredSandboxesAreThoseInactiveForTheMaximumAge() {
        let now = Date(timeIntervalSince1970: 10_000)
        let sandboxes = [("old", now.addingTimeInterval(-3600)), ("new", now.addingTimeInterval(-60)), ("edge", now.addingTimeInterval(-600))]
            .map { (directory: $0.0, lastActive: $0.1) }
        #expect(SandboxCollection.expired(sandboxes, now: now, maximumAge: .seconds(600)) == ["old", "edge"])
        #expect(SandboxCollection.expired(sandboxes, now: now, maximumAge: .zero) == ["old", "new", "edge"])
    }

    @Test(arguments: [("10M", Int64(10 << 20)), ("512k", 512 << 10), ("1G", 1 << 30), ("2MB", 2 << 20), ("4096", 4096)])
    func logSizesParse(text: String, bytes: Int64) throws {
        #expect(try AgentConfiguration.parseSize(text, option: "--log-max-size") == bytes)
    }

    @Test(arguments: ["", "0", "-1M", "ten", "10X", "M"])
    func badLogSizesSayWhatIsExpected(text: String) {
        #expect(throws: BerthError.self) { try AgentConfiguration.parseSize(text, option: "--log-max-size") }
    }
}
