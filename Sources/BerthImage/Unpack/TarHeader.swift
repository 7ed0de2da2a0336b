/// Field parsing for one 512-byte tar header block (ustar, with GNU's extensions).
struct TarHeader {
    let block: UnsafeRawBufferPointer

    static let size = 512

    var isZero: Bool {
        // Word-wise: this runs for every header of every layer.
        (0..<(Self.size / 8)).allSatisfy { block.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self) == 0 }
    }

    var typeFlag: UInt8 { block[156] }

    /// POSIX ustar ("ustar\0"), whose prefix field extends the name; GNU's old format
    /// ("ustar  \0") uses those bytes for other things.
    var isPOSIXUstar: Bool {
        block[257] == 0x75 && block[258] == 0x73 && block[259] == 0x74 && block[260] == 0x61
            && block[261] == 0x72 && block[262] == 0
    }

    /// The stored checksum matches the header (summed unsigned, or signed as some old tars did).
    func checksumMatches() throws -> Bool {
        let stored = try number(at: 148, length: 8, field: "checksum")
        var unsigned: Int64 = 0
        var signed: Int64 = 0
        for i in 0..<Self.size {
            let byte = (148..<156).contains(i) ? 0x20 : block[i]
            unsigned += Int64(byte)
            signed += Int64(Int8(bitPattern: byte))
        }
        return stored == unsigned || stored == signed
    }

    /// A NUL-terminated text field.
    func bytes(at offset: Int, length: Int) -> [UInt8] {
        var end = offset
        while end < offset + length && block[end] != 0 { end += 1 }
        return Array(block[offset..<end])
    }

    var name: [UInt8] {
        let name = bytes(at: 0, length: 100)
        guard isPOSIXUstar else { return name }
        let prefix = bytes(at: 345, length: 155)
        return prefix.isEmpty ? name : prefix + [0x2f] + name
    }

    var linkName: [UInt8] { bytes(at: 157, length: 100) }

    /// A numeric field: octal text (space or NUL terminated), or GNU's base-256 form — the
    /// high bit of the first byte set, then a big-endian two's-complement number — that holds
    /// sizes over 8 GiB and large IDs.
    func number(at offset: Int, length: Int, field: String) throws -> Int64 {
        let first = block[offset]
        if first & 0x80 != 0 {
            let negative = first & 0x40 != 0
            var value: Int64 = negative ? -1 : 0
            for i in 0..<length {
                let byte = i == 0 ? (negative ? first : first & 0x7f) : block[offset + i]
                guard value <= Int64.max >> 8 && value >= Int64.min >> 8 else {
                    throw LayerFailure("tar header field \(field) holds a base-256 number too large to represent; the archive is corrupt")
                }
                value = (value << 8) | Int64(byte)
            }
            return value
        }
        var value: Int64 = 0
        var i = offset
        let end = offset + length
        while i < end && (block[i] == 0x20 || block[i] == 0) { i += 1 }
        while i < end {
            let c = block[i]
            if c == 0x20 || c == 0 { break }
            guard c >= 0x30 && c <= 0x37 else {
                throw LayerFailure("tar header field \(field) is not an octal number; the archive is corrupt or not a tar archive")
            }
            guard value < Int64.max >> 3 else {
                throw LayerFailure("tar header field \(field) overflows; the archive is corrupt")
            }
            value = value << 3 | Int64(c - 0x30)
            i += 1
        }
        return value
    }
}
