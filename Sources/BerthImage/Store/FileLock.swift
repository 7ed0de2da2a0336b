import BerthCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An advisory `flock` on a file. flock locks belong to the open file description, so two
/// holders in one process exclude each other just as two processes do; the kernel drops them when
/// the holder exits however it exits, so a killed pull or run never leaves a stale lock behind.
public final class FileLock: @unchecked Sendable {
    public enum Mode: Sendable { case shared, exclusive }

    // Owned by this object alone: the descriptor is closed exactly once, in unlock() or deinit.
    private var fd: Int32

    private init(fd: Int32) { self.fd = fd }

    /// Opens (creating) the lock file and waits for the lock, blocking the thread: for
    /// synchronous callers. Async code uses `acquire`.
    public convenience init(path: String, mode: Mode = .exclusive) throws {
        let fd = try Self.open(path)
        while flock(fd, mode.operation) != 0 {
            if errno == EINTR { continue }
            let code = errno
            close(fd)
            throw BerthError(.system, "cannot lock \(path)", underlying: SystemError("flock \(path)", errno: code))
        }
        self.init(fd: fd)
    }

    /// nil when someone else holds the lock.
    public static func tryLock(path: String, mode: Mode = .exclusive) throws -> FileLock? {
        let fd = try open(path)
        guard flock(fd, mode.operation | LOCK_NB) == 0 else {
            close(fd)
            return nil
        }
        return FileLock(fd: fd)
    }

    /// Waits for the exclusive lock without blocking a thread of the cooperative pool: a blocking
    /// flock there could starve the task that holds the lock.
    static func acquire(path: String, pollInterval: Duration = .milliseconds(20)) async throws -> FileLock {
        let fd = try open(path)
        while true {
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { return FileLock(fd: fd) }
            let err = errno
            guard err == EWOULDBLOCK || err == EINTR else {
                close(fd)
                throw BerthError(.system, "cannot lock \(path)", underlying: SystemError("flock \(path)", errno: err))
            }
            do {
                try await Task.sleep(for: pollInterval)
            } catch {
                close(fd)
                throw error
            }
        }
    }

    private static func open(_ path: String) throws -> Int32 {
        let fd = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw BerthError(.system, "cannot open lock file \(path): check that the directory exists and is writable",
                             underlying: SystemError("open \(path)", errno: errno))
        }
        return fd
    }

    /// The descriptor, for giving another process a copy (posix_spawn): the flock belongs to the
    /// open file, so it lasts while any copy of the descriptor is open, in whichever process.
    public var descriptor: Int32? { fd >= 0 ? fd : nil }

    /// Replaces the lock file's contents through the held descriptor: a small record that lives
    /// and dies with the lock, in the same inode.
    public func write(_ bytes: [UInt8]) throws {
        guard fd >= 0 else { throw BerthError(.invalidState, "the lock is no longer held") }
        guard ftruncate(fd, 0) == 0 else { throw SystemError("truncate a lock file", errno: errno) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw SystemError("write a lock file", errno: written < 0 ? errno : EIO) }
            offset += written
        }
    }

    public func unlock() {
        guard fd >= 0 else { return }
        close(fd)  // releases the flock
        fd = -1
    }

    deinit { unlock() }
}

extension FileLock.Mode {
    var operation: Int32 { self == .exclusive ? LOCK_EX : LOCK_SH }
}
