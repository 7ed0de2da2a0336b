/// A role name, validated as Mesos validates them: `*` (the default role, meaning unreserved for
/// resources), or `/`-separated components such as `eng/web`.
public struct Role: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let name: String

    /// `*`: what frameworks get when they name no role, and the "role" of unreserved resources.
    public static let `default` = Role(validated: "*")

    public init(_ name: String) throws {
        if let problem = Self.problem(with: name) {
            throw BerthError(.invalidArgument, "role \"\(name)\": \(problem)")
        }
        self.name = name
    }

    private init(validated name: String) { self.name = name }

    public var isDefault: Bool { name == "*" }
    public var description: String { name }

    /// `eng` for `eng/web`, nil for a top-level role and for `*`.
    public var parent: Role? {
        guard !isDefault, let slash = name.lastIndex(of: "/") else { return nil }
        return Role(validated: String(name[..<slash]))
    }

    /// Parent first, then its parent, up to the top-level role.
    public var ancestors: [Role] {
        var result: [Role] = []
        var current = parent
        while let role = current {
            result.append(role)
            current = role.parent
        }
        return result
    }

    /// True for `eng` and `eng/web` when self is `eng/web`: the roles whose reservations self may use.
    public func isSelfOrDescendant(of other: Role) -> Bool {
        guard !other.isDefault, !isDefault else { return self == other }
        return name == other.name || (name.hasPrefix(other.name) && name.dropFirst(other.name.count).first == "/")
    }

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.name < rhs.name }

    /// Why `name` is not a valid role, or nil when it is. The rules are Mesos' (roles.cpp).
    public static func problem(with name: String) -> String? {
        if name == "*" { return nil }
        if name.isEmpty { return "a role name cannot be empty; use \"*\" for the default role" }
        if name.hasPrefix("/") || name.hasSuffix("/") { return "a role name cannot start or end with \"/\"" }
        for component in name.split(separator: "/", omittingEmptySubsequences: false) {
            if component.isEmpty { return "a role name cannot contain \"//\"" }
            if component == "." || component == ".." { return "\"\(component)\" is not allowed as a role name component" }
            if component == "*" { return "\"*\" is only allowed as the whole role name, not as a component" }
            if component.hasPrefix("-") { return "a role name component cannot start with \"-\"" }
            if let bad = component.unicodeScalars.first(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7f || $0 == "\\" }) {
                return "a role name cannot contain \(bad.properties.isWhitespace ? "whitespace" : "the character U+\(String(bad.value, radix: 16, uppercase: true))")"
            }
        }
        return nil
    }
}

extension Role: Codable {
    public init(from decoder: any Decoder) throws {
        try self.init(decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }
}
