import Foundation

/// Writes tar archives byte by byte for the tests, including malformed and hostile ones that no
/// real tar would produce.
struct TarBuilder {
    enum Format { case ustar, gnu }

    private(set) var bytes: [UInt8] = []

    static let defaultTime = 1_700_000_000

    mutating func file(_ name: String, _ content: String = "", mode: Int = 0o644, uid: Int = 0, gid: Int = 0,
                       mtime: Int = defaultTime) {
        header(name: name, type: "0", size: content.utf8.count, mode: mode, uid: uid, gid: gid, mtime: mtime)
        payload(Array(content.utf8))
    }

    mutating func file(_ name: String, bytes content: [UInt8], mode: Int = 0o644) {
        header(name: name, type: "0", size: content.count, mode: mode)
        payload(content)
    }

    mutating func directory(_ name: String, mode: Int = 0o755, uid: Int = 0, gid: Int = 0, mtime: Int = defaultTime) {
        header(name: name, type: "5", mode: mode, uid: uid, gid: gid, mtime: mtime)
    }

    mutating func symlink(_ name: String, to target: String, uid: Int = 0, gid: Int = 0) {
        header(name: name, type: "2", mode: 0o777, uid: uid, gid: gid, linkName: target)
    }

    mutating func hardlink(_ name: String, to target: String) {
        header(name: name, type: "1", linkName: target)
    }

    mutating func fifo(_ name: String, mode: Int = 0o600) {
        header(name: name, type: "6", mode: mode)
    }

    mutating func characterDevice(_ name: String, major: Int, minor: Int, mode: Int = 0o666) {
        header(name: name, type: "3", mode: mode, deviceMajor: major, deviceMinor: minor)
    }

    /// A pax extended header ('x') for the next entry, or a global one ('g').
    mutating func pax(_ records: [(String, String)], global: Bool = false) {
        var data: [UInt8] = []
        for (key, value) in records {
            let body = " \(key)=\(value)\n"
            // The length counts its own digits.
            var length = body.utf8.count + 1
            while String(length).count + body.utf8.count != length { length += 1 }
            data += Array("\(length)\(body)".utf8)
        }
        header(name: "PaxHeaders/x", type: global ? "g" : "x", size: data.count)
        payload(data)
    }

    /// GNU's 'L' (long name) or 'K' (long link name) header for the next entry.
    mutating func gnuLong(_ type: Character, _ text: String) {
        let data = Array(text.utf8) + [0]
        header(name: "././@LongLink", type: type, size: data.count, format: .gnu)
        payload(data)
    }

    mutating func header(name: String, type: Character, size: Int = 0, mode: Int = 0o644, uid: Int = 0, gid: Int = 0,
                         mtime: Int = defaultTime, linkName: String = "", deviceMajor: Int = 0, deviceMinor: Int = 0,
                         format: Format = .ustar, base256Size: Bool = false, corruptChecksum: Bool = false,
                         prefix: String = "") {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ text: [UInt8], at offset: Int, length: Int) {
            for (i, byte) in text.prefix(length).enumerated() { block[offset + i] = byte }
        }
        func octal(_ value: Int, at offset: Int, length: Int) {
            let digits = String(value, radix: 8)
            let padded = String(repeating: "0", count: max(0, length - 1 - digits.count)) + digits
            put(Array(padded.utf8), at: offset, length: length - 1)
        }
        put(Array(name.utf8), at: 0, length: 100)
        octal(mode, at: 100, length: 8)
        octal(uid, at: 108, length: 8)
        octal(gid, at: 116, length: 8)
        if base256Size {
            block[124] = 0x80
            var value = size
            for i in stride(from: 135, to: 124, by: -1) {
                block[i] = UInt8(value & 0xff)
                value >>= 8
            }
        } else {
            octal(size, at: 124, length: 12)
        }
        octal(mtime, at: 136, length: 12)
        block[156] = type.asciiValue ?? 0
        put(Array(linkName.utf8), at: 157, length: 100)
        switch format {
        case .ustar:
            put(Array("ustar\0".utf8), at: 257, length: 6)
            put(Array("00".utf8), at: 263, length: 2)
        case .gnu:
            put(Array("ustar  \0".utf8), at: 257, length: 8)
        }
        put(Array("root".utf8), at: 265, length: 32)
        put(Array("root".utf8), at: 297, length: 32)
        octal(deviceMajor, at: 329, length: 8)
        octal(deviceMinor, at: 337, length: 8)
        put(Array(prefix.utf8), at: 345, length: 155)
        for i in 148..<156 { block[i] = 0x20 }
        var sum = block.reduce(0) { $0 + Int($1) }
        if corruptChecksum { sum += 1 }
        let digits = String(sum, radix: 8)
        put(Array((String(repeating: "0", count: 6 - digits.count) + digits + "\0").utf8), at: 148, length: 7)
        bytes += block
    }

    /// Content and the zero padding to the next 512-byte block.
    mutating func payload(_ data: [UInt8]) {
        bytes += data
        bytes += [UInt8](repeating: 0, count: (512 - data.count % 512) % 512)
    }

    /// The two zero blocks that end an archive.
    mutating func end() {
        bytes += [UInt8](repeating: 0, count: 1024)
    }

    func finished() -> [UInt8] {
        var copy = self
        copy.end()
        return copy.bytes
    }
}
