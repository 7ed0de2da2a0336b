import BerthCore
import BerthOCI
import Foundation
import Testing
@testable import BerthImage

/// One archive and what the reader must make of it.
struct ReaderCase: CustomTestStringConvertible, Sendable {
    struct Expected: Sendable {
        var name: String
        var kind: TarEntry.Kind
        var content: String = ""
        var linkName: String = ""
        var uid: Int = 0
        var mtime = TarTime(seconds: Int64(TarBuilder.defaultTime), nanoseconds: 0)
        var xattrs: [String: String] = [:]
    }

    var testDescription: String
    var build: @Sendable (inout TarBuilder) -> Void
    var expected: [Expected]
}


private let longName = String(repeating: "d", count: 120) + "/" + String(repeating: "f", count: 150)

@Suite struct TarReaderTests {
    static let cases: [ReaderCase] = [
        ReaderCase(testDescription: "ustar: file, directory, symlink, hardlink, fifo", build: { tar in
            tar.directory("etc/")
            tar.file("etc/hosts", "127.0.0.1 localhost\n", uid: 1000)
            tar.symlink("etc/link", to: "hosts")
            tar.hardlink("etc/hard", to: "etc/hosts")
            tar.fifo("run.fifo")
        }, expected: [
            .init(name: "etc/", kind: .directory),
            .init(name: "etc/hosts", kind: .file, content: "127.0.0.1 localhost\n", uid: 1000),
            .init(name: "etc/link", kind: .symlink, linkName: "hosts"),
            .init(name: "etc/hard", kind: .hardlink, linkName: "etc/hosts"),
            .init(name: "run.fifo", kind: .fifo),
        ]),
        ReaderCase(testDescription: "ustar prefix field extends the name", build: { tar in
            tar.header(name: "name.txt", type: "0", size: 2, prefix: "some/long/prefix")
            tar.payload(Array("hi".utf8))
        }, expected: [.init(name: "some/long/prefix/name.txt", kind: .file, content: "hi")]),
        ReaderCase(testDescription: "pax: long path and linkpath, xattrs, fractional mtime, uid", build: { tar in
            tar.pax([("path", longName), ("mtime", "1700000000.123456789"), ("uid", "3000000000"),
                     ("SCHILY.xattr.user.color", "blue"), ("LIBARCHIVE.xattr.user.b64", "aGVsbG8=")])
            tar.file("short-name", "x")
            tar.pax([("linkpath", longName)])
            tar.symlink("s", to: "ignored")
        }, expected: [
            .init(name: longName, kind: .file, content: "x", uid: 3_000_000_000,
                  mtime: TarTime(seconds: 1_700_000_000, nanoseconds: 123_456_789),
                  xattrs: ["user.color": "blue", "user.b64": "hello"]),
            .init(name: "s", kind: .symlink, linkName: longName),
        ]),
        ReaderCase(testDescription: "pax global header applies to every later entry", build: { tar in
            tar.pax([("uid", "42")], global: true)
            tar.file("a", "1")
            tar.file("b", "2")
        }, expected: [
            .init(name: "a", kind: .file, content: "1", uid: 42),
            .init(name: "b", kind: .file, content: "2", uid: 42),
        ]),
        ReaderCase(testDescription: "GNU long name and long link, base-256 size", build: { tar in
            tar.gnuLong("L", longName)
            tar.header(name: "truncated", type: "0", size: 5, format: .gnu, base256Size: true)
            tar.payload(Array("12345".utf8))
            tar.gnuLong("K", longName)
            tar.header(name: "l", type: "2", linkName: "short", format: .gnu)
        }, expected: [
            .init(name: longName, kind: .file, content: "12345"),
            .init(name: "l", kind: .symlink, linkName: longName),
        ]),
        ReaderCase(testDescription: "size field of a directory is ignored", build: { tar in
            tar.header(name: "d/", type: "5", size: 1000)
            tar.file("d/f", "after")
        }, expected: [
            .init(name: "d/", kind: .directory),
            .init(name: "d/f", kind: .file, content: "after"),
        ]),
    ]

    @Test(arguments: cases)
    func readsEntries(_ testCase: ReaderCase) throws {
        var tar = TarBuilder()
        testCase.build(&tar)
        let scratch = try ScratchDirectory()
        let bytes = tar.finished()
        let archive = try ReadArchive.read(try scratch.write("a.tar", bytes), .none)
        #expect(archive.entries.count == testCase.expected.count)
        for (entry, expected) in zip(archive.entries, testCase.expected) {
            #expect(entry.displayName == expected.name)
            #expect(entry.kind == expected.kind)
            #expect(String(decoding: entry.linkName, as: UTF8.self) == expected.linkName)
            #expect(archive.contents[entry.displayName].map { String(decoding: $0, as: UTF8.self) } == expected.content)
            #expect(entry.uid == expected.uid)
            #expect(entry.modificationTime == expected.mtime)
            let xattrs = Dictionary(entry.xattrs.map { ($0.name, String(decoding: $0.value, as: UTF8.self)) }, uniquingKeysWith: { $1 })
            #expect(xattrs == expected.xattrs)
        }
        #expect(archive.diffID == Digest.sha256(of: bytes))
    }

    struct BrokenCase: CustomTestStringConvertible, Sendable {
        var testDescription: String
        var bytes: @Sendable () -> [UInt8]
        var message: String
    }

    static let broken: [BrokenCase] = [
        BrokenCase(testDescription: "bad header checksum", bytes: {
            var tar = TarBuilder()
            tar.header(name: "a", type: "0", corruptChecksum: true)
            return tar.finished()
        }, message: "wrong checksum"),
        BrokenCase(testDescription: "ends inside a file's content", bytes: {
            var tar = TarBuilder()
            tar.file("big", String(repeating: "x", count: 3000))
            return Array(tar.bytes.prefix(512 + 1024))
        }, message: "truncated: it ends inside entry \"big\""),
        BrokenCase(testDescription: "ends inside a header block", bytes: {
            var tar = TarBuilder()
            tar.file("a", "1")
            return tar.bytes + [UInt8](repeating: 0x41, count: 100)
        }, message: "truncated"),
        BrokenCase(testDescription: "ends after a pax header", bytes: {
            var tar = TarBuilder()
            tar.pax([("path", "x")])
            return tar.bytes
        }, message: "truncated"),
        BrokenCase(testDescription: "GNU sparse entry", bytes: {
            var tar = TarBuilder()
            tar.header(name: "sparse", type: "S", format: .gnu)
            return tar.finished()
        }, message: "unsupported tar entry type"),
        BrokenCase(testDescription: "pax GNU sparse records", bytes: {
            var tar = TarBuilder()
            tar.pax([("GNU.sparse.major", "1")])
            tar.file("s", "")
            return tar.finished()
        }, message: "unsupported tar entry type"),
        BrokenCase(testDescription: "unknown entry type", bytes: {
            var tar = TarBuilder()
            tar.header(name: "vol", type: "V", format: .gnu)
            return tar.finished()
        }, message: "unsupported tar entry type"),
        BrokenCase(testDescription: "not octal", bytes: {
            var bytes = TarBuilder().finished()
            bytes.replaceSubrange(0..<512, with: Array(repeating: 0x7a, count: 512))
            return bytes
        }, message: "not an octal number"),
    ]

    @Test(arguments: broken)
    func rejectsBrokenArchives(_ testCase: BrokenCase) throws {
        let scratch = try ScratchDirectory()
        let path = try scratch.write("a.tar", testCase.bytes())
        do {
            _ = try ReadArchive.read(path, .none)
            Issue.record("read a broken archive without error")
        } catch let failure as LayerFailure {
            #expect(failure.message.contains(testCase.message), "\(failure.message)")
        }
    }

    /// Content that spans several 4 KiB chunks, so entries straddle chunk boundaries.
    static func mixedArchive() -> [UInt8] {
        var tar = TarBuilder()
        tar.directory("data/")
        for i in 0..<20 {
            tar.file("data/file\(i)", String(repeating: "line \(i)\n", count: i * 97))
        }
        return tar.finished() + [UInt8](repeating: 0, count: 4096)  // trailing zeros count too
    }

    @Test(arguments: [LayerCompression.none, .gzip, .zstd])
    func decompressesAndHashesTheTarStream(_ compression: LayerCompression) throws {
        let scratch = try ScratchDirectory()
        let bytes = Self.mixedArchive()
        let blob = try Compressor.compress(try scratch.write("a.tar", bytes), compression)
        let archive = try ReadArchive.read(blob, compression)
        #expect(archive.entries.count == 21)
        #expect(archive.contents["data/file19"] == Array(String(repeating: "line 19\n", count: 19 * 97).utf8))
        #expect(archive.diffID == Digest.sha256(of: bytes))
    }

    @Test func readsConcatenatedGzipMembers() throws {
        let scratch = try ScratchDirectory()
        let bytes = Self.mixedArchive()
        let half = bytes.count / 2
        let first = try Compressor.compress(try scratch.write("one", Array(bytes[..<half])), .gzip)
        let second = try Compressor.compress(try scratch.write("two", Array(bytes[half...])), .gzip)
        try Compressor.shell("cat '\(first)' '\(second)' > '\(scratch.path)/both.gz'")
        let archive = try ReadArchive.read(scratch.path + "/both.gz", .gzip)
        #expect(archive.entries.count == 21)
        #expect(archive.diffID == Digest.sha256(of: bytes))
    }

    @Test(arguments: [LayerCompression.gzip, .zstd])
    func rejectsTruncatedCompressedStreams(_ compression: LayerCompression) throws {
        let scratch = try ScratchDirectory()
        let blob = try Compressor.compress(try scratch.write("a.tar", Self.mixedArchive()), compression)
        let data = try Data(contentsOf: URL(fileURLWithPath: blob))
        let cut = try scratch.write("cut", Array(data.prefix(data.count / 2)))
        do {
            _ = try ReadArchive.read(cut, compression)
            Issue.record("read a truncated \(compression) stream without error")
        } catch let failure as LayerFailure {
            #expect(failure.message.contains("truncated"), "\(failure.message)")
        }
    }
}
