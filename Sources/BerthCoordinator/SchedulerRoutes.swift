import BerthCore
import BerthProtocol
import Hummingbird

/// `POST /api/v1/scheduler`: Mesos' v1 scheduler API. SUBSCRIBE answers 200 with the event
/// stream; every other call 202 once the coordinator has taken it.
enum SchedulerRoutes {
    static func add(to router: Router<some RequestContext>, coordinator: Coordinator, bodyLimit: Int) {
        router.post("/api/v1/scheduler") { request, _ -> Response in
            let call = try await HTTPSupport.decode(Call.self, from: request, limit: bodyLimit, what: "scheduler call")
            guard call.type == .subscribe else {
                try await coordinator.handle(call, streamID: request.headers.mesosStreamID)
                return Response(status: .accepted)
            }
            try call.validate()
            guard var subscribe = call.subscribe else { return Response(status: .badRequest) }
            if let id = call.frameworkID { subscribe.frameworkInfo.id = id }
            let subscription = try await coordinator.subscribe(subscribe)
            return HTTPSupport.recordIOStream(subscription.events, streamID: subscription.streamID) {
                await coordinator.subscriptionEnded(framework: subscription.frameworkID, streamID: subscription.streamID)
            }
        }
    }
}
