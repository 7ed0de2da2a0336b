/// Sizes as people write them on command lines: "256M", "1g", "512KiB", "1048576" (bytes),
/// binary multiples as Docker reads them.
public enum ByteSize {
    public static func parse(_ text: String) throws -> Int64 {
        var rest = Substring(text.lowercased().filter { $0 != " " })
        // "256mib", "256mb" and "256m" mean the same.
        if rest.hasSuffix("ib") { rest = rest.dropLast(2) } else if rest.hasSuffix("b") { rest = rest.dropLast() }
        var multiplier: Int64 = 1
        if let unit = rest.last, unit.isLetter {
            switch unit {
            case "k": multiplier = 1 << 10
            case "m": multiplier = 1 << 20
            case "g": multiplier = 1 << 30
            case "t": multiplier = 1 << 40
            default:
                throw BerthError(.invalidArgument, "size \"\(text)\": unknown unit \"\(unit)\"; use b, k, m, g or t (binary multiples), e.g. 256m")
            }
            rest = rest.dropLast()
        }
        guard let value = Int64(rest), value >= 0 else {
            throw BerthError(.invalidArgument, "size \"\(text)\" is not a whole number with an optional unit (k, m, g), e.g. 256m")
        }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { throw BerthError(.invalidArgument, "size \"\(text)\" is too large") }
        return bytes
    }

    /// "32 MiB", "1.5 GiB", "512 B": for messages.
    public static func format(_ bytes: Int64) -> String {
        let units: [(Int64, String)] = [(1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
        for (size, name) in units where bytes >= size {
            if bytes % size == 0 { return "\(bytes / size) \(name)" }
            let tenths = (bytes * 10 + size / 2) / size
            return "\(tenths / 10).\(tenths % 10) \(name)"
        }
        return "\(bytes) B"
    }
}
