import BerthCore
import BerthOCI
import Foundation
import Logging

/// A container's root filesystem made from an image's snapshots: an overlayfs of the read-only
/// layers with the container's own upper directory, or a copy where overlayfs cannot be used.
/// Lives in `containers/<id>/`; removing it removes only the container's own part.
///
/// The directory's lock is held for as long as this object lives, which is as long as the
/// container runs: prune removes only container directories whose lock it can take, that is those
/// whose `berth` process is gone.
public final class ContainerRootfs: @unchecked Sendable {
    public let containerID: String
    public let directory: String
    /// What the runtime pivots into: `directory/rootfs`, or with a detached mount `directory`
    /// itself, which the overlay covers in the container's mount namespace.
    public let path: String
    private let lock: FileLock
    private var mounted: Bool
    private var removed = false
    /// With `detached`: the overlay, mounted nowhere yet, for the container to attach at `path`
    /// in its own mount namespace. Open until `closeDetachedMount()` (once the container has it).
    /// Nil when the kernel could not mount it detached (`Overlay.mountDetached`): it is then
    /// mounted at `path` on the host, as without `detached`.
    public private(set) var detachedMount: Int32?

    private struct Meta: Codable {
        var image: String
        var snapshots: [Digest]
        var driver: SnapshotDriver

        /// From the directory's lock file, or from the `meta.json` beside it that containers
        /// made by earlier versions have.
        static func read(in directory: String) -> Meta? {
            for file in ["lock", "meta.json"] {
                if let data = FileManager.default.contents(atPath: "\(directory)/\(file)"), !data.isEmpty,
                   let meta = try? JSONDecoder.berth.decode(Meta.self, from: data) {
                    return meta
                }
            }
            return nil
        }
    }

    private init(containerID: String, directory: String, path: String, lock: FileLock, mounted: Bool, detachedMount: Int32? = nil) {
        self.containerID = containerID
        self.directory = directory
        self.path = path
        self.lock = lock
        self.mounted = mounted
        self.detachedMount = detachedMount
    }

    deinit { closeDetachedMount() }

    /// The directory's lock, for the process that will hold it as long as the container runs
    /// (the agent's supervisor of the container); nil once closed here.
    public var lockDescriptor: Int32? { lock.descriptor }

    /// Once another process holds a copy of the lock's descriptor (`lockDescriptor`): this
    /// process's copy is closed, and the lock lasts as long as that process does. The agent hands
    /// it to the container's supervisor, so it holds no descriptor per running container (each
    /// process it spawns would copy and close them all) and the lock survives an agent restart.
    public func closeLock() { lock.unlock() }

    /// Once the container has attached it (or will never): only its mount namespace holds it then.
    public func closeDetachedMount() {
        if let detachedMount { close(detachedMount) }
        detachedMount = nil
    }

    /// `detached`: the overlay is not mounted at `path` here but handed over as `detachedMount`
    /// (the agent's containers, so the host's mount table does not hold one per container).
    public static func create(containerID: String, image: String, snapshots: [Snapshot], driver: SnapshotDriver,
                              home: BerthHome, detached: Bool = false) throws -> ContainerRootfs {
        guard let top = snapshots.last else {
            throw BerthError(.invalidArgument, "image \(image) has no layers: there is no root filesystem to run")
        }
        try home.create()
        // The home's lock orders this against prune: once the meta file names the snapshots,
        // prune sees them as in use.
        let homeLock = try FileLock(path: home.collectionLockFile, mode: .shared)
        defer { withExtendedLifetime(homeLock) {} }
        let directory = "\(home.containers)/\(containerID)"
        let fm = FileManager.default
        try Directories.create(directory, mode: 0o700)
        let lock = try FileLock(path: directory + "/lock")
        let meta = Meta(image: image, snapshots: snapshots.map(\.chainID), driver: driver)
        // In the lock file itself: one inode fewer per container to make and remove (a burst of
        // launches on a file system is paced by those). Not synced: it matters while the
        // container's process holds the lock, and after a reboot no one does (the directory is
        // then collected).
        try lock.write(Array(try JSONEncoder.berth.encode(meta)))
        let rootfs = directory + "/rootfs"
        do {
            switch driver {
            case .overlay:
                for dir in ["upper", "work"] {
                    try fm.createDirectory(atPath: "\(directory)/\(dir)", withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
                }
                if detached, let mount = try Overlay.mountDetached(lower: snapshots.reversed().map(\.path), upper: directory + "/upper",
                                                                   work: directory + "/work") {
                    // Attached over the container's own directory in its mount namespace: no
                    // mount point of its own to create and remove (one inode fewer per container).
                    return ContainerRootfs(containerID: containerID, directory: directory, path: directory, lock: lock, mounted: false,
                                           detachedMount: mount)
                }
                try fm.createDirectory(atPath: rootfs, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
                try Overlay.mount(lower: snapshots.reversed().map(\.path), upper: directory + "/upper", work: directory + "/work", at: rootfs)
                return ContainerRootfs(containerID: containerID, directory: directory, path: rootfs, lock: lock, mounted: true)
            case .copy:
                try TreeCopy.copy(top.path, to: rootfs)
                return ContainerRootfs(containerID: containerID, directory: directory, path: rootfs, lock: lock, mounted: false)
            }
        } catch {
            try? Overlay.unmount(rootfs)
            try? fm.removeItem(atPath: directory)
            throw error
        }
    }

    /// Unmounts and deletes the container's own part; the image's layers stay.
    public func remove() throws {
        guard !removed else { return }
        closeDetachedMount()
        if mounted {
            try Overlay.unmount(path)
            mounted = false
        }
        try FileManager.default.removeItem(atPath: directory)
        removed = true
    }

    /// The names of the images live containers run from.
    static func imagesInUse(home: BerthHome) throws -> Set<String> {
        var names = Set<String>()
        for name in (try? FileManager.default.contentsOfDirectory(atPath: home.containers)) ?? [] {
            let directory = "\(home.containers)/\(name)"
            // A container whose lock can be taken is dead: its image is not in use.
            if let lock = try FileLock.tryLock(path: directory + "/lock") {
                withExtendedLifetime(lock) {}
                continue
            }
            if let meta = Meta.read(in: directory) { names.insert(meta.image) }
        }
        return names
    }

    /// The snapshots that live containers use, and removal of the directories of containers
    /// whose `berth` process died without cleaning up. Returns the chain IDs in use and the bytes freed.
    static func collect(home: BerthHome, logger: Logger) throws -> (inUse: Set<Digest>, removed: Int, bytes: Int64) {
        var inUse = Set<Digest>()
        var removed = 0
        var bytes: Int64 = 0
        let names = (try? FileManager.default.contentsOfDirectory(atPath: home.containers)) ?? []
        for name in names {
            let directory = "\(home.containers)/\(name)"
            guard let lock = try FileLock.tryLock(path: directory + "/lock") else {
                if let meta = Meta.read(in: directory) { inUse.formUnion(meta.snapshots) }
                continue
            }
            try? Overlay.unmount(directory + "/rootfs")
            bytes += DiskUsage.bytes(of: directory)
            try FileManager.default.removeItem(atPath: directory)
            withExtendedLifetime(lock) {}
            logger.info("removed the leftovers of container \(name.prefix(12)), whose berth process is gone")
            removed += 1
        }
        return (inUse, removed, bytes)
    }
}
