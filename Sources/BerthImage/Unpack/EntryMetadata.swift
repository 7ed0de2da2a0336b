import BerthCore
import CXattr
import Glibc

/// Ownership, mode, times and extended attributes of one entry, applied through an fd or
/// relative to its parent's fd, never following a symlink.
struct EntryMetadata {
    let entry: TarEntry

    var times: [timespec] {
        let modification = timespec(tv_sec: Int(entry.modificationTime.seconds), tv_nsec: entry.modificationTime.nanoseconds)
        let access = entry.accessTime.map { timespec(tv_sec: Int($0.seconds), tv_nsec: $0.nanoseconds) } ?? modification
        return [access, modification]
    }

    /// For a file being written: owner first, because chown clears setuid and setgid bits.
    func apply(toOpenFile fd: Int32, applier: LayerApplier) throws {
        if fchown(fd, uid_t(truncatingIfNeeded: entry.uid), gid_t(truncatingIfNeeded: entry.gid)) != 0 {
            try applier.ownershipFailed(entry, errno: errno)
        }
        guard fchmod(fd, mode_t(entry.mode)) == 0 else { throw failure("chmod", errno) }
        for (name, value) in entry.xattrs {
            let result = value.withUnsafeBytes { bytes in fsetxattr(fd, name, bytes.baseAddress, bytes.count, 0) }
            if result != 0 { try applier.xattrFailed(entry, name: name, errno: errno) }
        }
        var times = self.times
        guard futimens(fd, &times) == 0 else { throw failure("set times", errno) }
    }

    /// Owner (and xattrs) of an entry that is not opened: symlinks, devices, fifos, directories.
    func applyOwnerAndXattrs(parent: Int32, leaf: [UInt8], applier: LayerApplier) throws {
        let result = FS.withCName(leaf) {
            fchownat(parent, $0, uid_t(truncatingIfNeeded: entry.uid), gid_t(truncatingIfNeeded: entry.gid), AT_SYMLINK_NOFOLLOW)
        }
        if result != 0 { try applier.ownershipFailed(entry, errno: errno) }
        guard !entry.xattrs.isEmpty else { return }
        // lsetxattr needs a path: the parent's fd through /proc stands for the already resolved
        // directory, and the leaf is not followed.
        let path = Array("/proc/self/fd/\(parent)/".utf8) + leaf
        for (name, value) in entry.xattrs {
            let set = FS.withCName(path) { cPath in
                value.withUnsafeBytes { bytes in lsetxattr(cPath, name, bytes.baseAddress, bytes.count, 0) }
            }
            if set != 0 { try applier.xattrFailed(entry, name: name, errno: errno) }
        }
    }

    func applyModeAndTimes(parent: Int32, leaf: [UInt8]) throws {
        let chmodResult = FS.withCName(leaf) { fchmodat(parent, $0, mode_t(entry.mode), AT_SYMLINK_NOFOLLOW) }
        guard chmodResult == 0 else { throw failure("chmod", errno) }
        try applyTimes(parent: parent, leaf: leaf)
    }

    func applyTimes(parent: Int32, leaf: [UInt8]) throws {
        var times = self.times
        let result = FS.withCName(leaf) { utimensat(parent, $0, &times, AT_SYMLINK_NOFOLLOW) }
        guard result == 0 else { throw failure("set times", errno) }
    }

    private func failure(_ step: String, _ errno: Int32) -> LayerFailure {
        LayerFailure.system(step, entry: entry.displayName, errno: errno)
    }
}
