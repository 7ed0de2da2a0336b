/// The Mesos agent's `--resources` text format:
/// `cpus:4;mem:8192;disk:1000;ports:[31000-32000,33000-33010];disks:{a,b};cpus(eng):2`.
extension Resources {
    public static func parse(_ text: String) throws -> Resources {
        var result = Resources()
        for token in text.split(separator: ";") {
            let trimmed = token.trimmingWhitespace
            guard !trimmed.isEmpty else { continue }
            result.add(try parseToken(trimmed))
        }
        return result
    }

    private static func parseToken(_ token: Substring) throws -> Resource {
        func bad(_ why: String) -> BerthError {
            BerthError(.invalidArgument, "resource \"\(token)\": \(why); expected NAME[(ROLE)]:VALUE, e.g. cpus:4, cpus(eng):2, ports:[31000-32000] or disks:{a,b}")
        }
        guard let colon = token.firstIndex(of: ":") else { throw bad("no \":\" between name and value") }
        var name = token[..<colon].trimmingWhitespace
        let valueText = token[token.index(after: colon)...].trimmingWhitespace
        var reservation = Role.default
        if let open = name.firstIndex(of: "(") {
            guard name.hasSuffix(")") else { throw bad("the role in parentheses is not closed") }
            let roleText = name[name.index(after: open)..<name.index(before: name.endIndex)]
            do { reservation = try Role(String(roleText)) } catch let error as BerthError { throw bad(error.message) }
            name = name[..<open].trimmingWhitespace
        }
        guard !name.isEmpty else { throw bad("the name is empty") }
        guard !name.contains(where: { $0.isWhitespace || "()[]{}:;,".contains($0) }) else { throw bad("the name \"\(name)\" contains a reserved character") }
        guard !valueText.isEmpty else { throw bad("the value is empty") }
        let value: Resource.Value
        switch valueText.first {
        case "[": value = .ranges(try parseRanges(valueText, bad: bad))
        case "{": value = .set(try parseSet(valueText, bad: bad))
        default:
            guard let amount = Scalar(parsing: valueText) else { throw bad("\"\(valueText)\" is not a non-negative decimal number") }
            value = .scalar(amount)
        }
        return Resource(name: String(name), value: value, reservation: reservation)
    }

    private static func parseRanges(_ text: Substring, bad: (String) -> BerthError) throws -> ValueRanges {
        guard text.hasSuffix("]") else { throw bad("the ranges are not closed with \"]\"") }
        var ranges: [ValueRange] = []
        let inner = text.dropFirst().dropLast()
        for part in inner.allSatisfy(\.isWhitespace) ? [] : inner.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false).map { $0.trimmingWhitespace }
            guard bounds.count <= 2, let begin = UInt64(bounds[0]), let end = UInt64(bounds[bounds.count - 1]) else {
                throw bad("\"\(part.trimmingWhitespace)\" is not a range BEGIN-END of whole numbers")
            }
            guard begin <= end else { throw bad("the range \(begin)-\(end) ends before it begins") }
            ranges.append(ValueRange(begin, end))
        }
        return ValueRanges(ranges)
    }

    private static func parseSet(_ text: Substring, bad: (String) -> BerthError) throws -> Set<String> {
        guard text.hasSuffix("}") else { throw bad("the set is not closed with \"}\"") }
        var items: Set<String> = []
        let inner = text.dropFirst().dropLast()
        for part in inner.allSatisfy(\.isWhitespace) ? [] : inner.split(separator: ",", omittingEmptySubsequences: false) {
            let item = part.trimmingWhitespace
            guard !item.isEmpty else { throw bad("the set has an empty item") }
            items.insert(String(item))
        }
        return items
    }
}
