import BerthCore
import BerthOCI

/// Reads tar entries from a stream of uncompressed chunks, hashing every byte for the diff ID.
/// Understands ustar, pax ('x', 'g') and GNU ('L', 'K', base-256 numbers) headers.
final class TarReader {
    /// pax and GNU long-name headers larger than this are refused: a name is at most a few KiB,
    /// and the payload is held in memory.
    static let maxExtensionHeaderSize = 1 << 20

    private let source: any ChunkSource
    private let maxBytes: Int64
    private var chunk = UnsafeRawBufferPointer(start: nil, count: 0)
    private var offset = 0
    private var hasher = DigestHasher(.sha256)
    /// Uncompressed bytes taken from the source so far.
    private(set) var bytesRead: Int64 = 0
    /// Content bytes of the current entry not yet read, then the padding to the next block.
    private var remaining: Int64 = 0
    private var padding = 0
    private var currentName = ""
    private var globals = PaxRecords()
    private var sourceEnded = false

    init(source: any ChunkSource, maxBytes: Int64) {
        self.source = source
        self.maxBytes = maxBytes
    }

    /// The next entry, or nil at the end of the archive.
    func next() throws -> TarEntry? {
        try skipRest()
        var pax = PaxRecords()
        var longName: [UInt8]?
        var longLink: [UInt8]?
        var pendingExtension = false
        while true {
            guard let block = try nextBlock() else {
                if pendingExtension {
                    throw LayerFailure("the tar archive is truncated: it ends after an extended header, before its entry; download the blob again")
                }
                return nil
            }
            let header = TarHeader(block: block)
            if header.isZero { return nil }
            guard try header.checksumMatches() else {
                throw LayerFailure("tar header at byte \(bytesConsumed - 512) has a wrong checksum; the archive is corrupt or not a tar archive")
            }
            let type = header.typeFlag
            let size = try header.number(at: 124, length: 12, field: "size")
            guard size >= 0 else { throw LayerFailure("tar header at byte \(bytesConsumed - 512) has a negative size; the archive is corrupt") }
            switch type {
            case UInt8(ascii: "x"), UInt8(ascii: "g"), UInt8(ascii: "L"), UInt8(ascii: "K"):
                let data = try readExtension(size: size, type: type)
                pendingExtension = true
                switch type {
                case UInt8(ascii: "x"): pax.merge(try PaxRecords(parsing: data))
                case UInt8(ascii: "g"): globals.merge(try PaxRecords(parsing: data))
                case UInt8(ascii: "L"): longName = Array(data.prefix { $0 != 0 })
                default: longLink = Array(data.prefix { $0 != 0 })
                }
            default:
                var records = globals
                records.merge(pax)
                return try makeEntry(header, size: size, pax: records, longName: longName, longLink: longLink)
            }
        }
    }

    private func makeEntry(_ header: TarHeader, size headerSize: Int64, pax: PaxRecords, longName: [UInt8]?, longLink: [UInt8]?) throws -> TarEntry {
        let name = pax["path"] ?? longName ?? header.name
        let display = String(decoding: name, as: UTF8.self)
        let kind: TarEntry.Kind
        switch header.typeFlag {
        case 0, UInt8(ascii: "0"), UInt8(ascii: "7"): kind = .file
        case UInt8(ascii: "1"): kind = .hardlink
        case UInt8(ascii: "2"): kind = .symlink
        case UInt8(ascii: "3"): kind = .characterDevice
        case UInt8(ascii: "4"): kind = .blockDevice
        case UInt8(ascii: "5"): kind = .directory
        case UInt8(ascii: "6"): kind = .fifo
        case UInt8(ascii: "S"):
            throw LayerFailure("entry \(quoted: display) is a GNU sparse file, an unsupported tar entry type; rebuild the layer without --sparse")
        default:
            let flag = header.typeFlag
            let shown = flag >= 0x20 && flag < 0x7f ? "'\(Character(Unicode.Scalar(flag)))'" : "\(flag)"
            throw LayerFailure("entry \(quoted: display) has type \(shown), an unsupported tar entry type; OCI layers hold files, directories, links, devices and fifos only")
        }
        // Only regular files carry content; other types' size fields are ignored, as Go's
        // archive/tar (and so Docker) does.
        let size = kind == .file ? (try pax.integer("size") ?? headerSize) : 0
        guard size >= 0 else { throw LayerFailure("entry \(quoted: display) has a negative size; the archive is corrupt") }
        let modification = try pax.time("mtime") ?? TarTime(seconds: try header.number(at: 136, length: 12, field: "mtime"), nanoseconds: 0)
        let entry = TarEntry(
            kind: kind,
            name: name,
            linkName: pax["linkpath"] ?? longLink ?? header.linkName,
            mode: UInt32(truncatingIfNeeded: try header.number(at: 100, length: 8, field: "mode")) & 0o7777,
            uid: Int(try pax.integer("uid") ?? header.number(at: 108, length: 8, field: "uid")),
            gid: Int(try pax.integer("gid") ?? header.number(at: 116, length: 8, field: "gid")),
            size: size,
            modificationTime: modification,
            accessTime: try pax.time("atime"),
            deviceMajor: UInt32(truncatingIfNeeded: try header.number(at: 329, length: 8, field: "devmajor")),
            deviceMinor: UInt32(truncatingIfNeeded: try header.number(at: 337, length: 8, field: "devminor")),
            userName: (pax["uname"] ?? header.bytes(at: 265, length: 32)).textOrNil,
            groupName: (pax["gname"] ?? header.bytes(at: 297, length: 32)).textOrNil,
            xattrs: pax.xattrs)
        currentName = display
        remaining = size
        padding = Int((512 - size % 512) % 512)
        return entry
    }

    /// Hands the current entry's content to `body` in pieces, straight from the chunk buffers.
    func readContent(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        while remaining > 0 {
            if offset == chunk.count {
                guard try fetch() else { throw truncated() }
            }
            let take = Int(min(remaining, Int64(chunk.count - offset)))
            try body(UnsafeRawBufferPointer(rebasing: chunk[offset..<(offset + take)]))
            offset += take
            remaining -= Int64(take)
        }
    }

    /// Reads the rest of the stream (end-of-archive blocks and any padding after them) so that
    /// the diff ID covers every byte, and returns it.
    func finish() throws -> Digest {
        offset = chunk.count
        while try fetch() { offset = chunk.count }
        return hasher.finalize()
    }

    private var bytesConsumed: Int64 { bytesRead - Int64(chunk.count - offset) }

    private func skipRest() throws {
        while remaining > 0 || padding > 0 {
            if offset == chunk.count {
                guard try fetch() else { throw truncated() }
            }
            if remaining > 0 {
                let take = Int(min(remaining, Int64(chunk.count - offset)))
                offset += take
                remaining -= Int64(take)
            } else {
                let take = min(padding, chunk.count - offset)
                offset += take
                padding -= take
            }
        }
    }

    private func readExtension(size: Int64, type: UInt8) throws -> [UInt8] {
        guard size <= Int64(Self.maxExtensionHeaderSize) else {
            throw LayerFailure("a '\(Character(Unicode.Scalar(type)))' extended header of \(size) bytes is larger than the \(Self.maxExtensionHeaderSize) bytes allowed; the archive is corrupt or hostile")
        }
        currentName = "extended header"
        remaining = size
        padding = Int((512 - size % 512) % 512)
        var data: [UInt8] = []
        data.reserveCapacity(Int(size))
        try readContent { data.append(contentsOf: $0) }
        try skipRest()
        return data
    }

    private func nextBlock() throws -> UnsafeRawBufferPointer? {
        if offset == chunk.count {
            guard try fetch() else { return nil }
        }
        guard chunk.count - offset >= 512 else {
            throw LayerFailure("the tar archive is truncated: it ends inside a 512-byte header block; download the blob again")
        }
        defer { offset += 512 }
        return UnsafeRawBufferPointer(rebasing: chunk[offset..<(offset + 512)])
    }

    /// Takes the next chunk, hashes it and counts it against the byte limit; false at the end.
    private func fetch() throws -> Bool {
        guard !sourceEnded, let next = try source.nextChunk() else {
            sourceEnded = true
            chunk = UnsafeRawBufferPointer(start: nil, count: 0)
            offset = 0
            return false
        }
        hasher.update(next)
        bytesRead += Int64(next.count)
        guard bytesRead <= maxBytes else {
            throw LayerFailure("""
                the layer expands to more than \(maxBytes) bytes uncompressed, the limit (UnpackLimits.maxBytes); \
                it is rejected as a possible archive bomb — if the image is genuine, raise the limit \
                (configurable via UnpackLimits)
                """)
        }
        chunk = next
        offset = 0
        return true
    }

    private func truncated() -> LayerFailure {
        LayerFailure("the tar archive is truncated: it ends inside entry \(quoted: currentName); download the blob again")
    }
}

extension [UInt8] {
    var textOrNil: String? { isEmpty ? nil : String(decoding: self, as: UTF8.self) }
}
