/// Mesos' identifiers are opaque strings; distinct types keep an agent ID from being passed where
/// a framework ID is expected.
public struct AgentID: Hashable, Comparable, Sendable, Codable, CustomStringConvertible, ExpressibleByStringLiteral {
    public var value: String
    public init(_ value: String) { self.value = value }
    public init(stringLiteral value: String) { self.value = value }
    public var description: String { value }
    public static func < (lhs: AgentID, rhs: AgentID) -> Bool { lhs.value < rhs.value }
}

public struct FrameworkID: Hashable, Comparable, Sendable, Codable, CustomStringConvertible, ExpressibleByStringLiteral {
    public var value: String
    public init(_ value: String) { self.value = value }
    public init(stringLiteral value: String) { self.value = value }
    public var description: String { value }
    public static func < (lhs: FrameworkID, rhs: FrameworkID) -> Bool { lhs.value < rhs.value }
}
