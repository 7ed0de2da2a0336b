import BerthCore
import FoundationEssentials
import Glibc

/// Raw access to cgroup control files. Kernfs takes each value in a single write(2), and the
/// errno matters here (EBUSY, ENOENT and EINVAL each mean something different), so this stays on
/// syscalls and throws `SystemError`; the drivers add which cgroup and which limit.
enum CgroupFiles {
    static func read(_ path: String) throws -> String {
        String(decoding: try FileBytes.read(path), as: UTF8.self)
    }

    /// nil when the file does not exist: optional kernel features (memory.peak, memory.swap.max).
    static func readIfPresent(_ path: String) throws -> String? {
        do {
            return try read(path)
        } catch let error as SystemError where error.errno == ENOENT {
            return nil
        }
    }

    static func write(_ path: String, _ value: String) throws {
        // O_TRUNC matters only for the plain files of the tests; kernfs ignores it, as runc relies on.
        let fd = try openRetrying(path, O_WRONLY | O_TRUNC | O_CLOEXEC, step: "write \(value) to \(path)")
        defer { close(fd) }
        let bytes = Array(value.utf8)
        while true {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw SystemError("write \(value) to \(path)", errno: errno)
            }
            guard written == bytes.count else { throw SystemError("write \(value) to \(path) (short write)", errno: EIO) }
            return
        }
    }

    /// Writes only when the file exists; returns whether it did.
    @discardableResult
    static func writeIfPresent(_ path: String, _ value: String) throws -> Bool {
        do {
            try write(path, value)
            return true
        } catch let error as SystemError where error.errno == ENOENT {
            return false
        }
    }

    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// Returns false when the directory was already there.
    static func makeDirectory(_ path: String) throws -> Bool {
        if mkdir(path, 0o755) == 0 { return true }
        if errno == EEXIST { return false }
        throw SystemError("mkdir \(path)", errno: errno)
    }

    /// The cgroup directories below `path` (nested cgroups a container made), deepest last.
    static func subdirectories(_ path: String) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return [] }
        return names.sorted().compactMap { name in
            let child = path + "/" + name
            var info = stat()
            return lstat(child, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR ? child : nil
        }
    }

    /// Removes a cgroup and the cgroups nested in it, deepest first. A missing directory is fine;
    /// EBUSY (a process still leaving, or a nested cgroup just emptied) is retried for about a second.
    static func removeCgroupTree(_ path: String) throws {
        for child in subdirectories(path) { try removeCgroupTree(child) }
        var attempts = 0
        while rmdir(path) != 0 {
            let code = errno
            if code == ENOENT { return }
            if code == EINTR { continue }
            attempts += 1
            guard code == EBUSY, attempts < 50 else { throw SystemError("rmdir \(path)", errno: code) }
            usleep(20_000)
        }
    }

    /// One rmdir: true when the cgroup is gone afterwards (removed now, or already missing).
    static func removeIfEmpty(_ path: String) -> Bool {
        while rmdir(path) != 0 {
            if errno == EINTR { continue }
            return errno == ENOENT
        }
        return true
    }

    /// The pids listed in a cgroup.procs file.
    static func pids(in text: String) -> [Int32] {
        text.split(whereSeparator: \.isWhitespace).compactMap { Int32($0) }
    }

    private static func openRetrying(_ path: String, _ flags: Int32, step: String) throws -> Int32 {
        while true {
            let fd = open(path, flags)
            if fd >= 0 { return fd }
            if errno != EINTR { throw SystemError(step, errno: errno) }
        }
    }
}

/// Turns a failure into a `.cgroup` error that says what Berth was doing; keeps the cause.
func cgroupError(_ doing: String, _ error: any Error) -> BerthError {
    if let error = error as? BerthError { return error }
    if let error = error as? SystemError { return BerthError(.cgroup, "\(doing): \(error)", underlying: error) }
    return BerthError(.cgroup, "\(doing): \(error)")
}

/// Joins a cgroup path relative to its mount ("/", "/a/b") onto an absolute directory.
func joinCgroupPath(_ base: String, _ relative: String) -> String {
    let tail = PathText.join(relative.split(separator: "/")[...])
    if tail.isEmpty { return base }
    return base.hasSuffix("/") ? base + tail : base + "/" + tail
}
