/// A scalar resource amount in fixed point with three decimal places, as Mesos has kept them
/// since 1.0: sums never drift, so `0.1 + 0.2` cpus is exactly `0.3` and stays offerable.
public struct Scalar: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Thousandths of a unit.
    public var milli: Int64

    public static let zero = Scalar(milli: 0)
    /// The largest amount: sums saturate here instead of trapping.
    public static let max = Scalar(milli: Int64.max)

    public init(milli: Int64) { self.milli = milli }

    public init(_ units: Int) {
        let (value, overflow) = Int64(units).multipliedReportingOverflow(by: 1000)
        self.milli = overflow ? (units < 0 ? Int64.min : Int64.max) : value
    }

    /// Rounds to the nearest thousandth, as Mesos does with the doubles it receives in JSON.
    /// Nil for values that are not finite or do not fit.
    public init?(rounding value: Double) {
        guard value.isFinite else { return nil }
        let scaled = (value * 1000).rounded()
        guard scaled > -9.2e18, scaled < 9.2e18 else { return nil }
        self.milli = Int64(scaled)
    }

    /// Parses a decimal such as "4", "0.1" or "1.2345" exactly from its digits (no detour through
    /// a double), rounding half up at the fourth decimal. Nil when the text is not a non-negative
    /// decimal number.
    public init?(parsing text: some StringProtocol) {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty || parts.count == 2,
              whole.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        let fraction = parts.count == 2 ? parts[1] : ""
        guard fraction.allSatisfy({ $0.isASCII && $0.isNumber }), !(whole.isEmpty && fraction.isEmpty),
              parts.count == 1 || !fraction.isEmpty else { return nil }
        let units = whole.isEmpty ? 0 : Int64(whole)
        guard let units else { return nil }
        let digits = fraction.compactMap { $0.wholeNumberValue }.map(Int64.init)
        var thousandths: Int64 = 0
        for index in 0..<3 { thousandths = thousandths * 10 + (index < digits.count ? digits[index] : 0) }
        if digits.count > 3, digits[3] >= 5 { thousandths += 1 }
        let (scaled, overflow) = units.multipliedReportingOverflow(by: 1000)
        let (total, overflow2) = scaled.addingReportingOverflow(thousandths)
        guard !overflow, !overflow2 else { return nil }
        self.milli = total
    }

    public var doubleValue: Double { Double(milli) / 1000 }

    /// "4", "0.5", "0.01": the shortest exact decimal.
    public var description: String {
        let sign = milli < 0 ? "-" : ""
        let magnitude = milli.magnitude
        let whole = magnitude / 1000, fraction = magnitude % 1000
        guard fraction != 0 else { return "\(sign)\(whole)" }
        var digits = String(fraction)
        digits = String(repeating: "0", count: 3 - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(sign)\(whole).\(digits)"
    }

    public static func < (lhs: Scalar, rhs: Scalar) -> Bool { lhs.milli < rhs.milli }

    public static func + (lhs: Scalar, rhs: Scalar) -> Scalar {
        let (sum, overflow) = lhs.milli.addingReportingOverflow(rhs.milli)
        return overflow ? (rhs.milli > 0 ? .max : Scalar(milli: Int64.min)) : Scalar(milli: sum)
    }

    public static func - (lhs: Scalar, rhs: Scalar) -> Scalar {
        let (difference, overflow) = lhs.milli.subtractingReportingOverflow(rhs.milli)
        return overflow ? (rhs.milli < 0 ? .max : Scalar(milli: Int64.min)) : Scalar(milli: difference)
    }

    public static func += (lhs: inout Scalar, rhs: Scalar) { lhs = lhs + rhs }
    public static func -= (lhs: inout Scalar, rhs: Scalar) { lhs = lhs - rhs }
}

extension Scalar: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int) { self.init(value) }
}
