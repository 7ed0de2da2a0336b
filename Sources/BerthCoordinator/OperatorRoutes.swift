import BerthAllocator
import BerthCore
import BerthProtocol
import Hummingbird

/// Read-only endpoints for operators and clients: version, health, state, offer status.
enum OperatorRoutes {
    struct VersionDocument: Codable {
        /// The Mesos version whose API Berth speaks: clients parse it to decide what to send.
        var version: String
        var berthVersion: String

        enum CodingKeys: String, CodingKey { case version, berthVersion = "berth_version" }
    }

    static func add(to router: Router<some RequestContext>, coordinator: Coordinator) {
        router.get("/version") { _, _ in
            try HTTPSupport.json(VersionDocument(version: MesosAPIVersion.current, berthVersion: BerthVersion.current))
        }
        router.get("/health") { _, _ in Response(status: .ok) }
        router.get("/state") { _, _ in try HTTPSupport.json(await coordinator.state()) }
        router.get("/api/v1/frameworks/:id/offer-status") { _, context in
            let id = FrameworkID(try context.parameters.require("id"))
            let blockers = await coordinator.offerBlockers(for: id)
            if blockers.contains(.unknownFramework(id)) {
                throw BerthError(.notFound, "framework \(id) is not subscribed; check the id in GET /state")
            }
            return try HTTPSupport.json(OfferStatusDocument(framework: id, blockers: blockers))
        }
    }
}
