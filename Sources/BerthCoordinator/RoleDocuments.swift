import BerthCore
import BerthProtocol

/// One entry of `GET|PUT /weights`, Mesos' WeightInfo: `{"role": "eng", "weight": 2.5}`.
public struct WeightInfo: Codable, Hashable, Sendable {
    public var role: String
    public var weight: Double

    public init(role: String, weight: Double) {
        self.role = role
        self.weight = weight
    }
}

/// `{"value": 2.5}`: how Mesos' QuotaConfig spells each amount of its `guarantees` and `limits` maps.
public struct ScalarValue: Codable, Hashable, Sendable {
    public var value: Double
    public init(_ value: Double) { self.value = value }
}

/// The body of `POST /quota`. Mesos' legacy shape, `{"role": "dev", "guarantee": [resources...],
/// "force": false}`, and the QuotaConfig shape of Mesos 1.9+, `{"role": "dev", "guarantees":
/// {"cpus": {"value": 1}}, "limits": {"cpus": {"value": 2}}}`, are both read.
public struct QuotaRequest: Codable, Hashable, Sendable {
    public var role: String
    public var guarantee: Resources?
    public var guarantees: [String: ScalarValue]?
    public var limits: [String: ScalarValue]?
    /// Set the quota even when the role already holds more than the new limits.
    public var force: Bool?

    public init(role: String, guarantee: Resources? = nil, guarantees: [String: ScalarValue]? = nil,
                limits: [String: ScalarValue]? = nil, force: Bool? = nil) {
        self.role = role
        self.guarantee = guarantee
        self.guarantees = guarantees
        self.limits = limits
        self.force = force
    }
}

/// `GET /quota`: Mesos' QuotaStatus. `infos` is the pre-1.9 form (guarantees as resources),
/// `configs` the 1.9+ form with guarantees and limits.
public struct QuotaStatus: Codable, Hashable, Sendable {
    public var infos: [Info]
    public var configs: [Config]

    public struct Info: Codable, Hashable, Sendable {
        public var role: String
        public var guarantee: Resources
    }

    public struct Config: Codable, Hashable, Sendable {
        public var role: String
        public var guarantees: [String: ScalarValue]
        public var limits: [String: ScalarValue]
    }
}
