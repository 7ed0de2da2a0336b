import BerthCore
import Glibc

/// Finds directories inside the image root from an fd of the root, one component at a time with
/// O_NOFOLLOW, so that no path string is ever resolved by the kernel from outside. A symlink met
/// on the way (one an earlier layer planted, say) is resolved *within* the root, as the container
/// will see it: absolute targets start at the root, relative ones at the link's directory, and a
/// ".." above the root is refused rather than clamped.
///
/// The unpacker is the only writer of the tree while a layer is applied, so an fd once resolved
/// stays the directory it was resolved to; every change is then made with *at() calls on it.
final class RootedTree {
    enum WalkError: Error {
        case climbsOut
        case tooManyLinks
        /// A component that is neither a directory nor a symlink to one; the path up to it.
        case notADirectory([[UInt8]])
        case system(SystemError)
    }

    /// As Linux's MAXSYMLINKS.
    static let maxSymlinkHops = 40

    let rootFD: Int32

    // The last directory resolved, and its ancestors: entries come grouped by directory, so most
    // lookups reuse all of it. Level i holds the fd for the name's first i+1 components and the
    // symlink-free path it resolved to.
    private var cachedNames: [[UInt8]] = []
    private var cachedFDs: [Int32] = []
    private var cachedResolved: [[[UInt8]]] = []

    init(root: String) throws {
        let fd = Glibc.open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            let err = errno
            throw LayerFailure("cannot open the target directory \(root): \(SystemError("open", errno: err)); it must be an existing directory", errno: err)
        }
        rootFD = fd
    }

    deinit {
        invalidate()
        close(rootFD)
    }

    /// Forgets cached directories: called after anything is removed, since a cached fd could be
    /// a directory no longer in the tree.
    func invalidate() {
        for fd in cachedFDs { close(fd) }
        cachedNames.removeAll(keepingCapacity: true)
        cachedFDs.removeAll(keepingCapacity: true)
        cachedResolved.removeAll(keepingCapacity: true)
    }

    /// Forgets cached directories below `fd` (the root or a cached one) but keeps `fd` itself:
    /// called after a child of `fd` is removed, while the caller still uses `fd`.
    func invalidate(below fd: Int32) {
        let keep = fd == rootFD ? 0 : (cachedFDs.firstIndex(of: fd).map { $0 + 1 } ?? 0)
        while cachedFDs.count > keep {
            cachedNames.removeLast()
            cachedResolved.removeLast()
            close(cachedFDs.removeLast())
        }
    }

    /// The directory named by `components` (the root when empty), creating missing ones with
    /// mode 0755 when `create` is set; nil when one is missing and `create` is not set. The fd is
    /// borrowed: valid until the next call or `invalidate()`.
    func directory(_ components: ArraySlice<[UInt8]>, create: Bool) throws(WalkError) -> Int32? {
        var common = 0
        for (cached, name) in zip(cachedNames, components) {
            guard cached == name else { break }
            common += 1
        }
        while cachedNames.count > common {
            cachedNames.removeLast()
            cachedResolved.removeLast()
            close(cachedFDs.removeLast())
        }
        for name in components.dropFirst(common) {
            let parent = cachedFDs.last ?? rootFD
            let parentPath = cachedResolved.last ?? []
            var fd = FS.openDirectory(parent, name)
            var resolved = parentPath + [name]
            if fd < 0 {
                // A missing or symlinked component: the general walk handles both.
                guard let found = try open(parentPath + [name], create: create) else { return nil }
                (fd, resolved) = found
            }
            cachedNames.append(name)
            cachedFDs.append(fd)
            cachedResolved.append(resolved)
        }
        return cachedFDs.last ?? rootFD
    }

    /// Resolves `path` (components; ".." allowed) from the root without the cache and returns an
    /// fd the caller closes, with the symlink-free path it resolved to; nil when a component is
    /// missing and `create` is not set.
    func open(_ path: [[UInt8]], create: Bool) throws(WalkError) -> (fd: Int32, resolved: [[UInt8]])? {
        var names: [[UInt8]] = []
        var fds: [Int32] = []
        var pending = Array(path.reversed())
        var hops = 0
        func closeAll() {
            for fd in fds { close(fd) }
            fds.removeAll()
            names.removeAll()
        }
        while let name = pending.popLast() {
            if name.isEmpty || name == [EntryPath.dot] { continue }
            if name == [EntryPath.dot, EntryPath.dot] {
                guard let fd = fds.popLast() else {
                    closeAll()
                    throw .climbsOut
                }
                close(fd)
                names.removeLast()
                continue
            }
            let parent = fds.last ?? rootFD
            let fd = FS.openDirectory(parent, name)
            if fd >= 0 {
                fds.append(fd)
                names.append(name)
                continue
            }
            let err = errno
            if err == ENOENT {
                guard create else {
                    closeAll()
                    return nil
                }
                let made = FS.withCName(name) { mkdirat(parent, $0, 0o755) }
                if made != 0 && errno != EEXIST {
                    let mkdirErr = errno
                    closeAll()
                    throw .system(SystemError("mkdir", errno: mkdirErr))
                }
                pending.append(name)  // open it on the next turn
                continue
            }
            guard err == ELOOP || err == ENOTDIR, let info = FS.lstat(parent, name), FS.isSymlink(info) else {
                let path = names + [name]
                closeAll()
                if err == ELOOP || err == ENOTDIR { throw .notADirectory(path) }
                throw .system(SystemError("open directory", errno: err))
            }
            hops += 1
            guard hops <= Self.maxSymlinkHops else {
                closeAll()
                throw .tooManyLinks
            }
            guard let target = FS.readLink(parent, name) else {
                let readErr = errno
                closeAll()
                throw .system(SystemError("readlink", errno: readErr))
            }
            if target.first == EntryPath.slash { closeAll() }
            pending.append(contentsOf: EntryPath.linkComponents(of: target).reversed())
        }
        if let last = fds.popLast() {
            for fd in fds { close(fd) }
            return (last, names)
        }
        let rootCopy = FS.withCName([EntryPath.dot]) { openat(rootFD, $0, FS.directoryFlags) }
        guard rootCopy >= 0 else { throw .system(SystemError("open the root directory", errno: errno)) }
        return (rootCopy, [])
    }
}
