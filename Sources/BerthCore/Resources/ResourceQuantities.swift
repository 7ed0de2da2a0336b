/// Amounts by resource name, regardless of reservation or which ports: what quotas and
/// `min_allocatable_resources` speak in. Text form `cpus:0.01;mem:32`.
public struct ResourceQuantities: Hashable, Sendable, CustomStringConvertible {
    public private(set) var amounts: [String: Scalar]

    public init(_ amounts: [String: Scalar] = [:]) {
        self.amounts = amounts.filter { $0.value > .zero }
    }

    public var isEmpty: Bool { amounts.isEmpty }

    public subscript(name: String) -> Scalar {
        get { amounts[name] ?? .zero }
        set { amounts[name] = newValue > .zero ? newValue : nil }
    }

    /// True when every amount in `other` is at most the amount here.
    public func contains(_ other: ResourceQuantities) -> Bool {
        other.amounts.allSatisfy { self[$0.key] >= $0.value }
    }

    public var description: String {
        amounts.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ";")
    }

    /// Parses alternatives separated by `|`, as Mesos' `--min_allocatable_resources` flag reads
    /// them: `cpus:0.01|mem:32` is "at least 0.01 cpus, or at least 32 MB of memory".
    public static func parseAlternatives(_ text: String) throws -> [ResourceQuantities] {
        try text.split(separator: "|").map { try parse(String($0)) }.filter { !$0.isEmpty }
    }

    /// Parses `cpus:0.01;mem:32`: names and non-negative decimals only.
    public static func parse(_ text: String) throws -> ResourceQuantities {
        var result = ResourceQuantities()
        for token in text.split(separator: ";").map({ $0.trimmingWhitespace }) where !token.isEmpty {
            let parts = token.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let amount = Scalar(parsing: parts[1].trimmingWhitespace), !parts[0].trimmingWhitespace.isEmpty else {
                throw BerthError(.invalidArgument, "quantity \"\(token)\" is not NAME:AMOUNT with a non-negative decimal amount, e.g. cpus:0.01")
            }
            result[String(parts[0].trimmingWhitespace)] += amount
        }
        return result
    }
}

extension StringProtocol {
    /// Without leading and trailing whitespace (newlines included); no Foundation.
    public var trimmingWhitespace: SubSequence {
        let start = firstIndex { !$0.isWhitespace } ?? endIndex
        let end = lastIndex { !$0.isWhitespace }.map { index(after: $0) } ?? start
        return self[start..<end]
    }
}
