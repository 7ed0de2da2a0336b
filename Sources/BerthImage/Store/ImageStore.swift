import BerthCore
import BerthOCI
import Foundation

/// One local image: a name and the manifest it points at, with what `ls` and `run` need without
/// reading blobs again.
public struct ImageRecord: Codable, Hashable, Sendable {
    /// The full reference: `docker.io/library/busybox:latest`, `127.0.0.1:5000/app@sha256:…`.
    public var name: String
    /// What the name resolved to: an index (multi-platform) or a manifest; `NAME@DIGEST` means this.
    public var digest: Digest
    /// The manifest chosen for this host's platform.
    public var manifestDigest: Digest
    /// The image ID, as Docker shows it.
    public var configDigest: Digest
    public var platform: String
    /// Compressed size: the config and layer blobs.
    public var size: Int64
    /// From the image configuration, when it says.
    public var created: String?
    public var addedAt: Date
    /// When a container last started from it (to the minute); nil when none has. What pruning by
    /// age goes by.
    public var lastUsed: Date?

    /// When the image last mattered: its last use, else when it was added.
    public var lastActive: Date { max(lastUsed ?? addedAt, addedAt) }

    public init(name: String, digest: Digest, manifestDigest: Digest, configDigest: Digest, platform: String,
                size: Int64, created: String?, addedAt: Date = Date()) {
        self.name = name
        self.digest = digest
        self.manifestDigest = manifestDigest
        self.configDigest = configDigest
        self.platform = platform
        self.size = size
        self.created = created
        // Whole seconds: what the ISO 8601 encoding keeps, so a record equals itself read back.
        self.addedAt = Date(timeIntervalSince1970: addedAt.timeIntervalSince1970.rounded(.down))
    }

    public var id: String { configDigest.short }
}

/// The image names of one Berth home, in `images.json`. Each change rewrites the file to a
/// temporary name and renames it, under the home's lock, so a crash leaves the old or the new list.
public struct ImageStore: Sendable {
    private struct File: Codable {
        var images: [ImageRecord]
    }

    public let home: BerthHome

    public init(home: BerthHome) {
        self.home = home
    }

    public func all() throws -> [ImageRecord] {
        guard let data = FileManager.default.contents(atPath: home.imagesFile) else { return [] }
        do {
            return try JSONDecoder.berth.decode(File.self, from: data).images
        } catch {
            throw BerthError(.invalidState, "\(home.imagesFile) is not a valid image list (\(error)); move it aside and pull or import the images again")
        }
    }

    /// Finds an image by full name, by the name with defaults filled in by `normalize`, by
    /// `NAME@DIGEST`, by a digest, or by a prefix (at least 4 characters) of its ID.
    public func find(_ text: String, normalize: (String) -> String? = { _ in nil }) throws -> ImageRecord? {
        let images = try all()
        if let exact = images.first(where: { $0.name == text }) { return exact }
        if let normal = normalize(text), let match = images.first(where: { $0.name == normal }) { return match }
        if let digest = try? Digest(parsing: text) {
            return images.first { $0.digest == digest || $0.manifestDigest == digest || $0.configDigest == digest }
        }
        let hex = text.hasPrefix("sha256:") ? String(text.dropFirst(7)) : text
        if hex.count >= 4, hex.allSatisfy(\.isHexDigit) {
            let matches = images.filter { $0.configDigest.encoded.hasPrefix(hex) }
            if Set(matches.map(\.configDigest)).count > 1 {
                throw BerthError(.invalidArgument, "image ID prefix \(hex) matches more than one image: give more characters")
            }
            return matches.first
        }
        return nil
    }

    /// Adds the record, replacing any image of the same name. Returns the one it replaced.
    @discardableResult
    public func put(_ record: ImageRecord) throws -> ImageRecord? {
        try update { images in
            let old = images.first { $0.name == record.name }
            images.removeAll { $0.name == record.name }
            images.append(record)
            return old
        }
    }

    /// Notes that a container started from the image. Written at most once a minute per image:
    /// a thousand short tasks should not rewrite the list a thousand times.
    public func markUsed(name: String, at date: Date = Date()) throws {
        if let record = try all().first(where: { $0.name == name }), let last = record.lastUsed, date.timeIntervalSince(last) < 60 { return }
        try update { images in
            guard let index = images.firstIndex(where: { $0.name == name }) else { return }
            images[index].lastUsed = Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
        }
    }

    /// Removes the names given; returns the records removed.
    public func remove(names: Set<String>) throws -> [ImageRecord] {
        try update { images in
            let removed = images.filter { names.contains($0.name) }
            images.removeAll { names.contains($0.name) }
            return removed
        }
    }

    private func update<T>(_ change: (inout [ImageRecord]) throws -> T) throws -> T {
        try home.create()
        let lock = try FileLock(path: home.imagesLockFile)
        defer { withExtendedLifetime(lock) {} }
        var images = try all()
        let result = try change(&images)
        images.sort { $0.name < $1.name }
        let data = try JSONEncoder.berth.encode(File(images: images))
        try AtomicFile.write(data, to: home.imagesFile)
        return result
    }
}

enum AtomicFile {
    /// Writes to a temporary name beside the target and renames over it, so readers see the old
    /// content or the new. `synced`: the data reaches the disk before the rename, so a crash of
    /// the machine leaves one of the two as well; not for files that only matter while their
    /// process lives (a sync is milliseconds of waiting on a real disk).
    static func write(_ data: Data, to path: String, synced: Bool = true) throws {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        var failure = fd < 0 ? errno : 0
        if fd >= 0 {
            var written = 0
            data.withUnsafeBytes { raw in
                while written < raw.count, failure == 0 {
                    let n = Glibc.write(fd, raw.baseAddress.map { $0 + written }, raw.count - written)
                    if n > 0 { written += n } else if errno != EINTR { failure = n < 0 ? errno : EIO }
                }
            }
            if failure == 0, synced, fsync(fd) != 0 { failure = errno }
            close(fd)
        }
        guard failure == 0 else {
            unlink(temporary)
            throw BerthError(.system, "write \(temporary): \(Errno.message(failure)); check free space and permissions of \((path as NSString).deletingLastPathComponent)")
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw BerthError(.system, "rename \(temporary) to \(path): \(Errno.name(code)) (\(Errno.message(code)))")
        }
    }
}

extension JSONEncoder {
    /// Sorted, indented, ISO 8601 dates: Berth's state files and `--json` output, diffable.
    public static var berth: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}

extension JSONDecoder {
    static var berth: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
