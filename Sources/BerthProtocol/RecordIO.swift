import BerthCore

/// Mesos' RecordIO framing of a stream of JSON documents: each record is its length in bytes as
/// decimal digits, a newline, then the record (`"20\n{\"type\":\"HEARTBEAT\"}"`).
public enum RecordIO {
    public static func frame(_ record: some Collection<UInt8>) -> [UInt8] {
        Array("\(record.count)\n".utf8) + record
    }
}

/// Splits a byte stream into RecordIO records, whatever the chunk boundaries: bytes are fed as
/// they arrive, complete records come out, and a partial one waits for the rest.
public struct RecordIODecoder: Sendable {
    /// A record longer than this is refused rather than buffered: a guard against a corrupt length.
    public var maximumRecordSize: Int
    private var buffer: [UInt8] = []
    private var expected: Int?

    public init(maximumRecordSize: Int = 64 << 20) {
        self.maximumRecordSize = maximumRecordSize
    }

    /// The records completed by `bytes`, in order. Throws when the stream is not RecordIO.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws -> [[UInt8]] {
        buffer.append(contentsOf: bytes)
        var records: [[UInt8]] = []
        var start = 0
        while true {
            if let length = expected {
                guard buffer.count - start >= length else { break }
                records.append(Array(buffer[start..<start + length]))
                start += length
                expected = nil
            } else {
                guard let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) else {
                    if buffer.count - start > 20 { throw malformed("a length of more than 20 characters without a newline") }
                    break
                }
                let digits = buffer[start..<newline]
                guard !digits.isEmpty, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                      let length = Int(String(decoding: digits, as: UTF8.self)) else {
                    throw malformed("the record length \"\(String(decoding: digits.prefix(20), as: UTF8.self))\" is not a decimal number")
                }
                guard length <= maximumRecordSize else {
                    throw malformed("a record of \(length) bytes is over the limit of \(maximumRecordSize)")
                }
                expected = length
                start = newline + 1
            }
        }
        buffer.removeFirst(start)
        return records
    }

    /// True when the stream ended between records, not in the middle of one.
    public var isAtRecordBoundary: Bool { buffer.isEmpty && expected == nil }

    private func malformed(_ what: String) -> BerthError {
        BerthError(.invalidArgument, "malformed RecordIO stream: \(what); expected \"<length>\\n<record>\" framing")
    }
}
