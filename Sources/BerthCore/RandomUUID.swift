/// Random (version 4) UUIDs from the system's random source. Foundation's `UUID()` on Linux opens,
/// reads and closes /dev/urandom for every one: three system calls and a file descriptor, for
/// each stream a registering agent opens and each status update an agent sends. The system
/// generator here asks getrandom(2) for eight bytes at a time, without a file.
public struct RandomUUID: Hashable, Sendable {
    /// The 16 bytes, big-endian halves, version and variant bits set as RFC 9562 asks.
    public let high: UInt64
    public let low: UInt64

    public init() {
        var generator = SystemRandomNumberGenerator()
        high = (generator.next() & ~0xF000) | 0x4000
        low = (generator.next() & ~(0xC000 << 48)) | (0x8000 << 48)
    }

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The 16 bytes in order.
    public var bytes: [UInt8] {
        (0..<16).map { index in
            let half = index < 8 ? high : low
            return UInt8(truncatingIfNeeded: half >> (56 - 8 * UInt64(index % 8)))
        }
    }

    /// Lower-case canonical text: 8-4-4-4-12 hexadecimal digits.
    public var string: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: 36) { buffer in
            var position = 0
            for (index, byte) in bytes.enumerated() {
                if index == 4 || index == 6 || index == 8 || index == 10 {
                    buffer[position] = UInt8(ascii: "-")
                    position += 1
                }
                buffer[position] = digits[Int(byte >> 4)]
                buffer[position + 1] = digits[Int(byte & 0xF)]
                position += 2
            }
            return position
        }
    }

    /// Standard base64 of the 16 bytes (24 characters), the form Mesos gives a status update's uuid.
    public var base64: String {
        let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        let input = bytes
        return String(unsafeUninitializedCapacity: 24) { buffer in
            var position = 0
            var index = 0
            while index < 16 {
                let first = UInt32(input[index])
                let second = index + 1 < 16 ? UInt32(input[index + 1]) : 0
                let third = index + 2 < 16 ? UInt32(input[index + 2]) : 0
                let group = first << 16 | second << 8 | third
                buffer[position] = alphabet[Int(group >> 18 & 63)]
                buffer[position + 1] = alphabet[Int(group >> 12 & 63)]
                buffer[position + 2] = index + 1 < 16 ? alphabet[Int(group >> 6 & 63)] : UInt8(ascii: "=")
                buffer[position + 3] = index + 2 < 16 ? alphabet[Int(group & 63)] : UInt8(ascii: "=")
                position += 4
                index += 3
            }
            return position
        }
    }
}
