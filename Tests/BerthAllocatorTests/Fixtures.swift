import BerthAllocator
import BerthCore

/// Small builders so that each table row reads as the cluster it describes.
enum Fixtures {
    static func role(_ name: String) throws -> Role { try Role(name) }

    static func agents(_ count: Int, _ resources: String = "cpus:4;mem:4096", prefix: String = "agent") throws -> [AgentSnapshot] {
        let total = try Resources.parse(resources)
        return (0..<count).map { AgentSnapshot(id: AgentID("\(prefix)-\(String(format3: $0))"), total: total) }
    }

    static func framework(_ id: String, _ roles: [String], suppressed: [String] = [], capabilities: Set<FrameworkCapability> = [.multiRole]) throws -> FrameworkSnapshot {
        FrameworkSnapshot(id: FrameworkID(id), roles: try roles.map(Role.init), suppressedRoles: Set(try suppressed.map(Role.init)), capabilities: capabilities)
    }

    /// Offers counted per framework.
    static func counts(_ offers: [Offer]) -> [String: Int] {
        offers.reduce(into: [:]) { $0[$1.framework.value, default: 0] += 1 }
    }

    /// Total of a scalar offered per framework.
    static func total(_ name: String, _ offers: [Offer]) -> [String: Scalar] {
        offers.reduce(into: [:]) { $0[$1.framework.value, default: .zero] += $1.resources.scalar(named: name) }
    }
}

extension String {
    /// Zero-padded to three digits, so agent IDs sort as numbers do.
    init(format3 value: Int) {
        let digits = String(value)
        self = String(repeating: "0", count: Swift.max(0, 3 - digits.count)) + digits
    }
}
