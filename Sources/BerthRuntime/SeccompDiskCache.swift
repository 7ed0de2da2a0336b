import BerthCore
import BerthLinux
import BerthOCI
import Glibc
import Logging

/// Compiled seccomp programs kept on disk between `berth run` processes. Compiling Docker's
/// default profile for three architectures takes libseccomp about 18 ms, most of a short
/// container's start; reading the result back is one small file.
///
/// A file is named by a digest of everything the program depends on (the resolved filter, which
/// already reflects the profile, the granted capabilities, the architecture and the kernel's
/// `minKernel` conditions; the libseccomp and Berth versions; the native architecture) and carries that
/// key and a digest of its instructions, so a truncated, corrupt or misplaced file is detected,
/// ignored and rewritten. Files are written to a temporary name and renamed into place, so a
/// reader sees a whole file or none.
public struct SeccompDiskCache: Sendable {
    public let directory: String
    private let logger: Logger

    /// Bumped when the file layout, the key's inputs or the way `SeccompCompiler` builds a
    /// program change without a new Berth version (the version is part of the key too).
    /// 2: programs built as a binary tree (SCMP_FLTATR_CTL_OPTIMIZE).
    static let formatVersion: UInt32 = 2
    static let magic = Array("BERTHBPF".utf8)
    /// magic, format version, instruction count, key digest, program digest.
    static let headerSize = 8 + 4 + 4 + 32 + 32
    /// BPF_MAXINSNS: the kernel loads no longer program.
    static let maximumInstructions = 4096

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

    /// The file name stem for `spec` on this host: hex SHA-256 of its canonical form, the
    /// libseccomp version and the native architecture.
    public static func key(for spec: SeccompFilterSpec) -> String {
        keyDigest(for: spec).encoded
    }

    static func keyDigest(for spec: SeccompFilterSpec) -> Digest {
        var bytes = spec.canonicalBytes
        bytes += Array("format=\(formatVersion)\nberth=\(BerthVersion.current)\nlibseccomp=\(SeccompCompiler.libseccompVersion)\narch=\(SeccompCompiler.nativeArchitecture)\n".utf8)
        return Digest.sha256(of: bytes)
    }

    public func path(forKey key: String) -> String { "\(directory)/\(key).bpf" }

    /// The program from memory, from disk, or compiled (and then stored in both). Without a
    /// memory cache (a process that starts one container) only the disk is asked: looking the
    /// spec up and inserting it would hash all of its rules twice for nothing.
    public func program(for spec: SeccompFilterSpec, memory: SeccompProgramCache?) throws -> SeccompProgram {
        if let cached = memory?.cached(spec) { return cached }
        let key = Self.keyDigest(for: spec)
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
    public func load(key: Digest) -> SeccompProgram? {
        guard directoryIsTrusted() else { return nil }
        let path = path(forKey: key.encoded)
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
        let limit = Self.headerSize + Self.maximumInstructions * 8
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

    /// The file's program, if its header, key, length and digest all agree.
    static func decode(_ bytes: [UInt8], key: Digest) -> SeccompProgram? {
        guard bytes.count >= headerSize, Array(bytes[0..<8]) == magic else { return nil }
        func u32(at offset: Int) -> UInt32 {
            bytes[offset..<offset + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) }
        }
        let count = Int(u32(at: 12))
        guard u32(at: 8) == formatVersion, (1...maximumInstructions).contains(count),
              bytes.count == headerSize + count * 8,
              Array(bytes[16..<48]) == rawDigest(key) else { return nil }
        let program = Array(bytes[headerSize...])
        guard Array(bytes[48..<80]) == rawDigest(Digest.sha256(of: program)) else { return nil }
        return SeccompProgram(bytes: program)
    }

    static func encode(_ program: SeccompProgram, key: Digest) -> [UInt8] {
        var out = magic
        func append(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) } }
        append(formatVersion)
        append(UInt32(program.instructionCount))
        out += rawDigest(key)
        out += rawDigest(Digest.sha256(of: program.bytes))
        out += program.bytes
        return out
    }

    private static func rawDigest(_ digest: Digest) -> [UInt8] {
        var raw: [UInt8] = []
        var high: UInt8?
        for c in digest.encoded.utf8 {
            let nibble = c <= 0x39 ? c - 0x30 : c - 0x61 + 10
            if let h = high { raw.append(h << 4 | nibble); high = nil } else { high = nibble }
        }
        return raw
    }

    // MARK: - Writing

    /// Writes the program under `key`: a temporary file in the same directory, renamed over the
    /// final name, so concurrent readers and writers never see part of a file.
    public func store(_ program: SeccompProgram, key: Digest) throws {
        guard program.instructionCount >= 1, program.instructionCount <= Self.maximumInstructions,
              program.bytes.count % 8 == 0 else {
            throw BerthError(.seccomp, "seccomp program of \(program.bytes.count) bytes cannot be cached")
        }
        try makeDirectory()
        guard directoryIsTrusted() else {
            throw BerthError(.seccomp, "seccomp cache directory \(directory) is not owned by this user or is writable by others")
        }
        let final = path(forKey: key.encoded)
        let temporary = "\(directory)/.\(key.encoded).\(getpid()).\(UInt32.random(in: .min ... .max)).tmp"
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
