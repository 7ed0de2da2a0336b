import BerthCore

// Mesos' IDs travel as `{"value": "..."}` objects. AgentID and FrameworkID live in BerthCore
// (the allocator uses them) and already encode that way; the rest are wire-only.

public struct OfferID: Hashable, Comparable, Sendable, Codable, CustomStringConvertible, ExpressibleByStringLiteral {
    public var value: String
    public init(_ value: String) { self.value = value }
    public init(stringLiteral value: String) { self.value = value }
    public var description: String { value }
    public static func < (lhs: OfferID, rhs: OfferID) -> Bool { lhs.value < rhs.value }
}

public struct TaskID: Hashable, Comparable, Sendable, Codable, CustomStringConvertible, ExpressibleByStringLiteral {
    public var value: String
    public init(_ value: String) { self.value = value }
    public init(stringLiteral value: String) { self.value = value }
    public var description: String { value }
    public static func < (lhs: TaskID, rhs: TaskID) -> Bool { lhs.value < rhs.value }
}

public struct ExecutorID: Hashable, Sendable, Codable, CustomStringConvertible, ExpressibleByStringLiteral {
    public var value: String
    public init(_ value: String) { self.value = value }
    public init(stringLiteral value: String) { self.value = value }
    public var description: String { value }
}
