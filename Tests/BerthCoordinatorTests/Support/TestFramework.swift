import BerthCore
import BerthFramework
import BerthProtocol

/// A framework subscribed through the SDK, with its events collected.
struct TestFramework {
    let calls: SchedulerCalls
    let events: EventLog<Event>

    var id: FrameworkID { calls.frameworkID }

    static func subscribe(to coordinator: TestCoordinator, name: String = "test", roles: [String] = ["*"],
                          capabilities: [String] = [], failoverTimeout: Double? = nil) async throws -> TestFramework {
        let client = SchedulerClient(coordinator: coordinator.url)
        let stream = try await client.subscribe(FrameworkInfo(user: "root", name: name, failoverTimeout: failoverTimeout, roles: roles, capabilities: capabilities))
        let events = EventLog<Event>.collecting(stream.events)
        let subscribed = try await events.next("SUBSCRIBED") { $0.type == .subscribed }
        guard let id = subscribed.subscribed?.frameworkID else { throw FixtureFailure("SUBSCRIBED without framework_id") }
        return TestFramework(calls: client.calls(for: id, streamID: stream.streamID), events: events)
    }

    func nextOffer(timeout: Duration = .seconds(10)) async throws -> OfferInfo {
        let event = try await events.next("OFFERS", timeout: timeout) { $0.type == .offers }
        guard let offer = event.offers?.offers.first else { throw FixtureFailure("OFFERS event without offers") }
        return offer
    }

    func nextUpdate(_ task: TaskID, _ state: TaskState, timeout: Duration = .seconds(10)) async throws -> TaskStatus {
        let event = try await events.next("UPDATE \(task) \(state.rawValue)", timeout: timeout) {
            $0.update?.status.taskID == task && $0.update?.status.state == state
        }
        guard let status = event.update?.status else { throw FixtureFailure("UPDATE without status") }
        return status
    }
}
