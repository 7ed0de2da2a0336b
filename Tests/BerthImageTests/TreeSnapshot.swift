import Foundation
import Glibc

/// Names, types, modes, owners, link targets, file contents and modification times of a tree,
/// for comparing two unpacks of the same image. Directories' times are left out: later entries
/// and whiteouts change them, and tools differ in whether they restore them afterwards.
struct TreeSnapshot: Equatable {
    var entries: [String: String] = [:]

    init(_ root: String) throws {
        try walk(root, relative: "")
    }

    private mutating func walk(_ root: String, relative: String) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: root + "/" + relative).sorted() {
            let path = relative.isEmpty ? name : relative + "/" + name
            let full = root + "/" + path
            var info = stat()
            guard lstat(full, &info) == 0 else { throw CocoaError(.fileReadUnknown) }
            var description = "mode=\(String(info.st_mode, radix: 8)) uid=\(info.st_uid) gid=\(info.st_gid)"
            let mtime = " mtime=\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                entries[path] = description
                try walk(root, relative: path)
                continue
            case S_IFLNK:
                description += " link=\(try FileManager.default.destinationOfSymbolicLink(atPath: full))" + mtime
            case S_IFREG:
                let data = try Data(contentsOf: URL(fileURLWithPath: full))
                description += " size=\(data.count) hash=\(data.hashValue)" + mtime
            case S_IFCHR, S_IFBLK:
                description += " rdev=\(info.st_rdev)"
            default:
                break
            }
            entries[path] = description
        }
    }

    /// The entries that differ, one line each, for a readable test failure.
    func differences(from other: TreeSnapshot) -> [String] {
        Set(entries.keys).union(other.entries.keys).sorted().compactMap { key in
            let mine = entries[key], theirs = other.entries[key]
            return mine == theirs ? nil : "\(key): \(mine ?? "missing") vs \(theirs ?? "missing")"
        }
    }
}
