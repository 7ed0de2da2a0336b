import BerthAllocator
import BerthCore
import BerthProtocol
import Logging

/// `GET|PUT /weights`, `GET|POST /quota`, `DELETE /quota/ROLE`: the operator's settings of roles,
/// checked as Mesos checks them, kept in `roleSettings`, and read by every allocation cycle.
extension Coordinator {
    public func weights() -> [WeightInfo] {
        roleSettings.weightInfos
    }

    /// Sets the weights of the listed roles (others keep theirs), all or none.
    public func updateWeights(_ infos: [WeightInfo]) throws {
        var updated = roleSettings.weights
        for (index, info) in infos.enumerated() {
            let role = try Self.role(info.role, field: "[\(index)].role")
            guard info.weight.isFinite, info.weight > 0 else {
                throw BerthError(.invalidArgument, "[\(index)].weight: \(info.weight) for role \(role) is not a positive number; weights are relative shares, 1 is the default")
            }
            guard infos[..<index].allSatisfy({ $0.role != info.role }) else {
                throw BerthError(.invalidArgument, "[\(index)].role: role \(role) is listed twice; give each role once")
            }
            updated[role] = info.weight
        }
        var settings = roleSettings
        settings.weights = updated
        try save(settings)
        logger.info("weights updated", metadata: ["weights": "\(infos.map { "\($0.role)=\($0.weight)" }.joined(separator: ","))"])
        requestAllocation()
    }

    public func quotaStatus() -> QuotaStatus {
        QuotaStatus(infos: roleSettings.quotas.sorted { $0.key < $1.key }.map { QuotaStatus.Info(role: $0.key.name, guarantee: Self.resources($0.value.guarantees)) },
                    configs: roleSettings.quotaConfigs)
    }

    /// Sets (or replaces) a role's quota. Without `limits`, the guarantees are the limits too, as
    /// Mesos 1.9+ reads the legacy request. Outstanding offers to the role and its subroles are
    /// rescinded, so none exceeds the new limits; the next cycle offers within them.
    public func setQuota(_ request: QuotaRequest) throws {
        let role = try Self.role(request.role, field: "role")
        guard !role.isDefault else {
            throw BerthError(.invalidArgument, "role: quota cannot be set for the default role \"*\"; give frameworks a named role and set its quota")
        }
        if request.guarantee != nil && request.guarantees != nil {
            throw BerthError(.invalidArgument, "give guarantees either as \"guarantee\" (resources) or as \"guarantees\" (a map), not both")
        }
        let guarantees = try request.guarantee.map { try Self.quantities($0) } ?? RoleSettings.quantities(request.guarantees ?? [:], field: "guarantees")
        let limits = try request.limits.map { try RoleSettings.quantities($0, field: "limits") } ?? guarantees
        if request.guarantee == nil && request.guarantees == nil && request.limits == nil {
            throw BerthError(.invalidArgument, "the quota for role \(role) names no resources; give \"limits\" (or \"guarantee\"), e.g. {\"role\": \"\(role)\", \"limits\": {\"cpus\": {\"value\": 4}}}")
        }
        for (name, guaranteed) in guarantees.amounts.sorted(by: { $0.key < $1.key }) where limits.amounts[name].map({ guaranteed > $0 }) ?? false {
            throw BerthError(.invalidArgument, "guarantees.\(name) \(guaranteed) is above limits.\(name) \(limits[name]); a guarantee cannot exceed the limit")
        }
        if request.force != true {
            let held = consumption(of: role)
            for (name, limit) in limits.amounts.sorted(by: { $0.key < $1.key }) where held[name] > limit {
                throw BerthError(.invalidArgument, "role \(role) already holds \(held[name]) \(name), above the new limit of \(limit); wait for tasks to finish, or send \"force\": true to set it anyway")
            }
        }
        var settings = roleSettings
        settings.quotas[role] = RoleSettings.Quota(guarantees: guarantees, limits: limits)
        try save(settings)
        logger.info("quota set", metadata: ["role": "\(role)", "guarantees": "\(guarantees)", "limits": "\(limits)"])
        removeOffers { $0.role.isSelfOrDescendant(of: role) }
        requestAllocation()
    }

    public func removeQuota(_ name: String) throws {
        let role = try Self.role(name, field: "role")
        var settings = roleSettings
        guard settings.quotas.removeValue(forKey: role) != nil else {
            throw BerthError(.invalidArgument, "role \(role) has no quota to remove; GET /quota lists the roles that have one")
        }
        try save(settings)
        logger.info("quota removed", metadata: ["role": "\(role)"])
        requestAllocation()
    }

    /// Stores the changed settings first (a failed write changes nothing: 503), then takes them.
    private func save(_ settings: RoleSettings) throws {
        if settings.weights != roleSettings.weights { try store?.saveSetting(RoleSettings.weightsSetting, settings.weightInfos) }
        if settings.quotas != roleSettings.quotas { try store?.saveSetting(RoleSettings.quotaSetting, settings.quotaConfigs) }
        roleSettings = settings
    }

    /// Scalars held by `role` and its subroles: live tasks and outstanding offers, as the
    /// allocator counts them against quota.
    func consumption(of role: Role) -> ResourceQuantities {
        var held = Resources()
        for task in tasks.values where !task.status.state.isTerminal && task.role.isSelfOrDescendant(of: role) { held += task.info.resources }
        for offer in offers.values where offer.offer.role.isSelfOrDescendant(of: role) { held += offer.offer.resources }
        return held.quantities
    }

    private static func role(_ name: String, field: String) throws -> Role {
        if let problem = Role.problem(with: name) {
            throw BerthError(.invalidArgument, "\(field): role \"\(name)\": \(problem)")
        }
        return try Role(name)
    }

    /// Quota resources: unreserved scalars only, each name once.
    private static func quantities(_ resources: Resources) throws -> ResourceQuantities {
        var seen: Set<String> = []
        for resource in resources.items {
            guard case .scalar = resource.value else {
                throw BerthError(.invalidArgument, "guarantee: \(resource.name) is not a scalar; quota takes scalar resources only (cpus, mem, disk, gpus, custom scalars), not ports, ranges or sets")
            }
            guard !resource.isReserved else {
                throw BerthError(.invalidArgument, "guarantee: \(resource.name) carries a reservation for \(resource.reservation); quota resources must be unreserved")
            }
            guard seen.insert(resource.name).inserted else {
                throw BerthError(.invalidArgument, "guarantee: \(resource.name) is listed twice; give each resource once")
            }
        }
        return resources.quantities
    }

    private static func resources(_ quantities: ResourceQuantities) -> Resources {
        Resources(quantities.amounts.sorted { $0.key < $1.key }.map { Resource.scalar($0.key, $0.value) })
    }
}
