import Foundation

/// The records of a pax extended header ('x' for the next entry, 'g' for all that follow):
/// "LENGTH KEY=VALUE\n", LENGTH counting the whole record in decimal.
struct PaxRecords {
    private(set) var values: [String: [UInt8]] = [:]
    /// SCHILY.xattr.NAME and LIBARCHIVE.xattr.NAME, in archive order.
    private(set) var xattrs: [(name: String, value: [UInt8])] = []

    init() {}

    init(parsing data: [UInt8]) throws {
        var index = 0
        while index < data.count {
            // Trailing NULs pad some writers' headers.
            if data[index] == 0 { break }
            var length = 0
            var cursor = index
            while cursor < data.count, data[cursor] >= 0x30, data[cursor] <= 0x39, length < 1 << 30 {
                length = length * 10 + Int(data[cursor] - 0x30)
                cursor += 1
            }
            guard cursor < data.count, data[cursor] == 0x20, length > cursor - index + 1,
                  index + length <= data.count, data[index + length - 1] == 0x0a,
                  let equals = data[(cursor + 1)..<(index + length - 1)].firstIndex(of: 0x3d) else {
                throw LayerFailure("a pax extended header record at byte \(index) is malformed; the archive is corrupt")
            }
            let key = String(decoding: data[(cursor + 1)..<equals], as: UTF8.self)
            let value = Array(data[(equals + 1)..<(index + length - 1)])
            try add(key: key, value: value)
            index += length
        }
    }

    private mutating func add(key: String, value: [UInt8]) throws {
        if key.hasPrefix("GNU.sparse.") {
            throw LayerFailure("the archive holds a GNU sparse file (pax key \(key)), an unsupported tar entry type; rebuild the layer without --sparse")
        }
        if key.hasPrefix("SCHILY.xattr.") {
            setXattr(String(key.dropFirst("SCHILY.xattr.".count)), value)
        } else if key.hasPrefix("LIBARCHIVE.xattr.") {
            // libarchive percent-encodes the name and base64-encodes the value.
            let name = String(key.dropFirst("LIBARCHIVE.xattr.".count)).removingPercentEncoding ?? String(key.dropFirst("LIBARCHIVE.xattr.".count))
            guard let decoded = Data(base64Encoded: Data(value), options: .ignoreUnknownCharacters) else {
                throw LayerFailure("pax record \(key) holds invalid base64; the archive is corrupt")
            }
            setXattr(name, Array(decoded))
        } else {
            values[key] = value
        }
    }

    private mutating func setXattr(_ name: String, _ value: [UInt8]) {
        xattrs.removeAll { $0.name == name }
        xattrs.append((name, value))
    }

    /// Records of `other` override these (an entry's 'x' header over the global 'g' ones).
    mutating func merge(_ other: PaxRecords) {
        values.merge(other.values) { _, new in new }
        for (name, value) in other.xattrs { setXattr(name, value) }
    }

    subscript(key: String) -> [UInt8]? { values[key] }

    func integer(_ key: String) throws -> Int64? {
        guard let text = values[key] else { return nil }
        guard let value = Int64(String(decoding: text, as: UTF8.self)) else {
            throw LayerFailure("pax record \(key)=\(String(decoding: text, as: UTF8.self)) is not a decimal integer; the archive is corrupt")
        }
        return value
    }

    /// "1700000000.123456789": seconds and a fraction, kept to nanoseconds.
    func time(_ key: String) throws -> TarTime? {
        guard let text = values[key] else { return nil }
        let string = String(decoding: text, as: UTF8.self)
        let parts = string.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let seconds = Int64(parts[0].isEmpty ? "0" : parts[0]) else {
            throw LayerFailure("pax record \(key)=\(string) is not a time; the archive is corrupt")
        }
        var nanoseconds = 0
        if parts.count == 2 {
            let digits = parts[1].prefix(9)
            guard digits.allSatisfy(\.isASCII), let fraction = Int(digits.isEmpty ? "0" : digits), fraction >= 0 else {
                throw LayerFailure("pax record \(key)=\(string) is not a time; the archive is corrupt")
            }
            nanoseconds = fraction * Int(pow(10, Double(9 - digits.count)))
            // "-1.5" is half a second before -1: negative times count the fraction backwards.
            if string.hasPrefix("-") && nanoseconds > 0 {
                return TarTime(seconds: seconds - 1, nanoseconds: 1_000_000_000 - nanoseconds)
            }
        }
        return TarTime(seconds: seconds, nanoseconds: nanoseconds)
    }
}
