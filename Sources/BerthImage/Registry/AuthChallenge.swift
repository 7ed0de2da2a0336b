/// One challenge of a `WWW-Authenticate` header (RFC 7235), as registries send them:
/// `Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"`
/// or `Basic realm="Registry Realm"`.
public struct AuthChallenge: Hashable, Sendable {
    public enum Scheme: Hashable, Sendable {
        case basic
        case bearer
        case other(String)
    }

    public var scheme: Scheme
    /// Parameter names lowercased (they are case-insensitive); values unquoted and unescaped.
    public var parameters: [String: String]

    public init(scheme: Scheme, parameters: [String: String]) {
        self.scheme = scheme
        self.parameters = parameters
    }

    public var realm: String? { parameters["realm"] }
    public var service: String? { parameters["service"] }
    public var scope: String? { parameters["scope"] }

    /// All challenges in a header value; an empty list when nothing could be read.
    public static func parse(_ header: String) -> [AuthChallenge] {
        var scanner = ChallengeScanner(Array(header.utf8))
        var result: [AuthChallenge] = []
        while let challenge = scanner.nextChallenge() {
            result.append(challenge)
        }
        return result
    }
}

/// A small hand-written scanner: quoted values may hold commas and escaped quotes, which rules
/// out splitting on commas.
private struct ChallengeScanner {
    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    private var atEnd: Bool { index >= bytes.count }

    private mutating func skip(while predicate: (UInt8) -> Bool) {
        while !atEnd, predicate(bytes[index]) { index += 1 }
    }

    private static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 }
    private static func isTokenChar(_ c: UInt8) -> Bool {
        c > 0x20 && c < 0x7f && !"()<>@,;:\\\"/[]?={}".utf8.contains(c)
    }

    private mutating func token() -> String? {
        let start = index
        // token68 values (Basic's base64) may contain '/' '+' and trailing '='; names never do.
        skip(while: Self.isTokenChar)
        return index > start ? String(decoding: bytes[start..<index], as: UTF8.self) : nil
    }

    private mutating func quoted() -> String {
        index += 1  // opening quote
        var value: [UInt8] = []
        while !atEnd, bytes[index] != UInt8(ascii: "\"") {
            if bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count { index += 1 }
            value.append(bytes[index])
            index += 1
        }
        if !atEnd { index += 1 }  // closing quote
        return String(decoding: value, as: UTF8.self)
    }

    mutating func nextChallenge() -> AuthChallenge? {
        skip { Self.isSpace($0) || $0 == UInt8(ascii: ",") }
        guard let schemeName = token() else { return nil }
        let scheme: AuthChallenge.Scheme
        switch schemeName.lowercased() {
        case "basic": scheme = .basic
        case "bearer": scheme = .bearer
        default: scheme = .other(schemeName)
        }
        var parameters: [String: String] = [:]
        while true {
            let save = index
            skip { Self.isSpace($0) || $0 == UInt8(ascii: ",") }
            guard let name = token() else { break }
            skip(while: Self.isSpace)
            guard !atEnd, bytes[index] == UInt8(ascii: "=") else {
                // A bare token after a challenge's parameters starts the next challenge.
                index = save
                break
            }
            index += 1
            skip(while: Self.isSpace)
            if !atEnd, bytes[index] == UInt8(ascii: "\"") {
                parameters[name.lowercased()] = quoted()
            } else {
                let start = index
                skip { $0 != UInt8(ascii: ",") && !Self.isSpace($0) }
                parameters[name.lowercased()] = String(decoding: bytes[start..<index], as: UTF8.self)
            }
        }
        return AuthChallenge(scheme: scheme, parameters: parameters)
    }
}
