import BerthCore
import BerthOCI
import Foundation
import Logging

/// One unpacked layer, named by its chain ID so that images sharing a base share its files.
public struct Snapshot: Codable, Hashable, Sendable {
    public var chainID: Digest
    public var diffID: Digest
    public var parent: Digest?
    /// The layer's own files (overlay) or the whole tree up to it (copy).
    public var path: String
    public var bytes: Int64
}

/// How snapshots stack. Chosen once per home, when its first snapshot is made, because the two
/// kinds of directory cannot be mixed.
public enum SnapshotDriver: String, Codable, Sendable {
    /// Each snapshot holds only its layer's changes; overlayfs stacks them.
    case overlay
    /// Each snapshot holds the full tree; a container gets a copy. For kernels or filesystems
    /// where overlayfs cannot be used.
    case copy
}

/// The unpacked layers of one Berth home: `snapshots/<chain ID hex>/{fs,meta.json}`. A snapshot is
/// built in a temporary directory and renamed into place once its content is verified against the
/// image's diff ID, so a crash never leaves a half-made snapshot under its real name.
public struct SnapshotStore: Sendable {
    public let home: BerthHome
    private let logger: Logger

    public init(home: BerthHome, logger: Logger) {
        self.home = home
        self.logger = logger
    }

    public func driver() throws -> SnapshotDriver {
        let file = home.snapshots + "/driver"
        if let text = try? String(contentsOfFile: file, encoding: .utf8),
           let driver = SnapshotDriver(rawValue: text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            return driver
        }
        try home.create()
        let lock = try FileLock(path: home.snapshots + "/driver.lock")
        defer { withExtendedLifetime(lock) {} }
        if let text = try? String(contentsOfFile: file, encoding: .utf8),
           let driver = SnapshotDriver(rawValue: text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            return driver
        }
        let chosen: SnapshotDriver = Overlay.isSupported(under: home.snapshots) ? .overlay : .copy
        if chosen == .copy {
            logger.warning("overlayfs is not usable under \(home.snapshots): layers are stored as full copies, which takes more disk")
        }
        try AtomicFile.write(Data(chosen.rawValue.utf8), to: file)
        return chosen
    }

    public func directory(for chainID: Digest) -> String {
        "\(home.snapshots)/\(chainID.algorithm.rawValue)-\(chainID.encoded)"
    }

    /// Kept apart so that listing snapshots shows only snapshots; never deleted, because a lock
    /// file removed while someone waits on it would let two builders in.
    func lockPath(for chainID: Digest) -> String {
        "\(home.snapshots)/.locks/\(chainID.algorithm.rawValue)-\(chainID.encoded).lock"
    }

    public func existing(_ chainID: Digest) -> Snapshot? {
        let dir = directory(for: chainID)
        guard let data = FileManager.default.contents(atPath: dir + "/meta.json") else { return nil }
        return try? JSONDecoder.berth.decode(Snapshot.self, from: data)
    }

    /// Every snapshot present.
    public func all() throws -> [Snapshot] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: home.snapshots)) ?? []
        return names.compactMap { name in
            guard !name.hasPrefix("."), let data = FileManager.default.contents(atPath: "\(home.snapshots)/\(name)/meta.json") else { return nil }
            return try? JSONDecoder.berth.decode(Snapshot.self, from: data)
        }
    }

    /// Makes sure every layer of the image is unpacked; returns the snapshots bottom first.
    /// Layers already unpacked (by this image or another with the same base) are reused.
    public func prepare(image name: String, manifest: Manifest, configuration: ImageConfiguration, content: ContentStore,
                        limits: UnpackLimits = .default, progress: (@Sendable (String) -> Void)? = nil) throws -> [Snapshot] {
        let layers = try ImageLayer.plan(image: name, manifest: manifest, configuration: configuration, content: content)
        let driver = try driver()
        try FileManager.default.createDirectory(atPath: home.snapshots + "/.locks", withIntermediateDirectories: true)
        var result: [Snapshot] = []
        for layer in layers {
            if let done = existing(layer.chainID) {
                result.append(done)
                continue
            }
            let lock = try FileLock(path: lockPath(for: layer.chainID))
            defer { withExtendedLifetime(lock) {} }
            if let done = existing(layer.chainID) {  // another pull or run made it while we waited
                result.append(done)
                continue
            }
            guard content.contains(layer.blob) else {
                throw BerthError(.notFound, "\(layer.source.displayName): its blob is missing from the content store; pull the image again")
            }
            progress?("unpacking layer \(layer.source.layerIndex + 1)/\(layer.source.layerCount) \(layer.blob.short)")
            result.append(try build(layer, parents: result, driver: driver, limits: limits))
        }
        return result
    }

    private func build(_ layer: ImageLayer, parents: [Snapshot], driver: SnapshotDriver, limits: UnpackLimits) throws -> Snapshot {
        let chainID = layer.chainID
        let final = directory(for: chainID)
        let temporary = "\(home.snapshots)/.tmp-\(chainID.encoded.prefix(16))-\(UInt32.random(in: .min ... .max))"
        let fs = temporary + "/fs"
        let merged = temporary + "/merged"
        var mounted = false
        do {
            let fm = FileManager.default
            try fm.createDirectory(atPath: temporary, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            var target = fs
            switch (driver, parents.last) {
            case (_, nil):
                try fm.createDirectory(atPath: fs, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
            case (.overlay, .some):
                for dir in [fs, temporary + "/work", merged] {
                    try fm.createDirectory(atPath: dir, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
                }
                // Applying through the merged view lets the kernel turn deletions into whiteouts
                // and hardlinks into lower files into copy-ups: the upper is the layer's diff.
                try Overlay.mount(lower: parents.reversed().map(\.path), upper: fs, work: temporary + "/work", at: merged)
                mounted = true
                target = merged
            case (.copy, .some(let parent)):
                try TreeCopy.copy(parent.path, to: fs)
            }
            let report = try LayerUnpacker(logger: logger).apply(layer.source, to: target, limits: limits)
            for warning in report.warnings { logger.warning("\(warning)") }
            if mounted {
                try Overlay.unmount(merged)
                mounted = false
                try? fm.removeItem(atPath: merged)
                try? fm.removeItem(atPath: temporary + "/work")
            }
            try layer.verify(report)
            let snapshot = Snapshot(chainID: chainID, diffID: layer.diffID, parent: parents.last?.chainID, path: final + "/fs",
                                    bytes: report.bytesWritten)
            try AtomicFile.write(JSONEncoder.berth.encode(snapshot), to: temporary + "/meta.json")
            guard rename(temporary, final) == 0 else {
                throw BerthError(.system, "rename \(temporary) to \(final): \(Errno.name(errno)) (\(Errno.message(errno)))")
            }
            logger.debug("snapshot \(chainID.short) ready", metadata: ["driver": "\(driver.rawValue)", "bytes": "\(report.bytesWritten)"])
            return snapshot
        } catch {
            if mounted { try? Overlay.unmount(merged) }
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }

    /// Removes snapshots whose chain ID is not in `keep`, and leftovers of interrupted builds.
    /// Returns the bytes freed.
    public func removeAll(except keep: Set<Digest>) throws -> (count: Int, bytes: Int64) {
        var count = 0
        var bytes: Int64 = 0
        let names = (try? FileManager.default.contentsOfDirectory(atPath: home.snapshots)) ?? []
        for name in names where name.hasPrefix(".tmp-") {
            let path = home.snapshots + "/" + name
            try? Overlay.unmount(path + "/merged")
            bytes += DiskUsage.bytes(of: path)
            try FileManager.default.removeItem(atPath: path)
        }
        for snapshot in try all() where !keep.contains(snapshot.chainID) {
            let dir = directory(for: snapshot.chainID)
            bytes += DiskUsage.bytes(of: dir)
            // Rename first so a crash midway never leaves a snapshot that looks complete but is not.
            let doomed = "\(home.snapshots)/.tmp-rm-\(snapshot.chainID.encoded.prefix(16))"
            guard rename(dir, doomed) == 0 else { continue }
            try FileManager.default.removeItem(atPath: doomed)
            count += 1
        }
        return (count, bytes)
    }
}

enum TreeCopy {
    /// `cp -a`: keeps owners, modes, times, links, devices and xattrs, which a Foundation copy does not.
    static func copy(_ source: String, to destination: String) throws {
        let result = try SpawnedCommand.run("/bin/cp", ["-a", "--", source, destination])
        guard result.status == 0 else {
            throw BerthError(.system, "cp -a \(source) \(destination) failed (status \(result.status)): \(result.stderr)")
        }
    }
}

enum DiskUsage {
    /// Allocated bytes under a path, not following symlinks; hardlinked files counted once.
    static func bytes(of path: String) -> Int64 {
        var seen = Set<[UInt64]>()
        var total: Int64 = 0
        func visit(_ path: String) {
            var info = stat()
            guard lstat(path, &info) == 0 else { return }
            if info.st_nlink > 1, (info.st_mode & S_IFMT) != S_IFDIR {
                guard seen.insert([UInt64(info.st_dev), UInt64(info.st_ino)]).inserted else { return }
            }
            total += Int64(info.st_blocks) * 512
            if (info.st_mode & S_IFMT) == S_IFDIR, let names = try? FileManager.default.contentsOfDirectory(atPath: path) {
                for name in names { visit(path + "/" + name) }
            }
        }
        visit(path)
        return total
    }
}
