import BerthCore
import Glibc

/// Thin helpers over the *at() system calls the unpacker uses, with names as byte arrays.
enum FS {
    // Not in Swift's Glibc module map (they need _GNU_SOURCE).
    static let O_PATH: Int32 = 0o10000000
    static let directoryFlags: Int32 = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC

    /// Calls `body` with `name` NUL-terminated, in stack memory.
    @inline(__always)
    static func withCName<T>(_ name: [UInt8], _ body: (UnsafePointer<CChar>) -> T) -> T {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: name.count + 1) { buffer in
            name.withUnsafeBufferPointer { bytes in
                for i in 0..<bytes.count { buffer[i] = CChar(bitPattern: bytes[i]) }
            }
            buffer[name.count] = 0
            // The allocation has capacity > 0, so its base address exists.
            return body(UnsafePointer(buffer.baseAddress.unsafelyUnwrapped))
        }
    }

    static func openDirectory(_ parent: Int32, _ name: [UInt8]) -> Int32 {
        withCName(name) { openat(parent, $0, directoryFlags) }
    }

    /// lstat relative to a directory; nil with errno set when it fails.
    static func lstat(_ parent: Int32, _ name: [UInt8]) -> stat? {
        var info = stat()
        let result = withCName(name) { fstatat(parent, $0, &info, AT_SYMLINK_NOFOLLOW) }
        return result == 0 ? info : nil
    }

    static func isDirectory(_ info: stat) -> Bool { info.st_mode & S_IFMT == S_IFDIR }
    static func isSymlink(_ info: stat) -> Bool { info.st_mode & S_IFMT == S_IFLNK }

    static func readLink(_ parent: Int32, _ name: [UInt8]) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = withCName(name) { cName in
            buffer.withUnsafeMutableBufferPointer { out in
                out.baseAddress.map { readlinkat(parent, cName, UnsafeMutableRawPointer($0).assumingMemoryBound(to: CChar.self), out.count) } ?? -1
            }
        }
        return count < 0 ? nil : Array(buffer[0..<count])
    }

    /// The names in a directory, "." and ".." left out.
    static func children(_ parent: Int32, _ name: [UInt8]) throws(SystemError) -> [[UInt8]] {
        let fd = withCName(name) { openat(parent, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        guard fd >= 0 else { throw SystemError("open directory", errno: errno) }
        guard let stream = fdopendir(fd) else {
            let err = errno
            close(fd)
            throw SystemError("fdopendir", errno: err)
        }
        defer { closedir(stream) }
        var names: [[UInt8]] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: &entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            if name == [EntryPath.dot] || name == [EntryPath.dot, EntryPath.dot] { continue }
            names.append(name)
        }
        return names
    }

    /// Removes `name` in `parent` and, when it is a directory, everything below it, never
    /// following a symlink. A missing name is not an error.
    static func removeAll(_ parent: Int32, _ name: [UInt8]) throws(SystemError) {
        if withCName(name, { unlinkat(parent, $0, 0) }) == 0 { return }
        switch errno {
        case ENOENT:
            return
        case EISDIR, EPERM:
            break
        default:
            throw SystemError("unlink", errno: errno)
        }
        let names = try children(parent, name)
        if !names.isEmpty {
            let fd = openDirectory(parent, name)
            guard fd >= 0 else { throw SystemError("open directory", errno: errno) }
            defer { close(fd) }
            for child in names { try removeAll(fd, child) }
        }
        if withCName(name, { unlinkat(parent, $0, AT_REMOVEDIR) }) != 0 && errno != ENOENT {
            throw SystemError("remove directory", errno: errno)
        }
    }
}
