import BerthCore
import BerthOCI
import BerthTestSupport
import Foundation
import Glibc
import Logging
@testable import BerthImage

/// A temporary directory removed when the test ends.
final class ScratchDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/berth-unpack-test.XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw FixtureError("mkdtemp: errno \(errno)")
        }
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let file = path + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }
}

enum Compressor {
    /// Compresses a file with the gzip or zstd command; returns the new file's path.
    static func compress(_ file: String, _ compression: LayerCompression) throws -> String {
        switch compression {
        case .none:
            return file
        case .gzip:
            try shell("gzip -c -n '\(file)' > '\(file).gz'")
            return file + ".gz"
        case .zstd:
            try shell("zstd -q -c '\(file)' > '\(file).zst'")
            return file + ".zst"
        }
    }

    static func shell(_ command: String) throws {
        let result = try Fixtures.run("/bin/sh", ["-c", command])
        guard result.status == 0 else { throw FixtureError("\(command): \(result)") }
    }
}

/// What the tar reader saw: the entries and each file's content.
struct ReadArchive {
    var entries: [TarEntry] = []
    var contents: [String: [UInt8]] = [:]
    var diffID: Digest?

    static func read(_ path: String, _ compression: LayerCompression, maxBytes: Int64 = 1 << 40) throws -> ReadArchive {
        let file = try FileStream(path: path)
        let source: any ChunkSource
        switch compression {
        case .none: source = SerialChunks(file, chunkSize: 4096)
        case .gzip: source = PrefetchedChunks(try GzipStream(file), chunkSize: 4096)
        case .zstd: source = PrefetchedChunks(try ZstdStream(file), chunkSize: 4096)
        }
        defer { source.finish() }
        let reader = TarReader(source: source, maxBytes: maxBytes)
        var result = ReadArchive()
        while let entry = try reader.next() {
            var data: [UInt8] = []
            try reader.readContent { data += $0 }
            result.entries.append(entry)
            result.contents[entry.displayName] = data
        }
        result.diffID = try reader.finish()
        return result
    }
}

extension LayerUnpacker {
    static let test = LayerUnpacker(logger: Logger(label: "berth.test.unpack"))
}

/// An image root with a sentinel directory beside it that no layer may touch.
final class UnpackSandbox {
    let scratch: ScratchDirectory
    let root: String
    let outside: String
    private var layerFiles: [String] = []

    init() throws {
        scratch = try ScratchDirectory()
        root = scratch.path + "/root"
        outside = scratch.path + "/outside"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: false)
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: false)
        try Data("sentinel".utf8).write(to: URL(fileURLWithPath: outside + "/file"))
    }

    /// Applies layers in order, as layer i of their count.
    @discardableResult
    func apply(_ layers: [[UInt8]], compression: LayerCompression = .none, limits: UnpackLimits = .default,
               image: String = "127.0.0.1:5000/test:1") throws -> [UnpackReport] {
        var reports: [UnpackReport] = []
        for (index, bytes) in layers.enumerated() {
            let tar = try scratch.write("layer\(layerFiles.count).tar", bytes)
            layerFiles.append(tar)
            let blob = try Compressor.compress(tar, compression)
            let digest = Digest.sha256(of: try Data(contentsOf: URL(fileURLWithPath: blob)))
            let source = LayerSource(path: blob, compression: compression, imageName: image, layerIndex: index,
                                     layerCount: layers.count, digest: digest)
            reports.append(try LayerUnpacker.test.apply(source, to: root, limits: limits))
        }
        return reports
    }

    /// Everything beside the root is as it was: only the sentinel, with its content.
    var outsideUntouched: Bool {
        let fm = FileManager.default
        return (try? fm.contentsOfDirectory(atPath: scratch.path).filter { !$0.hasPrefix("layer") }.sorted()) == ["outside", "root"]
            && (try? fm.contentsOfDirectory(atPath: outside)) == ["file"]
            && (try? String(contentsOfFile: outside + "/file", encoding: .utf8)) == "sentinel"
    }

    func lstat(_ name: String) -> stat? {
        var info = stat()
        return Glibc.lstat(root + "/" + name, &info) == 0 ? info : nil
    }

    func exists(_ name: String) -> Bool { lstat(name) != nil }

    func read(_ name: String) -> String? { try? String(contentsOfFile: root + "/" + name, encoding: .utf8) }

    func link(_ name: String) -> String? { try? FileManager.default.destinationOfSymbolicLink(atPath: root + "/" + name) }
}
