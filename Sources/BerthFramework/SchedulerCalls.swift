import BerthCore
import BerthProtocol

/// The calls of a subscribed framework, each filled in with its framework ID and stream ID.
public struct SchedulerCalls: Sendable {
    public let client: SchedulerClient
    public let frameworkID: FrameworkID
    public let streamID: String

    public func send(_ call: Call) async throws {
        var call = call
        call.frameworkID = frameworkID
        try await client.send(call, streamID: streamID)
    }

    public func launch(_ tasks: [TaskInfo], on offers: [OfferID], refuseSeconds: Double? = nil) async throws {
        var call = Call(type: .accept)
        call.accept = Call.Accept(offerIDs: offers, operations: [.launch(tasks)], filters: refuseSeconds.map { Filters(refuseSeconds: $0) })
        try await send(call)
    }

    /// LAUNCH_GROUP: the tasks start together on one agent, and when one fails the others are killed.
    public func launchGroup(_ tasks: [TaskInfo], executor: JSONValue? = nil, on offers: [OfferID], refuseSeconds: Double? = nil) async throws {
        var call = Call(type: .accept)
        call.accept = Call.Accept(offerIDs: offers, operations: [.launchGroup(tasks, executor: executor)],
                                  filters: refuseSeconds.map { Filters(refuseSeconds: $0) })
        try await send(call)
    }

    public func decline(_ offers: [OfferID], refuseSeconds: Double? = nil) async throws {
        var call = Call(type: .decline)
        call.decline = Call.Decline(offerIDs: offers, filters: refuseSeconds.map { Filters(refuseSeconds: $0) })
        try await send(call)
    }

    public func revive(roles: [String]? = nil) async throws {
        var call = Call(type: .revive)
        call.revive = Call.Revive(roles: roles)
        try await send(call)
    }

    public func suppress(roles: [String]? = nil) async throws {
        var call = Call(type: .suppress)
        call.suppress = Call.Suppress(roles: roles)
        try await send(call)
    }

    public func kill(_ task: TaskID, agent: AgentID? = nil) async throws {
        var call = Call(type: .kill)
        call.kill = Call.Kill(taskID: task, agentID: agent)
        try await send(call)
    }

    /// Acknowledges an update that asks for it (one with a uuid and an agent); others need none.
    public func acknowledge(_ status: TaskStatus) async throws {
        guard let uuid = status.uuid, let agent = status.agentID else { return }
        var call = Call(type: .acknowledge)
        call.acknowledge = Call.Acknowledge(agentID: agent, taskID: status.taskID, uuid: uuid)
        try await send(call)
    }

    public func reconcile(_ tasks: [Call.Reconcile.Task] = []) async throws {
        var call = Call(type: .reconcile)
        call.reconcile = Call.Reconcile(tasks: tasks)
        try await send(call)
    }

    public func teardown() async throws {
        try await send(Call(type: .teardown))
    }
}
