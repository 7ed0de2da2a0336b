import BerthCore
import BerthOCI
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Blobs (layers, configs, manifests, indexes) by digest under `ROOT/blobs/<alg>/<hex>`.
///
/// Only verified content is ever at a blob path: everything is written under `ROOT/ingest/`,
/// hashed as it arrives, fsynced and renamed into place. So a crash leaves at most a partial file
/// in `ingest/`, which never counts as present and which a later download resumes.
public final class ContentStore: Sendable {
    public let root: String

    public init(root: String) throws {
        self.root = root
        for dir in [root, "\(root)/blobs", "\(root)/ingest"] + Digest.Algorithm.allCases.map({ "\(root)/blobs/\($0.rawValue)" }) {
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            } catch {
                throw BerthError(.system, "cannot create content store directory \(dir): \(error.localizedDescription)")
            }
        }
    }

    public func path(for digest: Digest) -> String {
        "\(root)/blobs/\(digest.algorithm.rawValue)/\(digest.encoded)"
    }

    var ingestDirectory: String { "\(root)/ingest" }

    func partialPath(for digest: Digest) -> String {
        "\(ingestDirectory)/\(digest.algorithm.rawValue)-\(digest.encoded).partial"
    }

    func lockPath(for digest: Digest) -> String {
        "\(ingestDirectory)/\(digest.algorithm.rawValue)-\(digest.encoded).lock"
    }

    public func contains(_ digest: Digest) -> Bool {
        var st = stat()
        return stat(path(for: digest), &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    /// The blob's bytes, checked against its digest: a blob changed on disk is an error, not data.
    public func data(for digest: Digest) throws -> Data {
        let path = path(for: digest)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BerthError(.notFound, "blob \(digest) is not in the content store at \(root): pull the image again")
        }
        var hasher = DigestHasher(digest.algorithm)
        hasher.update(data)
        let actual = hasher.finalize()
        guard actual == digest else {
            throw BerthError(.digestMismatch, "blob \(digest) in the content store hashes to \(actual): the file \(path) was changed on disk; delete it and pull the image again")
        }
        return data
    }

    /// Stores bytes held in memory (manifests, configs) and returns their digest. With `expecting`,
    /// the bytes must hash to it or nothing is stored.
    @discardableResult
    public func write(_ data: Data, expecting: Digest? = nil) throws -> Digest {
        var hasher = DigestHasher(expecting?.algorithm ?? .sha256)
        hasher.update(data)
        let actual = hasher.finalize()
        if let expecting, actual != expecting {
            throw BerthError(.digestMismatch, "blob \(expecting): content hashes to \(actual), expected \(expecting); nothing was stored")
        }
        if contains(actual) { return actual }
        // A unique temporary name, not the shared partial: identical content needs no lock, the
        // rename is atomic and the last writer wins with the same bytes.
        let temporary = "\(ingestDirectory)/\(actual.algorithm.rawValue)-\(actual.encoded).\(UUID().uuidString).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw BerthError(.system, "cannot store blob \(actual)", underlying: SystemError("open \(temporary)", errno: errno)) }
        do {
            defer { close(fd) }
            try data.withUnsafeBytes { try writeAll(fd: fd, $0, path: temporary) }
            try syncFile(fd: fd, path: temporary)
        } catch {
            unlink(temporary)
            throw error
        }
        try moveIntoPlace(from: temporary, digest: actual)
        return actual
    }

    public func delete(_ digest: Digest) throws {
        guard unlink(path(for: digest)) == 0 || errno == ENOENT else {
            throw BerthError(.system, "cannot delete blob \(digest)", underlying: SystemError("unlink \(path(for: digest))", errno: errno))
        }
    }

    public func allDigests() throws -> [Digest] {
        var result: [Digest] = []
        for algorithm in Digest.Algorithm.allCases {
            let dir = "\(root)/blobs/\(algorithm.rawValue)"
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
            // Anything that is not a well-formed digest name is not a blob of ours.
            result += names.compactMap { try? Digest(algorithm: algorithm, encoded: $0) }
        }
        return result.sorted()
    }

    public func size(of digest: Digest) throws -> Int64 {
        var st = stat()
        guard stat(path(for: digest), &st) == 0 else {
            throw BerthError(.notFound, "blob \(digest) is not in the content store at \(root)")
        }
        return Int64(st.st_size)
    }

    /// How many bytes of an interrupted download of `digest` are kept: where a resumed download
    /// starts (`Range: bytes=N-`). 0 when there is none.
    public func partialLength(of digest: Digest) -> Int64 {
        var st = stat()
        return stat(partialPath(for: digest), &st) == 0 ? Int64(st.st_size) : 0
    }

    /// Starts or resumes writing the blob `digest`; nil when it is already present. Holds a lock
    /// on the digest until the ingest commits or is closed: a second caller (this process or
    /// another) waits here, then finds the blob present and has nothing to do.
    public func beginIngest(_ digest: Digest, expectedSize: Int64?) async throws -> BlobIngest? {
        if contains(digest) { return nil }
        let lock = try await FileLock.acquire(path: lockPath(for: digest))
        if contains(digest) {
            lock.unlock()
            return nil
        }
        do {
            return try BlobIngest(store: self, digest: digest, expectedSize: expectedSize, lock: lock)
        } catch {
            lock.unlock()
            throw error
        }
    }

    /// Renames a verified, synced file to its blob path and syncs the directory so the rename
    /// survives a crash.
    func moveIntoPlace(from temporary: String, digest: Digest) throws {
        let target = path(for: digest)
        guard rename(temporary, target) == 0 else {
            let err = errno
            unlink(temporary)
            throw BerthError(.system, "cannot store blob \(digest)", underlying: SystemError("rename \(temporary) \(target)", errno: err))
        }
        let dir = open("\(root)/blobs/\(digest.algorithm.rawValue)", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 {
            fsync(dir)
            close(dir)
        }
    }
}

func writeAll(fd: Int32, _ buffer: UnsafeRawBufferPointer, path: String) throws {
    var offset = 0
    while offset < buffer.count {
        guard let base = buffer.baseAddress else { return }
        let n = Glibc.write(fd, base + offset, buffer.count - offset)
        if n < 0 {
            if errno == EINTR { continue }
            throw BerthError(.system, "cannot write \(path)", underlying: SystemError("write \(path)", errno: errno))
        }
        offset += n
    }
}

func syncFile(fd: Int32, path: String) throws {
    guard fsync(fd) == 0 else {
        throw BerthError(.system, "cannot sync \(path) to disk", underlying: SystemError("fsync \(path)", errno: errno))
    }
}
