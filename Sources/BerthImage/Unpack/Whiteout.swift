import BerthCore
import Glibc

/// Whiteouts: "DIR/.wh.NAME" deletes NAME from the layers below, "DIR/.wh..wh..opq" deletes
/// everything the layers below put in DIR. Neither is ever created in the tree.
enum Whiteout {
    static let prefix = Array(".wh.".utf8)
    static let opaque = Array(".wh..wh..opq".utf8)
    /// ".wh..wh." names other than the opaque marker are aufs bookkeeping, ignored as Docker does.
    static let metaPrefix = Array(".wh..wh.".utf8)
}

extension LayerApplier {
    func applyWhiteout(_ entry: TarEntry, path: [[UInt8]]) throws {
        guard let leaf = path.last else { return }
        let directoryPath = Array(path.dropLast())
        if leaf == Whiteout.opaque {
            try applyOpaque(entry, directory: directoryPath)
            return
        }
        if leaf.starts(with: Whiteout.metaPrefix) { return }
        let name = Array(leaf.dropFirst(Whiteout.prefix.count))
        guard !name.isEmpty, name != [EntryPath.dot], name != [EntryPath.dot, EntryPath.dot] else {
            throw LayerFailure.rejected(entry.displayName, "is a whiteout of \".\" or \"..\"")
        }
        // A whiteout hides the layers below, not this one.
        if touched.contains(EntryPath.join(directoryPath + [name])) { return }
        guard let parent = try resolveExisting(directoryPath, entry: entry) else { return }
        defer { close(parent) }
        do {
            try FS.removeAll(parent, name)
        } catch {
            throw LayerFailure.system("whiteout: \(error.step)", entry: entry.displayName, errno: error.errno)
        }
        tree.invalidate()
    }

    /// Removes from `directory` every child this layer has not put there, at whatever point of
    /// the archive the marker comes: what this layer wrote so far is in `touched`, and what it
    /// writes later comes after the removal anyway.
    private func applyOpaque(_ entry: TarEntry, directory: [[UInt8]]) throws {
        guard let fd = try resolveExisting(directory, entry: entry) else { return }
        defer { close(fd) }
        do {
            try clearLower(fd, path: directory)
        } catch {
            throw LayerFailure.system("opaque whiteout: \(error.step)", entry: entry.displayName, errno: error.errno)
        }
        tree.invalidate()
    }

    private func clearLower(_ fd: Int32, path: [[UInt8]]) throws(SystemError) {
        for child in try FS.children(fd, [EntryPath.dot]) {
            let childPath = path + [child]
            if touched.contains(EntryPath.join(childPath)) {
                // Kept, but a directory of this layer that merged into a lower one still loses
                // the lower one's children.
                guard let info = FS.lstat(fd, child), FS.isDirectory(info) else { continue }
                let childFD = FS.openDirectory(fd, child)
                guard childFD >= 0 else { throw SystemError("open directory", errno: errno) }
                defer { close(childFD) }
                try clearLower(childFD, path: childPath)
            } else {
                try FS.removeAll(fd, child)
            }
        }
    }

    /// An fd the caller closes for an existing directory, nil when it is missing or not a
    /// directory (umoci whites out the children of a directory it replaced by a file, after
    /// the file): then there is nothing to delete.
    private func resolveExisting(_ path: [[UInt8]], entry: TarEntry) throws -> Int32? {
        do {
            return try tree.open(path, create: false)?.fd
        } catch .notADirectory {
            return nil
        } catch {
            throw walkFailure(error, entry: entry, what: "the directory of the whiteout")
        }
    }
}
