import BerthAllocator
import BerthCore
import BerthProtocol
import Foundation

/// Operator-set configuration of roles: weights (`PUT /weights`) and quotas (`POST /quota`).
/// Only roles that were set appear; the allocator reads any other role as weight 1, no quota.
/// Stored as two settings documents in the API's own shapes, so the database reads like the API.
struct RoleSettings: Sendable, Equatable {
    var weights: [Role: Double] = [:]
    var quotas: [Role: Quota] = [:]

    static let weightsSetting = "weights"
    static let quotaSetting = "quota"

    struct Quota: Sendable, Equatable {
        /// Mesos' guarantees: reported, not yet reserved for (the allocator enforces limits only).
        var guarantees: ResourceQuantities
        /// The most the role and its subroles together may hold (offers included).
        var limits: ResourceQuantities
    }

    init() {}

    /// From the settings documents a store kept (`CoordinatorStore.saveSetting`).
    init(restoring settings: [String: String]) throws {
        if let text = settings[Self.weightsSetting] {
            for info in try MesosJSON.decode([WeightInfo].self, from: Data(text.utf8), what: "stored weights") {
                weights[try Role(info.role)] = info.weight
            }
        }
        if let text = settings[Self.quotaSetting] {
            for config in try MesosJSON.decode([QuotaStatus.Config].self, from: Data(text.utf8), what: "stored quotas") {
                quotas[try Role(config.role)] = Quota(guarantees: try Self.quantities(config.guarantees, field: "guarantees"),
                                                      limits: try Self.quantities(config.limits, field: "limits"))
            }
        }
    }

    /// What the allocator's snapshot takes.
    var allocatorRoles: [Role: RoleConfiguration] {
        var result: [Role: RoleConfiguration] = [:]
        for (role, weight) in weights { result[role, default: RoleConfiguration()].weight = weight }
        for (role, quota) in quotas { result[role, default: RoleConfiguration()].quotaLimit = quota.limits }
        return result
    }

    var weightInfos: [WeightInfo] {
        weights.sorted { $0.key < $1.key }.map { WeightInfo(role: $0.key.name, weight: $0.value) }
    }

    var quotaConfigs: [QuotaStatus.Config] {
        quotas.sorted { $0.key < $1.key }.map {
            QuotaStatus.Config(role: $0.key.name, guarantees: Self.map($0.value.guarantees), limits: Self.map($0.value.limits))
        }
    }

    /// `{"cpus": {"value": 1}}` as quantities, refusing what cannot be one.
    static func quantities(_ map: [String: ScalarValue], field: String) throws -> ResourceQuantities {
        var result: [String: Scalar] = [:]
        for (name, amount) in map.sorted(by: { $0.key < $1.key }) {
            guard !name.isEmpty else { throw BerthError(.invalidArgument, "\(field): a resource name cannot be empty") }
            guard let scalar = Scalar(rounding: amount.value), scalar >= .zero else {
                throw BerthError(.invalidArgument, "\(field).\(name): \(amount.value) is not a finite, non-negative number")
            }
            // Zero amounts vanish from ResourceQuantities, so a limit of 0 would mean "no limit".
            guard scalar > .zero || field != "limits" else {
                throw BerthError(.invalidArgument, "limits.\(name): a limit of 0 is not supported; set 0.001 to keep the role (almost) off \(name)")
            }
            result[name] = scalar
        }
        return ResourceQuantities(result)
    }

    static func map(_ quantities: ResourceQuantities) -> [String: ScalarValue] {
        quantities.amounts.mapValues { ScalarValue($0.doubleValue) }
    }
}
