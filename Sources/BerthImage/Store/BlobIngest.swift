import BerthCore
import BerthOCI
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One blob being written into a `ContentStore`: bytes are appended to
/// `ingest/<alg>-<hex>.partial` and hashed as they arrive; `commit()` verifies size and digest,
/// fsyncs and renames into place. Used by one task at a time; holds the digest's lock until
/// `commit()`, `discard()` or `close()` (or deinit), and keeps the partial file on `close()` so
/// a later download resumes from `offset`.
public final class BlobIngest {
    public let digest: Digest
    public let expectedSize: Int64?
    /// Bytes in the partial file so far. When an ingest begins, this is where a download resumes.
    public private(set) var offset: Int64

    private let store: ContentStore
    private let partialPath: String
    private var fd: Int32
    private var hasher: DigestHasher
    private var lock: FileLock?

    init(store: ContentStore, digest: Digest, expectedSize: Int64?, lock: FileLock) throws {
        self.store = store
        self.digest = digest
        self.expectedSize = expectedSize
        self.lock = lock
        partialPath = store.partialPath(for: digest)
        hasher = DigestHasher(digest.algorithm)
        fd = open(partialPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw BerthError(.system, "cannot write blob \(digest) into \(store.root)", underlying: SystemError("open \(partialPath)", errno: errno))
        }
        offset = 0
        do {
            try hashExistingPrefix()
        } catch {
            Glibc.close(fd)
            fd = -1
            throw error
        }
    }

    deinit { close() }

    /// A kept partial is trusted only as far as its hash goes: re-read it so the final digest
    /// covers every byte. One longer than the blob cannot be a prefix of it and is dropped.
    private func hashExistingPrefix() throws {
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw BerthError(.system, "cannot read \(partialPath)", underlying: SystemError("fstat \(partialPath)", errno: errno))
        }
        if let expectedSize, Int64(st.st_size) > expectedSize {
            try truncateToZero()
            return
        }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw BerthError(.system, "cannot read \(partialPath)", underlying: SystemError("read \(partialPath)", errno: errno))
            }
            if n == 0 { break }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            offset += Int64(n)
        }
        // A complete partial that hashes wrong can never become the blob: start over.
        if let expectedSize, offset == expectedSize, hasher.finalize() != digest {
            try truncateToZero()
        }
    }

    private func truncateToZero() throws {
        guard ftruncate(fd, 0) == 0, lseek(fd, 0, SEEK_SET) == 0 else {
            throw BerthError(.system, "cannot truncate \(partialPath)", underlying: SystemError("ftruncate \(partialPath)", errno: errno))
        }
        hasher = DigestHasher(digest.algorithm)
        offset = 0
    }

    /// Starts over from byte 0: for a registry that answered a range request with the whole blob.
    public func restart() throws {
        try requireOpen()
        try truncateToZero()
    }

    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        try requireOpen()
        if let expectedSize, offset + Int64(bytes.count) > expectedSize {
            let received = offset + Int64(bytes.count)
            discard()
            throw BerthError(.digestMismatch, "blob \(digest): received at least \(received) bytes, more than the \(expectedSize) the manifest says; the download was deleted, pull again or check the registry")
        }
        try writeAll(fd: fd, bytes, path: partialPath)
        hasher.update(bytes)
        offset += Int64(bytes.count)
    }

    public func append(_ data: some DataProtocol) throws {
        try Data(data).withUnsafeBytes { try append($0) }
    }

    /// Verifies what was written and moves it to the blob path. On a mismatch the partial is
    /// deleted, since retrying from it could never succeed.
    public func commit() throws {
        try requireOpen()
        if let expectedSize, offset != expectedSize {
            discard()
            throw BerthError(.digestMismatch, "blob \(digest): got \(offset) bytes, expected \(expectedSize); the download was deleted, pull again or check the registry")
        }
        let actual = hasher.finalize()
        guard actual == digest else {
            discard()
            throw BerthError(.digestMismatch, "blob \(digest): content hashes to \(actual), expected \(digest); the download was deleted: the registry serves corrupt data or the image was changed under this digest")
        }
        try syncFile(fd: fd, path: partialPath)
        Glibc.close(fd)
        fd = -1
        defer { releaseLock() }
        try store.moveIntoPlace(from: partialPath, digest: digest)
    }

    /// Deletes the partial file and releases the lock.
    public func discard() {
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
        unlink(partialPath)
        releaseLock()
    }

    /// Stops without committing and keeps the partial file, so a later ingest resumes from it.
    public func close() {
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
        releaseLock()
    }

    private func releaseLock() {
        lock?.unlock()
        lock = nil
    }

    private func requireOpen() throws {
        guard fd >= 0 else {
            throw BerthError(.invalidState, "blob \(digest): the ingest is already committed or closed; begin a new one")
        }
    }
}
