import BerthCore
import Glibc
import Logging

/// Applies tar entries to the tree under the root, as the OCI image spec's "Applying
/// Changesets" says: each entry replaces what is at its name, whiteouts delete, and nothing is
/// ever created, changed or removed outside the root (see RootedTree).
final class LayerApplier {
    let tree: RootedTree
    private let logger: Logger
    private(set) var warnings: [String] = []
    private(set) var bytesWritten: Int64 = 0
    /// Every name this layer created or changed, and their ancestors, joined with "/": whiteouts
    /// apply only to lower layers, so they must spare these.
    var touched = Set<[UInt8]>()
    /// Directories' modes and times are set after all entries: a later entry inside would change
    /// the time again, and a read-only mode could stop it being written.
    private var deferredDirectories: [(path: [[UInt8]], metadata: EntryMetadata)] = []
    private var ownershipWarned = false
    private let isRoot = geteuid() == 0

    init(tree: RootedTree, logger: Logger) {
        self.tree = tree
        self.logger = logger
    }

    func apply(_ entry: TarEntry, reader: TarReader) throws {
        let path: [[UInt8]]
        do {
            path = try EntryPath.components(of: entry.name)
        } catch .climbsOut {
            throw LayerFailure.rejected(entry.displayName, "climbs out of the image root")
        } catch {
            throw LayerFailure.rejected(entry.displayName, "has a NUL byte in its name")
        }
        guard let leaf = path.last else {
            guard entry.kind == .directory else {
                throw LayerFailure.rejected(entry.displayName, "names the image root but is not a directory")
            }
            try applyRootDirectory(entry)
            return
        }
        if leaf.starts(with: Whiteout.prefix) {
            try applyWhiteout(entry, path: path)
            return
        }
        markTouched(path)
        let parentPath = path.dropLast()
        let parent = try resolve(parentPath, create: true, entry: entry)
        let metadata = EntryMetadata(entry: entry)
        switch entry.kind {
        case .file:
            try writeFile(entry, parent: parent, leaf: leaf, metadata: metadata, reader: reader)
        case .directory:
            try makeDirectory(entry, parent: parent, leaf: leaf, path: path, metadata: metadata)
        case .symlink:
            try create(entry, parent: parent, leaf: leaf, "symlink") { name in
                FS.withCName(entry.linkName) { symlinkat($0, parent, name) }
            }
            try metadata.applyOwnerAndXattrs(parent: parent, leaf: leaf, applier: self)
            try metadata.applyTimes(parent: parent, leaf: leaf)
        case .hardlink:
            try makeHardlink(entry, parentPath: Array(parentPath), leaf: leaf)
        case .characterDevice, .blockDevice, .fifo:
            try makeNode(entry, parent: parent, leaf: leaf, metadata: metadata)
        }
    }

    /// Sets the deferred directory modes and times, deepest first.
    func finish() throws {
        for (path, metadata) in deferredDirectories.reversed() {
            let parentFD: Int32?
            do {
                parentFD = try tree.directory(path.dropLast(), create: false)
            } catch {
                continue  // replaced later in the layer by something that is not a directory
            }
            guard let parentFD else { continue }
            let fd: Int32
            if let leaf = path.last {
                fd = FS.withCName(leaf) { openat(parentFD, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
                guard fd >= 0 else { continue }
            } else {
                fd = dup(tree.rootFD)
            }
            defer { close(fd) }
            var times = metadata.times
            guard fchmod(fd, mode_t(metadata.entry.mode)) == 0, futimens(fd, &times) == 0 else {
                throw LayerFailure.system("set mode and times", entry: metadata.entry.displayName, errno: errno)
            }
        }
        deferredDirectories.removeAll()
    }

    // MARK: - Entry kinds

    private func writeFile(_ entry: TarEntry, parent: Int32, leaf: [UInt8], metadata: EntryMetadata, reader: TarReader) throws {
        var fd: Int32 = -1
        try create(entry, parent: parent, leaf: leaf, "create") { name in
            fd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            return fd >= 0 ? 0 : -1
        }
        defer { close(fd) }
        try reader.readContent { chunk in
            var offset = 0
            while offset < chunk.count {
                let n = write(fd, chunk.baseAddress.map { $0 + offset }, chunk.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw LayerFailure.system("write", entry: entry.displayName, errno: errno)
                }
                offset += n
            }
            bytesWritten += Int64(chunk.count)
        }
        try metadata.apply(toOpenFile: fd, applier: self)
    }

    private func makeDirectory(_ entry: TarEntry, parent: Int32, leaf: [UInt8], path: [[UInt8]], metadata: EntryMetadata) throws {
        let made = FS.withCName(leaf) { mkdirat(parent, $0, 0o700) }
        if made != 0 {
            guard errno == EEXIST else { throw LayerFailure.system("mkdir", entry: entry.displayName, errno: errno) }
            // A directory over a directory merges: only the metadata changes.
            if let existing = FS.lstat(parent, leaf), !FS.isDirectory(existing) {
                try create(entry, parent: parent, leaf: leaf, "mkdir") { mkdirat(parent, $0, 0o700) }
            }
        }
        try metadata.applyOwnerAndXattrs(parent: parent, leaf: leaf, applier: self)
        deferredDirectories.append((path, metadata))
    }

    private func makeHardlink(_ entry: TarEntry, parentPath: [[UInt8]], leaf: [UInt8]) throws {
        let targetPath: [[UInt8]]
        do {
            targetPath = try EntryPath.components(of: entry.linkName)
        } catch {
            throw LayerFailure.rejected(entry.displayName, "is a hardlink to \(quoted: String(decoding: entry.linkName, as: UTF8.self)), outside the image root")
        }
        let targetText = String(decoding: entry.linkName, as: UTF8.self)
        guard let targetLeaf = targetPath.last else {
            throw LayerFailure.rejected(entry.displayName, "is a hardlink to the image root")
        }
        let found: (fd: Int32, resolved: [[UInt8]])?
        do {
            found = try tree.open(Array(targetPath.dropLast()), create: false)
        } catch {
            throw walkFailure(error, entry: entry, what: "its hardlink target \(quoted: targetText)")
        }
        guard let targetParent = found?.fd else { throw missingTarget(entry, targetText) }
        defer { close(targetParent) }
        guard let info = FS.lstat(targetParent, targetLeaf) else { throw missingTarget(entry, targetText) }
        guard !FS.isDirectory(info) else {
            throw LayerFailure.rejected(entry.displayName, "is a hardlink to the directory \(quoted: targetText)")
        }
        let parent = try resolve(parentPath[...], create: true, entry: entry)
        if let existing = FS.lstat(parent, leaf), existing.st_dev == info.st_dev, existing.st_ino == info.st_ino {
            return  // already this file
        }
        try create(entry, parent: parent, leaf: leaf, "link") { name in
            FS.withCName(targetLeaf) { linkat(targetParent, $0, parent, name, 0) }
        }
    }

    private func makeNode(_ entry: TarEntry, parent: Int32, leaf: [UInt8], metadata: EntryMetadata) throws {
        let type: mode_t
        switch entry.kind {
        case .characterDevice: type = S_IFCHR
        case .blockDevice: type = S_IFBLK
        default: type = S_IFIFO
        }
        let device = Self.deviceNumber(major: entry.deviceMajor, minor: entry.deviceMinor)
        do {
            try create(entry, parent: parent, leaf: leaf, "mknod") { mknodat(parent, $0, type | 0o600, device) }
        } catch let failure as LayerFailure where failure.errno == EPERM {
            // Unprivileged or in a user namespace: Docker skips device nodes there too.
            warn("entry \(quoted: entry.displayName): device node not created, the host does not allow mknod (EPERM)")
            return
        }
        try metadata.applyOwnerAndXattrs(parent: parent, leaf: leaf, applier: self)
        try metadata.applyModeAndTimes(parent: parent, leaf: leaf)
    }

    private func applyRootDirectory(_ entry: TarEntry) throws {
        let metadata = EntryMetadata(entry: entry)
        if fchown(tree.rootFD, uid_t(truncatingIfNeeded: entry.uid), gid_t(truncatingIfNeeded: entry.gid)) != 0 {
            try ownershipFailed(entry, errno: errno)
        }
        deferredDirectories.append(([], metadata))
    }

    // MARK: - Helpers

    /// Runs `make` (a creating *at() call on the leaf name); when the name is taken, removes what
    /// is there — recursively for a directory — and runs it once more.
    func create(_ entry: TarEntry, parent: Int32, leaf: [UInt8], _ step: String, _ make: (UnsafePointer<CChar>) -> Int32) throws {
        if FS.withCName(leaf, make) == 0 { return }
        guard errno == EEXIST else { throw LayerFailure.system(step, entry: entry.displayName, errno: errno) }
        if let existing = FS.lstat(parent, leaf), FS.isDirectory(existing) {
            do {
                try FS.removeAll(parent, leaf)
            } catch {
                throw LayerFailure.system("replace directory: \(error.step)", entry: entry.displayName, errno: error.errno)
            }
            tree.invalidate(below: parent)
        } else if FS.withCName(leaf, { unlinkat(parent, $0, 0) }) != 0 && errno != ENOENT {
            throw LayerFailure.system("replace: unlink", entry: entry.displayName, errno: errno)
        }
        if FS.withCName(leaf, make) != 0 {
            throw LayerFailure.system(step, entry: entry.displayName, errno: errno)
        }
    }

    /// The directory `path` names, following symlinks only within the root.
    func resolve(_ path: ArraySlice<[UInt8]>, create: Bool, entry: TarEntry) throws -> Int32 {
        do {
            guard let fd = try tree.directory(path, create: create) else {
                throw LayerFailure.rejected(entry.displayName, "is in a directory that does not exist")
            }
            return fd
        } catch let error as RootedTree.WalkError {
            throw walkFailure(error, entry: entry, what: "its directory")
        }
    }

    func walkFailure(_ error: RootedTree.WalkError, entry: TarEntry, what: String) -> LayerFailure {
        switch error {
        case .climbsOut:
            return .rejected(entry.displayName, "climbs out of the image root: \(what) goes through a symlink that leads outside it")
        case .tooManyLinks:
            return .rejected(entry.displayName, "cannot be placed: \(what) goes through more than \(RootedTree.maxSymlinkHops) symlinks")
        case .notADirectory(let path):
            let text = String(decoding: EntryPath.join(path), as: UTF8.self)
            return .rejected(entry.displayName, "cannot be placed: \(what) goes through \(quoted: text), which is not a directory")
        case .system(let failure):
            return .system(failure.step, entry: entry.displayName, errno: failure.errno)
        }
    }

    private func missingTarget(_ entry: TarEntry, _ target: String) -> LayerFailure {
        .rejected(entry.displayName, "is a hardlink to \(quoted: target), which does not exist in the image (it must name a file of this or an earlier layer)")
    }

    private func markTouched(_ path: [[UInt8]]) {
        var count = path.count
        while count > 0 {
            guard touched.insert(EntryPath.join(path.prefix(count))).inserted else { return }
            count -= 1
        }
    }

    func warn(_ message: String) {
        logger.warning("\(message)")
        warnings.append(message)
    }

    func ownershipFailed(_ entry: TarEntry, errno: Int32) throws {
        // Without root, files keep the unpacking user as owner: say so once, not per file.
        guard !isRoot, errno == EPERM || errno == EINVAL else {
            throw LayerFailure.system("chown", entry: entry.displayName, errno: errno)
        }
        if !ownershipWarned {
            ownershipWarned = true
            warn("ownership from the layer not applied: not running as root (first at entry \(quoted: entry.displayName))")
        }
    }

    func xattrFailed(_ entry: TarEntry, name: String, errno: Int32) throws {
        switch errno {
        case ENOTSUP, EOPNOTSUPP, EPERM, EACCES, E2BIG, ERANGE, EINVAL:
            warn("entry \(quoted: entry.displayName): extended attribute \(name) not set: \(SystemError("setxattr", errno: errno))")
        default:
            throw LayerFailure.system("setxattr \(name)", entry: entry.displayName, errno: errno)
        }
    }

    /// Linux's dev_t encoding (glibc's makedev is a macro Swift cannot call).
    static func deviceNumber(major: UInt32, minor: UInt32) -> dev_t {
        let major = UInt64(major), minor = UInt64(minor)
        return dev_t((major & 0xffff_f000) << 32 | (major & 0xfff) << 8 | (minor & 0xffff_ff00) << 12 | (minor & 0xff))
    }
}
