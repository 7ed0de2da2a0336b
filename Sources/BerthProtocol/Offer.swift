import BerthCore

/// An offer as frameworks receive it in OFFERS events.
public struct OfferInfo: Hashable, Sendable, Codable {
    public var id: OfferID
    public var frameworkID: FrameworkID
    public var agentID: AgentID
    public var hostname: String
    public var resources: Resources
    public var attributes: [Attribute]?
    public var allocationInfo: AllocationInfo?
    public var executorIDs: [ExecutorID]?

    enum CodingKeys: String, CodingKey {
        case id, frameworkID = "framework_id", agentID = "agent_id", hostname, resources, attributes
        case allocationInfo = "allocation_info", executorIDs = "executor_ids"
    }

    public init(id: OfferID, frameworkID: FrameworkID, agentID: AgentID, hostname: String, resources: Resources,
                attributes: [Attribute] = [], role: Role) {
        self.id = id
        self.frameworkID = frameworkID
        self.agentID = agentID
        self.hostname = hostname
        self.resources = resources
        self.attributes = attributes
        self.allocationInfo = AllocationInfo(role: role.name)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(OfferID.self, forKey: .id)
        frameworkID = try container.decode(FrameworkID.self, forKey: .frameworkID)
        agentID = try container.decode(AgentID.self, forKey: .agentID)
        hostname = try container.decode(String.self, forKey: .hostname)
        resources = try container.decode(Resources.self, forKey: .resources)
        attributes = try container.decodeIfPresent([Attribute].self, forKey: .attributes)
        allocationInfo = try container.decodeIfPresent(AllocationInfo.self, forKey: .allocationInfo)
        executorIDs = try container.decodeIfPresent([ExecutorID].self, forKey: .executorIDs)
    }

    /// Each resource carries the offer's `allocation_info` too, as Mesos sends them: MULTI_ROLE
    /// frameworks copy resources from offers into TaskInfos and expect it there.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(frameworkID, forKey: .frameworkID)
        try container.encode(agentID, forKey: .agentID)
        try container.encode(hostname, forKey: .hostname)
        try container.encode(resources.items.map { AllocatedResource(resource: $0, allocationInfo: allocationInfo) }, forKey: .resources)
        try container.encodeIfPresent(attributes, forKey: .attributes)
        try container.encodeIfPresent(allocationInfo, forKey: .allocationInfo)
        try container.encodeIfPresent(executorIDs, forKey: .executorIDs)
    }

    private struct AllocatedResource: Encodable {
        let resource: Resource
        let allocationInfo: AllocationInfo?

        enum CodingKeys: String, CodingKey { case allocationInfo = "allocation_info" }

        func encode(to encoder: any Encoder) throws {
            try resource.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encodeIfPresent(allocationInfo, forKey: .allocationInfo)
        }
    }

    /// `{"role": "eng"}`: which of the framework's roles the offer is for.
    public struct AllocationInfo: Hashable, Sendable, Codable {
        public var role: String
        public init(role: String) { self.role = role }
    }
}

/// An agent attribute: `{"name":"rack","type":"TEXT","text":{"value":"r1"}}` or a SCALAR. Mesos'
/// RANGES and SET attributes are read as their text form.
public struct Attribute: Hashable, Sendable, Codable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    enum CodingKeys: String, CodingKey { case name, type, text, scalar, ranges, set }
    private struct TextBody: Codable { var value: String }
    private struct ScalarBody: Codable { var value: Double }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        switch try container.decode(String.self, forKey: .type) {
        case "TEXT": value = try container.decode(TextBody.self, forKey: .text).value
        case "SCALAR":
            let number = try container.decode(ScalarBody.self, forKey: .scalar).value
            value = Scalar(rounding: number)?.description ?? String(number)
        case "RANGES":
            let resource = Resource(name: name, value: .ranges(ValueRanges(try container.decode(RangesBody.self, forKey: .ranges).range ?? [])))
            value = resource.value.description
        case "SET":
            value = "{" + (try container.decode(SetBody.self, forKey: .set).item ?? []).sorted().joined(separator: ",") + "}"
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .type, in: container, debugDescription: "attribute \"\(name)\": unknown type \"\(other)\"; use TEXT, SCALAR, RANGES or SET")
        }
    }

    private struct RangesBody: Codable { var range: [ValueRange]? }
    private struct SetBody: Codable { var item: [String]? }

    /// Numbers go out as SCALAR, the rest as TEXT, as the agent's --attributes flag reads them.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        if let number = Scalar(parsing: value) {
            try container.encode("SCALAR", forKey: .type)
            try container.encode(ScalarBody(value: number.doubleValue), forKey: .scalar)
        } else {
            try container.encode("TEXT", forKey: .type)
            try container.encode(TextBody(value: value), forKey: .text)
        }
    }
}

/// `{"refuse_seconds": 5.0}` on DECLINE and ACCEPT.
public struct Filters: Hashable, Sendable, Codable {
    public var refuseSeconds: Double?

    enum CodingKeys: String, CodingKey { case refuseSeconds = "refuse_seconds" }

    public init(refuseSeconds: Double? = nil) { self.refuseSeconds = refuseSeconds }
}
