import BerthCore
import BerthProtocol
import Hummingbird

/// `POST /api/v1/agent`: Berth's agent protocol (docs/protocol.md). REGISTER answers 200 with
/// the agent's event stream; HEARTBEAT and STATUS_UPDATE answer 202.
enum AgentRoutes {
    static func add(to router: Router<some RequestContext>, coordinator: Coordinator, bodyLimit: Int) {
        router.post("/api/v1/agent") { request, _ -> Response in
            let call = try await HTTPSupport.decodeAgentCall(from: request, limit: bodyLimit)
            try call.validate()
            guard call.type == .register, let register = call.register else {
                try await coordinator.handle(call, streamID: request.headers.mesosStreamID)
                return Response(status: .accepted)
            }
            let session = try await coordinator.register(register, agentID: call.agentID)
            return HTTPSupport.recordIOStream(session.events, streamID: session.streamID, encode: { try $0.encodedJSON() }) {
                await coordinator.agentStreamEnded(agent: session.agentID, streamID: session.streamID)
            }
        }
    }
}
