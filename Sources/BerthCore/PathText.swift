/// Paths put together from their components on `berth run`'s path.
///
/// Why not `joined(separator:)` or `String + Substring`: the first use of each in a process has
/// the Swift runtime look up a protocol conformance, and each such look-up scans every
/// conformance record of the executable (about 4,000 in `berth`); a handful of them were 5% of a
/// `berth run` (docs/benchmarks.md). Appending whole `String`s needs none.
public enum PathText {
    /// The components joined by "/", without a leading or trailing one.
    public static func join(_ parts: ArraySlice<Substring>) -> String {
        var path = ""
        var first = true
        for part in parts {
            if !first { path.append("/") }
            first = false
            path.append(String(part))
        }
        return path
    }
}
