import BerthCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// overlayfs mounts for applying layers and for container roots.
enum Overlay {
    /// The kernel takes mount options up to one page; longer lowerdir lists fail with EINVAL.
    static let maxOptionsLength = 4000

    /// Mounts `lower` (topmost first), with `upper` and `work` when writable, at `target`.
    static func mount(lower: [String], upper: String?, work: String?, at target: String) throws {
        var options = "lowerdir=" + lower.joined(separator: ":")
        if let upper, let work { options += ",upperdir=\(upper),workdir=\(work)" }
        guard options.utf8.count <= maxOptionsLength else {
            throw BerthError(.unsupported, "overlay mount at \(target): \(lower.count) layers make the mount options longer than the kernel accepts; flatten the image (fewer layers) or move the Berth home to a shorter path")
        }
        guard Glibc.mount("overlay", target, "overlay", 0, options) == 0 else {
            let code = errno
            throw BerthError(.system, "mount overlay at \(target): \(Errno.name(code)) (\(Errno.message(code)))",
                             underlying: SystemError("mount overlay at \(target)", errno: code))
        }
    }

    /// The same overlay as `mount`, but detached (fsopen, fsmount): attached nowhere, open as
    /// the returned descriptor (close-on-exec) until a process attaches it with move_mount in its
    /// own mount namespace. Its files can be read through `/proc/self/fd/N` meanwhile. Nil when
    /// this kernel cannot take `lower` that way: fsconfig strings are at most 255 bytes, and
    /// "lowerdir+", which adds one layer at a time, came with Linux 6.8; the caller then mounts
    /// on the host.
    static func mountDetached(lower: [String], upper: String, work: String) throws -> Int32? {
        let rest = [("upperdir", upper), ("workdir", work)]
        if let mount = try detachedMount(lower.map { ("lowerdir+", $0) } + rest, upper: upper) { return mount }
        let list = lower.joined(separator: ":")
        guard list.utf8.count < 256 else { return nil }
        return try detachedMount([("lowerdir", list)] + rest, upper: upper)
    }

    /// Nil when the kernel refuses the first parameter (EINVAL: an unknown key or a value too long).
    private static func detachedMount(_ parameters: [(key: String, value: String)], upper: String) throws -> Int32? {
        func fail(_ step: String) -> BerthError {
            let code = errno
            return BerthError(.system, "overlay for \(upper): \(step): \(Errno.name(code)) (\(Errno.message(code)))",
                              underlying: SystemError("\(step) overlay", errno: code))
        }
        let context = fsopen("overlay", UInt32(FSOPEN_CLOEXEC))
        guard context >= 0 else { throw fail("fsopen") }
        defer { close(context) }
        for (index, parameter) in parameters.enumerated() {
            guard fsconfig(context, FSCONFIG_SET_STRING.rawValue, parameter.key, parameter.value, 0) == 0 else {
                if index == 0, errno == EINVAL { return nil }
                throw fail("set \(parameter.key) \(parameter.value)")
            }
        }
        guard fsconfig(context, FSCONFIG_CMD_CREATE.rawValue, nil, nil, 0) == 0 else { throw fail("create") }
        let mount = fsmount(context, UInt32(FSMOUNT_CLOEXEC), 0)
        guard mount >= 0 else { throw fail("fsmount") }
        return mount
    }

    /// Detaches the mount; EINVAL (not mounted) and ENOENT count as done.
    static func unmount(_ target: String) throws {
        if umount2(target, Int32(MNT_DETACH)) != 0, errno != EINVAL, errno != ENOENT {
            let code = errno
            throw BerthError(.system, "unmount \(target): \(Errno.name(code)) (\(Errno.message(code)))")
        }
    }

    /// Whether overlayfs can stack directories of `root` here: tried once with a scratch mount,
    /// because support depends on the kernel, the filesystem under `root` and the user namespace.
    static func isSupported(under root: String) -> Bool {
        let scratch = root + "/.overlay-check-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let dirs = ["lower", "upper", "work", "merged"].map { scratch + "/" + $0 }
        do {
            for dir in dirs { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
            try mount(lower: [dirs[0]], upper: dirs[1], work: dirs[2], at: dirs[3])
            try unmount(dirs[3])
            return true
        } catch {
            return false
        }
    }
}
