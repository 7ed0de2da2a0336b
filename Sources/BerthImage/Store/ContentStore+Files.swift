import BerthCore
import BerthOCI
import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension ContentStore {
    /// Copies a file (a blob of an OCI layout, a layer of a `docker save` archive) into the store,
    /// hashing as it streams. With `expected` the content must hash to it and have `size` bytes,
    /// or nothing is stored; without, the digest is computed. `what` names the file in errors.
    @discardableResult
    public func ingest(file path: String, expected: Digest?, size: Int64?, what: String) throws -> Digest {
        if let expected, contains(expected) { return expected }
        let input = open(path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else {
            throw BerthError(.notFound, "\(what) \(path) cannot be read", underlying: SystemError("open \(path)", errno: errno))
        }
        defer { close(input) }
        let temporary = "\(ingestDirectory)/import-\(UUID().uuidString).tmp"
        let output = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard output >= 0 else {
            throw BerthError(.system, "cannot store \(what)", underlying: SystemError("open \(temporary)", errno: errno))
        }
        var hasher = DigestHasher(expected?.algorithm ?? .sha256)
        var total: Int64 = 0
        do {
            defer { close(output) }
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
            defer { buffer.deallocate() }
            while true {
                let n = read(input, buffer.baseAddress, buffer.count)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw BerthError(.system, "cannot read \(what) \(path)", underlying: SystemError("read \(path)", errno: errno))
                }
                if n == 0 { break }
                let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
                hasher.update(chunk)
                try writeAll(fd: output, chunk, path: temporary)
                total += Int64(n)
            }
            try syncFile(fd: output, path: temporary)
        } catch {
            unlink(temporary)
            throw error
        }
        let actual = hasher.finalize()
        if let expected, actual != expected {
            unlink(temporary)
            throw BerthError(.digestMismatch, "\(what) \(expected) hashes to \(actual): the file is corrupt or was altered; nothing was stored")
        }
        if let size, size != total {
            unlink(temporary)
            throw BerthError(.digestMismatch, "\(what) \(actual) has \(total) bytes but its descriptor says \(size); nothing was stored")
        }
        try moveIntoPlace(from: temporary, digest: actual)
        return actual
    }

    /// Deletes partial downloads and temporaries that no pull is writing (whose lock is free).
    /// Returns the bytes freed.
    public func removeAbandonedIngests() throws -> Int64 {
        var freed: Int64 = 0
        let names = (try? FileManager.default.contentsOfDirectory(atPath: ingestDirectory)) ?? []
        for name in names where name.hasSuffix(".partial") || name.hasSuffix(".tmp") {
            let path = "\(ingestDirectory)/\(name)"
            let lockPath = name.hasSuffix(".partial") ? String(path.dropLast(".partial".count)) + ".lock" : nil
            let lock = try lockPath.flatMap { try FileLock.tryLock(path: $0) }
            if lockPath != nil, lock == nil { continue }  // a pull is writing it
            if name.hasSuffix(".tmp") {
                // Temporaries belong to a write in progress for a few milliseconds; only old ones are abandoned.
                var st = stat()
                guard stat(path, &st) == 0, time(nil) - st.st_mtim.tv_sec > 3600 else { continue }
            }
            var st = stat()
            if stat(path, &st) == 0 { freed += Int64(st.st_size) }
            unlink(path)
            withExtendedLifetime(lock) {}
        }
        return freed
    }
}
