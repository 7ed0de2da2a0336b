import BerthCore
import BerthLinux
import Foundation
import Glibc
import Testing

@testable import BerthRuntime

@Suite struct SeccompDiskCacheTests {
    static let spec = SeccompProfile.dockerDefault.filterSpec(capabilities: ["CAP_CHOWN", "CAP_KILL"])

    /// A fresh cache directory (not yet created: the cache makes it) under a temporary parent.
    static func withCache(_ body: (SeccompDiskCache) throws -> Void) throws {
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent("berth-seccomp-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: parent) }
        try body(SeccompDiskCache(directory: parent + "/seccomp"))
    }

    static func fileBytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    @Test func aMissCompilesAndStoresAndTheNextProcessReadsIt() throws {
        try Self.withCache { cache in
            let key = SeccompDiskCache.cacheKey(for: Self.spec)
            #expect(cache.load(key: key) == nil)
            let compiled = try cache.program(for: Self.spec, memory: SeccompProgramCache())
            #expect(compiled == (try SeccompCompiler.compile(Self.spec)))
            let path = cache.path(forKey: key.name)
            #expect(FileManager.default.fileExists(atPath: path))

            var info = stat()
            #expect(lstat(cache.directory, &info) == 0 && info.st_mode & 0o777 == 0o700)
            // No temporary file is left beside it.
            #expect(try FileManager.default.contentsOfDirectory(atPath: cache.directory) == ["\(key.name).bpf"])

            // A new process (empty memory cache) gets it from disk: plant a different, valid
            // program under the key and see that one come back.
            let planted = SeccompProgram(bytes: try SeccompCompiler.compile(SeccompFilterSpec(defaultAction: .allow, rules: [])).bytes)
            try cache.store(planted, key: key)
            let memory = SeccompProgramCache()
            #expect(try cache.program(for: Self.spec, memory: memory) == planted)
            #expect(memory.cached(Self.spec) == planted)
            // Without a memory cache (berth run) the disk answers too.
            #expect(try cache.program(for: Self.spec, memory: nil) == planted)
        }
    }

    @Test func withoutAMemoryCacheAMissCompilesAndStores() throws {
        try Self.withCache { cache in
            let key = SeccompDiskCache.cacheKey(for: Self.spec)
            let compiled = try SeccompCompiler.compile(Self.spec)
            #expect(try cache.program(for: Self.spec, memory: nil) == compiled)
            #expect(cache.load(key: key) == compiled)
        }
    }

    @Test func theKeyCoversCapabilitiesAndIsStable() {
        let other = SeccompProfile.dockerDefault.filterSpec(capabilities: ["CAP_CHOWN", "CAP_KILL", "CAP_SYS_ADMIN"])
        #expect(SeccompDiskCache.key(for: Self.spec) == SeccompDiskCache.key(for: Self.spec))
        #expect(SeccompDiskCache.key(for: Self.spec) != SeccompDiskCache.key(for: other))
        var errno13 = Self.spec
        errno13.defaultAction = .errno(13)
        #expect(SeccompDiskCache.key(for: Self.spec) != SeccompDiskCache.key(for: errno13))
        #expect(SeccompDiskCache.key(for: Self.spec).count == 16)
    }

    enum Damage: String, CaseIterable {
        case empty, truncatedHeader, truncatedProgram, extraBytes, flippedInstruction, wrongMagic, otherKey, otherKeyLength, zeroCount
    }

    @Test(arguments: Damage.allCases)
    func aDamagedFileIsIgnoredAndRewritten(_ damage: Damage) throws {
        try Self.withCache { cache in
            let key = SeccompDiskCache.cacheKey(for: Self.spec)
            let good = try cache.program(for: Self.spec, memory: SeccompProgramCache())
            let path = cache.path(forKey: key.name)
            var bytes = try Self.fileBytes(path)
            let header = SeccompDiskCache.headerSize
            let program = header + key.bytes.count
            switch damage {
            case .empty: bytes = []
            case .truncatedHeader: bytes = Array(bytes.prefix(header - 1))
            case .truncatedProgram: bytes.removeLast(8)
            case .extraBytes: bytes += [0, 0, 0, 0, 0, 0, 0, 0]
            case .flippedInstruction: bytes[program + 3] ^= 0x40
            case .wrongMagic: bytes[0] = UInt8(ascii: "X")
            case .otherKey: bytes[header + 5] ^= 1
            case .otherKeyLength: bytes[16] ^= 1
            case .zeroCount: bytes.replaceSubrange(12..<16, with: [0, 0, 0, 0])
            }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            #expect(cache.load(key: key) == nil)

            #expect(try cache.program(for: Self.spec, memory: SeccompProgramCache()) == good)
            #expect(cache.load(key: key) == good, "rewritten after \(damage)")
        }
    }

    @Test func aDirectoryOthersCanWriteIsNotTrusted() throws {
        try Self.withCache { cache in
            let key = SeccompDiskCache.cacheKey(for: Self.spec)
            let good = try cache.program(for: Self.spec, memory: SeccompProgramCache())
            #expect(chmod(cache.directory, 0o777) == 0)
            #expect(cache.load(key: key) == nil)
            #expect(throws: BerthError.self) { try cache.store(good, key: key) }
            // Still compiles: the cache only saves time.
            #expect(try cache.program(for: Self.spec, memory: SeccompProgramCache()) == good)
        }
    }

    @Test func aSymlinkInPlaceOfTheFileIsNotFollowed() throws {
        try Self.withCache { cache in
            let key = SeccompDiskCache.cacheKey(for: Self.spec)
            let good = try cache.program(for: Self.spec, memory: SeccompProgramCache())
            let path = cache.path(forKey: key.name)
            try FileManager.default.moveItem(atPath: path, toPath: cache.directory + "/elsewhere")
            try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: cache.directory + "/elsewhere")
            #expect(cache.load(key: key) == nil)
            // Rewritten over the link.
            #expect(try cache.program(for: Self.spec, memory: SeccompProgramCache()) == good)
            var info = stat()
            #expect(lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG)
        }
    }
}
