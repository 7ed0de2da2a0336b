import BerthCore
import Hummingbird

/// `GET|PUT /weights`, `GET|POST /quota`, `DELETE /quota/ROLE`, in Mesos' shapes: 200 on success,
/// 400 with a message saying what was wrong. Bodies are read as JSON whatever their Content-Type,
/// as Mesos reads them: its documentation sends them with a plain `curl -d`.
enum RoleRoutes {
    static func add(to router: Router<some RequestContext>, coordinator: Coordinator, bodyLimit: Int) {
        router.get("/weights") { _, _ in try HTTPSupport.json(await coordinator.weights()) }
        router.put("/weights") { request, _ -> Response in
            let infos = try await HTTPSupport.decode([WeightInfo].self, from: request, limit: bodyLimit, what: "weights", jsonContentTypeOnly: false)
            try await coordinator.updateWeights(infos)
            return Response(status: .ok)
        }
        router.get("/quota") { _, _ in try HTTPSupport.json(await coordinator.quotaStatus()) }
        router.post("/quota") { request, _ -> Response in
            let quota = try await HTTPSupport.decode(QuotaRequest.self, from: request, limit: bodyLimit, what: "quota request", jsonContentTypeOnly: false)
            try await coordinator.setQuota(quota)
            return Response(status: .ok)
        }
        // Nested roles (eng/web) span several path components: everything after /quota/ is the role.
        router.delete("/quota/**") { _, context -> Response in
            try await coordinator.removeQuota(context.parameters.getCatchAll().joined(separator: "/"))
            return Response(status: .ok)
        }
    }
}
