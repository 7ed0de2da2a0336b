import BerthCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive `flock` on a file. flock locks belong to the open file description, so two
/// holders in one process exclude each other just as two processes do.
final class FileLock: @unchecked Sendable {
    // Owned by this object alone: the descriptor is closed exactly once, in unlock() or deinit.
    private var fd: Int32

    private init(fd: Int32) { self.fd = fd }

    /// Waits for the lock without blocking a thread of the cooperative pool: a blocking flock
    /// there could starve the task that holds the lock.
    static func acquire(path: String, pollInterval: Duration = .milliseconds(20)) async throws -> FileLock {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw BerthError(.system, "cannot open lock file \(path): check that the content store is writable",
                             underlying: SystemError("open \(path)", errno: errno))
        }
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

    func unlock() {
        guard fd >= 0 else { return }
        close(fd)  // releases the flock
        fd = -1
    }

    deinit { unlock() }
}
