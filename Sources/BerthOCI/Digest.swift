import BerthCore
import Crypto
import FoundationEssentials

/// A content digest, "sha256:<64 hex>", as the OCI image spec defines it. Only sha256 and sha512
/// are accepted: those are the algorithms registries use, and both are verified while streaming.
public struct Digest: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    public enum Algorithm: String, Sendable, CaseIterable {
        case sha256
        case sha512

        var hexLength: Int { self == .sha256 ? 64 : 128 }
    }

    public let algorithm: Algorithm
    /// Lowercase hex.
    public let encoded: String

    public init(algorithm: Algorithm, encoded: String) throws {
        guard encoded.count == algorithm.hexLength,
              encoded.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            throw BerthError(.invalidArgument, "digest \(algorithm.rawValue):\(encoded): expected \(algorithm.hexLength) lowercase hex characters")
        }
        self.algorithm = algorithm
        self.encoded = encoded
    }

    public init(parsing text: String) throws {
        guard let colon = text.firstIndex(of: ":") else {
            throw BerthError(.invalidArgument, "digest \"\(text)\": expected ALGORITHM:HEX, e.g. sha256:9f86d0...")
        }
        let name = String(text[..<colon])
        guard let algorithm = Algorithm(rawValue: name) else {
            throw BerthError(.unsupported, "digest \"\(text)\": algorithm \"\(name)\" is not supported; use sha256 or sha512")
        }
        try self.init(algorithm: algorithm, encoded: String(text[text.index(after: colon)...]))
    }

    /// The digest of bytes in memory (manifests, configs).
    public static func sha256(of data: some DataProtocol) -> Digest {
        var hasher = DigestHasher(.sha256)
        hasher.update(data)
        return hasher.finalize()
    }

    public var description: String { "\(algorithm.rawValue):\(encoded)" }
    /// The first 12 hex characters, as people quote image IDs.
    public var short: String { String(encoded.prefix(12)) }

    public static func < (a: Digest, b: Digest) -> Bool { a.description < b.description }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        try self.init(parsing: text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Computes a digest incrementally, for blobs that stream through.
public struct DigestHasher {
    private enum State {
        case sha256(SHA256)
        case sha512(SHA512)
    }

    private var state: State
    public let algorithm: Digest.Algorithm

    public init(_ algorithm: Digest.Algorithm) {
        self.algorithm = algorithm
        switch algorithm {
        case .sha256: state = .sha256(SHA256())
        case .sha512: state = .sha512(SHA512())
        }
    }

    public mutating func update(_ data: some DataProtocol) {
        switch state {
        case .sha256(var hash):
            hash.update(data: data)
            state = .sha256(hash)
        case .sha512(var hash):
            hash.update(data: data)
            state = .sha512(hash)
        }
    }

    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        switch state {
        case .sha256(var hash):
            hash.update(bufferPointer: buffer)
            state = .sha256(hash)
        case .sha512(var hash):
            hash.update(bufferPointer: buffer)
            state = .sha512(hash)
        }
    }

    public func finalize() -> Digest {
        let bytes: [UInt8]
        switch state {
        case .sha256(let hash): bytes = Array(hash.finalize())
        case .sha512(let hash): bytes = Array(hash.finalize())
        }
        let hex = bytes.map { byte in
            let digits = Array("0123456789abcdef".utf8)
            return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]], as: UTF8.self)
        }.joined()
        // The hex is well formed by construction.
        return Digest(unchecked: algorithm, encoded: hex)
    }
}

extension Digest {
    fileprivate init(unchecked algorithm: Algorithm, encoded: String) {
        self.algorithm = algorithm
        self.encoded = encoded
    }
}
