/// Where a JSON text first breaks the grammar, for error messages: JSONDecoder only says "not
/// valid JSON". Foundation's JSONSerialization says where, but it is not in FoundationEssentials,
/// and `berth run` stays out of the rest of Foundation (its start is timed against runc).
public enum JSONSyntax {
    /// nil when `text` is one JSON value (surrounded by whitespace at most); otherwise what is
    /// wrong and where: "Unexpected character '}' at line 3, column 14", "Unexpected end of file".
    public static func firstError(in text: [UInt8]) -> String? {
        var scanner = Scanner(bytes: text)
        do throws(Failure) {
            try scanner.value(depth: 0)
            scanner.skipWhitespace()
            if scanner.index < text.count { throw scanner.unexpected() }
            return nil
        } catch {
            return error.message
        }
    }

    struct Failure: Error {
        var message: String
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        /// Deeper nesting than any profile or message needs, and far from the stack's end.
        static let maximumDepth = 512

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func skipWhitespace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }

        func unexpected() -> Failure {
            guard index < bytes.count else { return Failure(message: "Unexpected end of file") }
            var line = 1, column = 1
            for byte in bytes[..<index] {
                if byte == 0x0A { line += 1; column = 1 } else if byte & 0xC0 != 0x80 { column += 1 }
            }
            let byte = bytes[index]
            let shown = (0x20..<0x7F).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "byte \(byte)"
            return Failure(message: "Unexpected character \(shown) at line \(line), column \(column)")
        }

        mutating func expect(_ byte: UInt8) throws(Failure) {
            guard index < bytes.count, bytes[index] == byte else { throw unexpected() }
            index += 1
        }

        mutating func value(depth: Int) throws(Failure) {
            skipWhitespace()
            guard index < bytes.count else { throw unexpected() }
            guard depth < Self.maximumDepth else { throw Failure(message: "Nesting deeper than \(Self.maximumDepth) levels") }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                index += 1
                skipWhitespace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return }
                while true {
                    skipWhitespace()
                    try string()
                    skipWhitespace()
                    try expect(UInt8(ascii: ":"))
                    try value(depth: depth + 1)
                    skipWhitespace()
                    if index < bytes.count, bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    try expect(UInt8(ascii: "}"))
                    return
                }
            case UInt8(ascii: "["):
                index += 1
                skipWhitespace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return }
                while true {
                    try value(depth: depth + 1)
                    skipWhitespace()
                    if index < bytes.count, bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    try expect(UInt8(ascii: "]"))
                    return
                }
            case UInt8(ascii: "\""):
                try string()
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            default:
                try number()
            }
        }

        mutating func literal(_ word: String) throws(Failure) {
            for byte in word.utf8 { try expect(byte) }
        }

        mutating func string() throws(Failure) {
            try expect(UInt8(ascii: "\""))
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    return
                case UInt8(ascii: "\\"):
                    index += 1
                    guard index < bytes.count else { throw unexpected() }
                    if bytes[index] == UInt8(ascii: "u") {
                        for _ in 0..<4 {
                            index += 1
                            guard index < bytes.count, isHexDigit(bytes[index]) else { throw unexpected() }
                        }
                    } else if !"\"\\/bfnrt".utf8.contains(bytes[index]) {
                        throw unexpected()
                    }
                    index += 1
                case 0..<0x20:
                    throw unexpected()
                default:
                    index += 1
                }
            }
            throw unexpected()
        }

        mutating func number() throws(Failure) {
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            if index < bytes.count, bytes[index] == UInt8(ascii: "0") {
                index += 1
            } else {
                try digits()
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                try digits()
            }
            if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                try digits()
            }
        }

        mutating func digits() throws(Failure) {
            let start = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            if index == start { throw unexpected() }
        }

        func isHexDigit(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte | 0x20)
        }
    }
}
