import BerthCore
import BerthLinux
import Glibc
import Logging

/// Compiled seccomp programs kept on disk between `berth run` processes. Compiling Docker's
/// default profile for three architectures takes libseccomp about 18 ms, most of a short
/// container's start; reading the result back is one small file.
///
/// A file holds the whole key its program was compiled from (the resolved filter, which already
/// reflects the profile, the granted capabilities, the architecture and the kernel's `minKernel`
/// conditions; the libseccomp and Berth versions; the native architecture), compared byte for byte
/// when it is read, and a checksum of its instructions, so a truncated, corrupt or misplaced file
/// is detected, ignored and rewritten. It is named by a hash of the key; two keys sharing a name
/// only take turns in the file. Files are written to a temporary name and renamed into place, so
/// a reader sees a whole file or none.
///
/// Why not a SHA-256 of the key, as before: the key compared whole needs no cryptographic digest,
/// so `berth run` links no cryptography library and computes no digest at its start (the digest
/// and what it linked in were 5% of a `berth run`, docs/benchmarks.md).
public struct SeccompDiskCache: Sendable {
    public let directory: String
    private let logger: Logger

    /// Bumped when the file layout, the key's inputs or the way `SeccompCompiler` builds a
    /// program change without a new Berth version (the version is part of the key too).
    /// 2: programs built as a binary tree (SCMP_FLTATR_CTL_OPTIMIZE). 3: the key kept whole.
    static let formatVersion: UInt32 = 3
    static let magic = Array("BERTHBPF".utf8)
    /// magic, format version, instruction count, key length, 4 bytes unused, program checksum.
    static let headerSize = 8 + 4 + 4 + 4 + 4 + 8
    /// BPF_MAXINSNS: the kernel loads no longer program.
    static let maximumInstructions = 4096
    /// A resolved filter of every syscall there is, with conditions, stays well under this.
    static let maximumKeyBytes = 1 << 20

    public init(directory: String = SeccompDiskCache.defaultDirectory, logger: Logger = Logger(label: "berth.seccomp-cache")) {
        self.directory = directory
        self.logger = logger
    }

    /// `BERTH_SECCOMP_CACHE_DIR`, else /run/berth/seccomp: a tmpfs cleared at boot, so a kernel or
    /// libseccomp upgrade starts clean anyway.
    public static var defaultDirectory: String {
        let environment = getenv("BERTH_SECCOMP_CACHE_DIR").map { String(cString: $0) } ?? ""
        return environment.isEmpty ? "/run/berth/seccomp" : environment
    }

    /// The file name stem for `spec` on this host: the hex FNV-1a hash of its key.
    public static func key(for spec: SeccompFilterSpec) -> String {
        cacheKey(for: spec).name
    }

    /// Everything the program depends on: the spec's canonical form, this file format, the Berth
    /// and libseccomp versions and the native architecture.
    static func cacheKey(for spec: SeccompFilterSpec) -> SeccompCacheKey {
        var bytes = spec.canonicalBytes
        bytes += Array("format=\(formatVersion)\nberth=\(BerthVersion.current)\nlibseccomp=\(SeccompCompiler.libseccompVersion)\narch=\(SeccompCompiler.nativeArchitecture)\n".utf8)
        return SeccompCacheKey(bytes: bytes)
    }

    public func path(forKey key: String) -> String { "\(directory)/\(key).bpf" }

    /// The program from memory, from disk, or compiled (and then stored in both). Without a
    /// memory cache (a process that starts one container) only the disk is asked: looking the
    /// spec up and inserting it would hash all of its rules twice for nothing.
    public func program(for spec: SeccompFilterSpec, memory: SeccompProgramCache?) throws -> SeccompProgram {
        if let cached = memory?.cached(spec) { return cached }
        let key = Self.cacheKey(for: spec)
        if let stored = load(key: key) {
            memory?.insert(stored, for: spec)
            return stored
        }
        let program = try memory?.program(for: spec) ?? SeccompCompiler.compile(spec)
        do {
            try store(program, key: key)
        } catch {
            // The cache only saves time: a read-only /run must not stop a container.
            logger.info("seccomp program not cached on disk: \(error)")
        }
        return program
    }

    // MARK: - Reading

    /// The stored program for `key`, or nil when there is none or it cannot be trusted.
    public func load(key: SeccompCacheKey) -> SeccompProgram? {
        guard directoryIsTrusted() else { return nil }
        let path = path(forKey: key.name)
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            if errno != ENOENT { logger.info("seccomp cache \(path): \(Errno.name(errno)); recompiling") }
            return nil
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_uid == geteuid(), info.st_mode & 0o022 == 0 else {
            logger.warning("seccomp cache \(path) is not a regular file owned by this user and writable only by it; ignoring it")
            return nil
        }
        let limit = Self.headerSize + Self.maximumKeyBytes + Self.maximumInstructions * 8
        guard info.st_size <= limit, let bytes = readAll(fd, size: Int(info.st_size)) else {
            logger.info("seccomp cache \(path): cannot be read whole or is too large; recompiling")
            return nil
        }
        guard let program = Self.decode(bytes, key: key) else {
            logger.info("seccomp cache \(path): truncated or corrupt; recompiling")
            return nil
        }
        return program
    }

    private func readAll(_ fd: Int32, size: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress.map { $0 + done }, size - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return nil }
            done += n
        }
        return bytes
    }

    /// The file's program, if its header, key, length and checksum all agree.
    static func decode(_ bytes: [UInt8], key: SeccompCacheKey) -> SeccompProgram? {
        guard bytes.count >= headerSize, bytes[0..<8].elementsEqual(magic) else { return nil }
        func u32(at offset: Int) -> UInt32 {
            bytes[offset..<offset + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) }
        }
        let count = Int(u32(at: 12))
        let keyLength = Int(u32(at: 16))
        guard u32(at: 8) == formatVersion, (1...maximumInstructions).contains(count), keyLength == key.bytes.count,
              bytes.count == headerSize + keyLength + count * 8,
              bytes[headerSize..<headerSize + keyLength].elementsEqual(key.bytes) else { return nil }
        let checksum = bytes[24..<32].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let program = bytes[(headerSize + keyLength)...]
        guard FNV1a.hash64(program) == checksum else { return nil }
        return SeccompProgram(bytes: Array(program))
    }

    static func encode(_ program: SeccompProgram, key: SeccompCacheKey) -> [UInt8] {
        var out = magic
        func append(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) } }
        append(formatVersion)
        append(UInt32(program.instructionCount))
        append(UInt32(key.bytes.count))
        append(0)
        withUnsafeBytes(of: FNV1a.hash64(program.bytes).littleEndian) { out.append(contentsOf: $0) }
        out += key.bytes
        out += program.bytes
        return out
    }

    // MARK: - Writing

    /// Writes the program under `key`: a temporary file in the same directory, renamed over the
    /// final name, so concurrent readers and writers never see part of a file.
    public func store(_ program: SeccompProgram, key: SeccompCacheKey) throws {
        guard program.instructionCount >= 1, program.instructionCount <= Self.maximumInstructions,
              program.bytes.count % 8 == 0, key.bytes.count <= Self.maximumKeyBytes else {
            throw BerthError(.seccomp, "seccomp program of \(program.bytes.count) bytes cannot be cached")
        }
        try makeDirectory()
        guard directoryIsTrusted() else {
            throw BerthError(.seccomp, "seccomp cache directory \(directory) is not owned by this user or is writable by others")
        }
        let final = path(forKey: key.name)
        let temporary = "\(directory)/.\(key.name).\(getpid()).\(UInt32.random(in: .min ... .max)).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SystemError("create \(temporary)", errno: errno) }
        let bytes = Self.encode(program, key: key)
        var done = 0
        var failure: Int32 = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress.map { $0 + done }, bytes.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { failure = n < 0 ? errno : EIO; break }
            done += n
        }
        if close(fd) != 0 && failure == 0 { failure = errno }
        if failure == 0 && rename(temporary, final) != 0 { failure = errno }
        if failure != 0 {
            unlink(temporary)
            throw SystemError("write seccomp cache \(final)", errno: failure)
        }
    }

    /// The directory and its parents; the cache itself only for this user.
    private func makeDirectory() throws {
        var path = ""
        let parts = directory.split(separator: "/")
        for (index, part) in parts.enumerated() {
            path += "/" + part
            if mkdir(path, index == parts.count - 1 ? 0o700 : 0o755) != 0 && errno != EEXIST {
                throw SystemError("create seccomp cache directory \(path)", errno: errno)
            }
        }
    }

    /// Only a directory this user owns and nobody else can write to: anyone who can plant a
    /// file there chooses the filter of every container.
    private func directoryIsTrusted() -> Bool {
        var info = stat()
        guard lstat(directory, &info) == 0 else { return false }
        return (info.st_mode & S_IFMT) == S_IFDIR && info.st_uid == geteuid() && info.st_mode & 0o022 == 0
    }
}

/// What a cached seccomp program was compiled from (`SeccompDiskCache.cacheKey(for:)`).
public struct SeccompCacheKey: Sendable, Equatable {
    public let bytes: [UInt8]
    /// The file name: FNV-1a 64 of `bytes` in hex. A name, not a proof: `bytes` are compared.
    public let name: String

    init(bytes: [UInt8]) {
        self.bytes = bytes
        let hex = String(FNV1a.hash64(bytes), radix: 16)
        name = String(repeating: "0", count: 16 - hex.count) + hex
    }
}

