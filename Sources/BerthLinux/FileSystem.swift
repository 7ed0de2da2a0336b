import BerthCore
import CBerthShim
import Glibc

public enum FileSystem {
    /// The filesystem type of `path` as statfs(2) reports it (CGROUP2_SUPER_MAGIC, TMPFS_MAGIC, ...).
    public static func magic(of path: String) throws -> Int {
        var type = 0
        guard berth_statfs_type(path, &type) == 0 else { throw SystemError("statfs \(path)", errno: errno) }
        return type
    }

    /// Writes `bytes` to `path`, replacing what was there. `durably`: to a temporary file that is
    /// synced and renamed into place (readers see the old or the new content, also after a
    /// crash of the machine). Otherwise in place and not synced, for runtime files that only a
    /// restart of the process, not of the machine, must find: an fsync costs milliseconds of
    /// waiting on a real disk, and Foundation's `write(to:)` syncs even when not asked to be
    /// atomic.
    public static func write(_ bytes: some Collection<UInt8>, to path: String, mode: mode_t = 0o644, durably: Bool) throws {
        let target = durably ? "\(path).tmp" : path
        func fail(_ step: String) -> SystemError { SystemError("\(step) \(path)", errno: errno) }
        let fd = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw fail("create") }
        let ok = writeAll(bytes, to: fd) && (!durably || fsync(fd) == 0)
        let err = errno
        close(fd)
        guard ok else {
            errno = err
            throw fail("write")
        }
        guard durably else { return }
        guard rename(target, path) == 0 else { throw fail("rename into place") }
        syncDirectory(of: path)
    }

    /// Writes `bytes` over `path` in place and, when `synced` or the file is new, syncs it (a new
    /// file's directory too: a later synced write could not make its entry durable). Not atomic:
    /// a crash can leave it half written, so it suits files kept in two copies written in turn,
    /// whose readers can tell a complete one (the agent's checkpoints). An unsynced overwrite
    /// survives the writer's death but not the machine's.
    public static func overwrite(_ bytes: some Collection<UInt8>, at path: String, mode: mode_t = 0o600, synced: Bool) throws {
        func fail(_ step: String) -> SystemError { SystemError("\(step) \(path)", errno: errno) }
        var fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
        let created = fd < 0 && errno == ENOENT
        if created { fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode) }
        guard fd >= 0 else { throw fail(created ? "create" : "open") }
        let ok = writeAll(bytes, to: fd) && (!(synced || created) || fsync(fd) == 0)
        let err = errno
        close(fd)
        guard ok else {
            errno = err
            throw fail("write")
        }
        if created { syncDirectory(of: path) }
    }

    /// False with errno set when a write fails or writes nothing.
    public static func writeAll(_ bytes: some Collection<UInt8>, to fd: Int32) -> Bool {
        let contiguous = Array(bytes)
        var written = 0
        return contiguous.withUnsafeBytes { raw -> Bool in
            while written < raw.count {
                let n = Glibc.write(fd, raw.baseAddress.map { $0 + written }, raw.count - written)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                written += n
            }
            return true
        }
    }

    /// Makes a new or renamed directory entry for `path` durable.
    private static func syncDirectory(of path: String) {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let dirFD = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            fsync(dirFD)
            close(dirFD)
        }
    }
}
