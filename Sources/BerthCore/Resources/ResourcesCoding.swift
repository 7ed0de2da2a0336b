import FoundationEssentials

/// The Mesos v1 JSON shape of a resource:
/// `{"name":"cpus","type":"SCALAR","scalar":{"value":0.5},"reservations":[{"type":"STATIC","role":"eng"}]}`.
/// The pre-1.4 `"role"` field is read too; `"allocation_info"` and other fields are ignored.
extension Resource: Codable {
    private enum CodingKeys: String, CodingKey {
        case name, type, scalar, ranges, set, reservations, role
    }

    private struct ScalarBody: Codable { var value: Double }
    private struct RangesBody: Codable { var range: [ValueRange]? }
    private struct SetBody: Codable { var item: [String]? }

    private struct Reservation: Codable {
        var type: String?
        var role: Role
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let name = try container.decode(String.self, forKey: .name)
        func bad(_ why: String) -> DecodingError {
            .dataCorruptedError(forKey: .type, in: container, debugDescription: "resource \"\(name)\": \(why)")
        }
        let kind = try container.decode(Kind.self, forKey: .type)
        switch kind {
        case .scalar:
            let body = try container.decode(ScalarBody.self, forKey: .scalar)
            // JSON carries doubles; Mesos rounds them to its three-decimal fixed point on the way in.
            guard let amount = Scalar(rounding: body.value), amount >= .zero else {
                throw bad("scalar value \(body.value) must be a finite, non-negative number")
            }
            value = .scalar(amount)
        case .ranges:
            let ranges = try container.decode(RangesBody.self, forKey: .ranges).range ?? []
            if let backwards = ranges.first(where: { $0.begin > $0.end }) { throw bad("the range \(backwards.begin)-\(backwards.end) ends before it begins") }
            value = .ranges(ValueRanges(ranges))
        case .set:
            value = .set(Set(try container.decode(SetBody.self, forKey: .set).item ?? []))
        }
        self.name = name
        let reservations = try container.decodeIfPresent([Reservation].self, forKey: .reservations) ?? []
        switch reservations.count {
        case 0: reservation = try container.decodeIfPresent(Role.self, forKey: .role) ?? .default
        case 1:
            guard reservations[0].type ?? "STATIC" == "STATIC" else {
                throw bad("\(reservations[0].type ?? "") reservations are not supported yet; reserve statically with the agent's --resources, e.g. cpus(\(reservations[0].role)):2")
            }
            reservation = reservations[0].role
        default:
            throw bad("refined reservations (\(reservations.count) levels) are not supported; give one STATIC reservation")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(value.kind, forKey: .type)
        switch value {
        case .scalar(let amount): try container.encode(ScalarBody(value: amount.doubleValue), forKey: .scalar)
        case .ranges(let ranges): try container.encode(RangesBody(range: ranges.ranges), forKey: .ranges)
        case .set(let items): try container.encode(SetBody(item: items.sorted()), forKey: .set)
        }
        if isReserved {
            try container.encode([Reservation(type: "STATIC", role: reservation)], forKey: .reservations)
        }
    }
}

/// A JSON array of resources, as Mesos sends them in offers and agent info.
extension Resources: Codable {
    public init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode([Resource].self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(items)
    }
}
