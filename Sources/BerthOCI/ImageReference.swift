import BerthCore

/// A reference to an image in a registry, `[host[:port]/]path[:tag][@alg:hex]`, normalized the way
/// Docker does it so that `busybox`, `library/busybox` and `docker.io/library/busybox:latest`
/// name the same image.
public struct ImageReference: Hashable, Sendable, CustomStringConvertible {
    public static let dockerHub = "docker.io"
    /// Docker Hub's registry API lives on another host than the name people write.
    public static let dockerHubAPIHost = "registry-1.docker.io"
    public static let defaultTag = "latest"

    /// The registry as people name it: "docker.io", "quay.io", "127.0.0.1:5000".
    public let registry: String
    /// The repository path inside the registry: "library/busybox".
    public let repository: String
    /// nil only when the reference is by digest and names no tag.
    public let tag: String?
    public let digest: Digest?

    public init(registry: String, repository: String, tag: String? = nil, digest: Digest? = nil) throws {
        let text = "\(registry)/\(repository)" + (tag.map { ":\($0)" } ?? "") + (digest.map { "@\($0)" } ?? "")
        try Self.validateRegistry(registry, in: text)
        try Self.validateRepository(repository, in: text)
        if let tag { try Self.validateTag(tag, in: text) }
        self.registry = registry == "index.docker.io" ? Self.dockerHub : registry
        self.repository = repository
        self.tag = tag ?? (digest == nil ? Self.defaultTag : nil)
        self.digest = digest
    }

    public init(parsing text: String) throws {
        guard !text.isEmpty else {
            throw BerthError(.invalidArgument, "image reference is empty: expected NAME[:TAG][@DIGEST], e.g. busybox:1.36")
        }
        var rest = Substring(text)
        var digest: Digest?
        if let at = rest.lastIndex(of: "@") {
            let digestText = String(rest[rest.index(after: at)...])
            do {
                digest = try Digest(parsing: digestText)
            } catch let error as BerthError {
                throw BerthError(error.code, "image reference \"\(text)\": bad digest: \(error.message)")
            }
            rest = rest[..<at]
        }
        var tag: String?
        // A colon after the last slash starts the tag; one before it belongs to host:port.
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
            tag = String(rest[rest.index(after: colon)...])
            rest = rest[..<colon]
        }
        var registry = Self.dockerHub
        var repository = String(rest)
        if let slash = rest.firstIndex(of: "/") {
            let first = rest[..<slash]
            // Docker's rule: the first component is a host when it has a dot or a port, is
            // localhost, an IPv6 literal or not lowercase; "foo/bar" is a Docker Hub path.
            if first.contains(".") || first.contains(":") || first == "localhost" || first.hasPrefix("[")
                || first != first.lowercased() {
                registry = String(first)
                repository = String(rest[rest.index(after: slash)...])
            }
        }
        if registry == "index.docker.io" { registry = Self.dockerHub }
        if registry == Self.dockerHub && !repository.contains("/") {
            repository = "library/" + repository
        }
        try Self.validateRegistry(registry, in: text)
        try Self.validateRepository(repository, in: text)
        if let tag { try Self.validateTag(tag, in: text) }
        self.registry = registry
        self.repository = repository
        self.tag = tag ?? (digest == nil ? Self.defaultTag : nil)
        self.digest = digest
    }

    /// The host (and port) the registry API is reached at.
    public var apiHost: String { registry == Self.dockerHub ? Self.dockerHubAPIHost : registry }

    /// "registry/repository": the name without tag or digest.
    public var name: String { "\(registry)/\(repository)" }

    /// The full normalized form: "docker.io/library/busybox:latest", "host:5000/app@sha256:...".
    public var description: String {
        name + (tag.map { ":\($0)" } ?? "") + (digest.map { "@\($0)" } ?? "")
    }

    /// The name as Docker prints it: "busybox", "user/app", "quay.io/org/app".
    public var familiarName: String {
        guard registry == Self.dockerHub else { return name }
        if repository.hasPrefix("library/"), repository.split(separator: "/").count == 2 {
            return String(repository.dropFirst("library/".count))
        }
        return repository
    }

    /// The familiar name with tag and digest: "busybox:latest".
    public var familiarString: String {
        familiarName + (tag.map { ":\($0)" } ?? "") + (digest.map { "@\($0)" } ?? "")
    }

    /// The same repository with another tag and no digest: where a push of this image by tag goes.
    public func withTag(_ tag: String) throws -> ImageReference {
        try ImageReference(registry: registry, repository: repository, tag: tag)
    }

    /// What a manifest request names: the digest when there is one (it pins content), else the tag.
    public var manifestReference: String { digest?.description ?? tag ?? Self.defaultTag }
}

// MARK: - Validation (github.com/distribution/reference grammar)

extension ImageReference {
    static let maxNameLength = 255
    static let maxTagLength = 128

    static func validateRegistry(_ registry: String, in text: String) throws {
        func bad(_ why: String) -> BerthError {
            BerthError(.invalidArgument, "image reference \"\(text)\": registry \"\(registry)\" \(why)")
        }
        var host = Substring(registry)
        var port: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { throw bad("has an unclosed IPv6 bracket") }
            let inside = host[host.index(after: host.startIndex)..<close]
            guard !inside.isEmpty, inside.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                throw bad("is not a valid IPv6 address")
            }
            let after = host[host.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw bad("has text after the IPv6 address") }
                port = after.dropFirst()
            }
            host = ""
        } else if let colon = host.firstIndex(of: ":") {
            port = host[host.index(after: colon)...]
            host = host[..<colon]
        }
        if let port {
            guard !port.isEmpty, port.count <= 5, port.allSatisfy(\.isASCIIDigit), let value = Int(port), value <= 65535 else {
                throw bad("has an invalid port \"\(port)\": expected a number from 0 to 65535")
            }
        }
        for component in host.split(separator: ".", omittingEmptySubsequences: false) where !registry.hasPrefix("[") {
            guard !component.isEmpty, component.count <= 63,
                  component.allSatisfy({ $0.isASCIILetterOrDigit || $0 == "-" }),
                  component.first != "-", component.last != "-" else {
                throw bad("is not a valid host name: use letters, digits, dots and dashes, e.g. registry.example.com:5000")
            }
        }
    }

    static func validateRepository(_ repository: String, in text: String) throws {
        guard !repository.isEmpty else {
            throw BerthError(.invalidArgument, "image reference \"\(text)\": the repository name is empty")
        }
        guard repository == repository.lowercased() else {
            throw BerthError(.invalidArgument, "image reference \"\(text)\": repository \"\(repository)\" must be lowercase")
        }
        for component in repository.split(separator: "/", omittingEmptySubsequences: false) {
            guard isValidPathComponent(component) else {
                throw BerthError(.invalidArgument, "image reference \"\(text)\": path component \"\(component)\" is invalid: use lowercase letters and digits, separated by one '.', one or two '_', or dashes")
            }
        }
        guard repository.count <= maxNameLength else {
            throw BerthError(.invalidArgument, "image reference \"\(text)\": repository name is longer than \(maxNameLength) characters")
        }
    }

    /// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
    static func isValidPathComponent(_ component: Substring) -> Bool {
        var chars = Array(component.utf8)[...]
        func alnumRun() -> Bool {
            let start = chars.startIndex
            while let c = chars.first, (0x61...0x7a).contains(c) || (0x30...0x39).contains(c) { chars = chars.dropFirst() }
            return chars.startIndex > start
        }
        guard alnumRun() else { return false }
        while let c = chars.first {
            switch c {
            case UInt8(ascii: "."):
                chars = chars.dropFirst()
            case UInt8(ascii: "_"):
                chars = chars.dropFirst()
                if chars.first == UInt8(ascii: "_") { chars = chars.dropFirst() }
            case UInt8(ascii: "-"):
                while chars.first == UInt8(ascii: "-") { chars = chars.dropFirst() }
            default:
                return false
            }
            guard alnumRun() else { return false }
        }
        return true
    }

    /// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`
    static func validateTag(_ tag: String, in text: String) throws {
        guard let first = tag.first, first.isASCIILetterOrDigit || first == "_", tag.count <= maxTagLength,
              tag.allSatisfy({ $0.isASCIILetterOrDigit || $0 == "_" || $0 == "." || $0 == "-" }) else {
            throw BerthError(.invalidArgument, "image reference \"\(text)\": tag \"\(tag)\" is invalid: up to \(maxTagLength) letters, digits, '_', '.' and '-', not starting with '.' or '-'")
        }
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
    fileprivate var isASCIILetterOrDigit: Bool { isASCII && (isLetter || isNumber) }
}
