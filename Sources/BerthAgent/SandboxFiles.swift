import BerthCore
import Foundation
import Glibc

/// Mesos' files API (`/files/read`, `/files/browse`) over the agent's sandboxes, and nothing
/// else: a path must name something under the sandboxes directory once every symbolic link is
/// resolved, because tasks write into their sandboxes and could plant a link to `/etc/shadow`.
struct SandboxFiles: Sendable {
    /// `<home>/agent/sandboxes`.
    let root: String

    /// Largest chunk one read answers (Mesos pages its reads the same way).
    static let maximumLength = 1 << 20

    struct Chunk: Codable, Sendable, Equatable {
        var data: String
        var offset: Int
        /// Bytes of the file `data` stands for: the next read starts at `offset + length`. A
        /// Berth addition: `data` is text, so a chunk never ends inside a UTF-8 sequence and
        /// bytes that are not UTF-8 come out as U+FFFD; counting `data` would go astray.
        var length: Int
    }

    struct Entry: Codable, Sendable, Equatable {
        var path: String
        var size: Int
        var mtime: Double
        var mode: String
        var nlink: Int
    }

    static func notAllowed(_ path: String) -> BerthError {
        BerthError(.forbiddenPath, "\(path) is not in a task sandbox of this agent: /files serves only HOME/agent/sandboxes (see GET /state for each task's directory)")
    }

    /// The real path of `path`, checked to be under the sandboxes.
    func resolve(_ path: String) throws -> String {
        guard path.hasPrefix("/") else {
            throw BerthError(.invalidArgument, "path \"\(path)\" must be absolute: a task's directory from GET /state, or a file in it")
        }
        guard !path.split(separator: "/").contains("..") else {
            throw BerthError(.invalidArgument, "path \"\(path)\" contains \"..\": name files inside a sandbox directly")
        }
        let realRoot = try Self.realPath(root, asked: root)
        let real = try Self.realPath(path, asked: path)
        guard Self.isInside(real, root: realRoot) else { throw Self.notAllowed(path) }
        return real
    }

    static func isInside(_ path: String, root: String) -> Bool {
        path == root || path.hasPrefix(root.hasSuffix("/") ? root : root + "/")
    }

    private static func realPath(_ path: String, asked: String) throws -> String {
        guard let resolved = realpath(path, nil) else {
            let code = errno
            if code == ENOENT || code == ENOTDIR {
                throw BerthError(.notFound, "\(asked) does not exist (an ended task's sandbox is removed by garbage collection; a task that has not started has no output files yet)")
            }
            throw SystemError("resolve \(asked)", errno: code)
        }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Up to `length` bytes at `offset`; offset -1 answers the file's size as the offset and no data.
    func read(path: String, offset: Int, length: Int?) throws -> Chunk {
        guard offset >= -1 else { throw BerthError(.invalidArgument, "offset \(offset): give a byte offset from 0, or -1 for the file's size") }
        if let length, length < 0 { throw BerthError(.invalidArgument, "length \(length): give a number of bytes from 0") }
        let real = try resolve(path)
        let fd = open(real, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw SystemError("open \(path)", errno: errno) }
        defer { close(fd) }
        // The path may have been swapped for a link between resolve and open: check what was opened.
        guard let opened = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)"),
              Self.isInside(opened, root: try Self.realPath(root, asked: root)) else { throw Self.notAllowed(path) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SystemError("stat \(path)", errno: errno) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw BerthError(.invalidArgument, "\(path) is not a regular file; list a directory with /files/browse")
        }
        let size = Int(info.st_size)
        if offset == -1 { return Chunk(data: "", offset: size, length: 0) }
        let wanted = min(length ?? Self.maximumLength, Self.maximumLength, max(size - offset, 0))
        var bytes = [UInt8](repeating: 0, count: wanted)
        var got = 0
        while got < wanted {
            let n = bytes.withUnsafeMutableBytes { raw in pread(fd, raw.baseAddress.map { $0 + got }, wanted - got, off_t(offset + got)) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw SystemError("read \(path)", errno: errno) }
            if n == 0 { break }
            got += n
        }
        let kept = Self.completeUTF8Prefix(bytes[..<got])
        return Chunk(data: String(decoding: bytes[..<kept], as: UTF8.self), offset: offset, length: kept)
    }

    /// How many leading bytes to send so the chunk does not end in the middle of a UTF-8
    /// sequence (the rest comes with the next read, when the writer has finished it).
    static func completeUTF8Prefix(_ bytes: ArraySlice<UInt8>) -> Int {
        let count = bytes.count
        var back = 0
        while back < min(3, count) {
            let byte = bytes[bytes.startIndex + count - 1 - back]
            if byte & 0xC0 != 0x80 {
                // A lead byte: how long its sequence is, and whether all of it is here.
                let needed = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
                return needed > back + 1 ? count - 1 - back : count
            }
            back += 1
        }
        return count
    }

    /// The entries of a directory (or the one file named), Mesos' browse answer.
    func browse(path: String) throws -> [Entry] {
        let real = try resolve(path)
        var info = stat()
        guard lstat(real, &info) == 0 else { throw SystemError("stat \(path)", errno: errno) }
        guard info.st_mode & S_IFMT == S_IFDIR else { return [Self.entry(path, info)] }
        let base = path.hasSuffix("/") ? String(path.dropLast()) : path
        let names = try FileManager.default.contentsOfDirectory(atPath: real).sorted()
        return names.compactMap { name in
            var info = stat()
            guard lstat(real + "/" + name, &info) == 0 else { return nil }
            return Self.entry(base + "/" + name, info)
        }
    }

    private static func entry(_ path: String, _ info: stat) -> Entry {
        Entry(path: path, size: Int(info.st_size), mtime: Double(info.st_mtim.tv_sec), mode: modeString(info.st_mode), nlink: Int(info.st_nlink))
    }

    /// `ls -l`'s mode column, as Mesos' browse gives it.
    static func modeString(_ mode: mode_t) -> String {
        let type: Character = switch mode & S_IFMT {
        case S_IFDIR: "d"
        case S_IFLNK: "l"
        default: "-"
        }
        let letters: [Character] = ["r", "w", "x"]
        return String(type) + String((0..<9).map { mode & (0o400 >> mode_t($0)) != 0 ? letters[$0 % 3] : "-" })
    }
}

extension BerthError.Code {
    /// A path outside what the agent serves: HTTP 403.
    static let forbiddenPath = BerthError.Code(rawValue: "forbiddenPath")
}

/// `berth task logs --tail N`: where the last lines of a file begin.
public enum LogTail {
    /// The index in `bytes` (the end of a file) where its last `lines` lines begin; nil when
    /// `bytes` holds fewer lines than that and `isWholeFile` is false (read further back). A
    /// final newline ends the last line rather than starting another.
    public static func start(of bytes: [UInt8], lines: Int, isWholeFile: Bool) -> Int? {
        guard lines > 0 else { return bytes.count }
        var index = bytes.count
        if index > 0, bytes[index - 1] == UInt8(ascii: "\n") { index -= 1 }
        var seen = 0
        while index > 0 {
            if bytes[index - 1] == UInt8(ascii: "\n") {
                seen += 1
                if seen == lines { return index }
            }
            index -= 1
        }
        return isWholeFile ? 0 : nil
    }
}
