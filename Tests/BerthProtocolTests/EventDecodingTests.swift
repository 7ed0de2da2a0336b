import BerthCore
import Foundation
import Testing
@testable import BerthProtocol

@Suite struct EventDecodingTests {
    static func decode(_ json: String) throws -> Event {
        try MesosJSON.decode(Event.self, from: Data(json.utf8), what: "event")
    }

    @Test(arguments: [
        (MesosSamples.subscribed, Event.Kind.subscribed),
        (MesosSamples.offers, .offers),
        (MesosSamples.rescind, .rescind),
        (MesosSamples.update, .update),
        (MesosSamples.failedUpdate, .update),
        (MesosSamples.eventMessage, .message),
        (MesosSamples.failure, .failure),
        (MesosSamples.error, .error),
        (MesosSamples.heartbeat, .heartbeat),
        (#"{"type": "SOMETHING_NEW"}"#, .unknown),
    ])
    func documentedEventsDecodeAndRoundTrip(json: String, type: Event.Kind) throws {
        let event = try Self.decode(json)
        #expect(event.type == type)
        if type != .unknown {
            #expect(try Self.decode(String(decoding: try MesosJSON.encode(event), as: UTF8.self)) == event)
        }
    }

    @Test func eventFields() throws {
        #expect(try Self.decode(MesosSamples.subscribed).subscribed?.heartbeatIntervalSeconds == 15)
        let offer = try #require(try Self.decode(MesosSamples.offers).offers?.offers.first)
        #expect(offer.id == "12214-23523-O235235")
        #expect(offer.hostname == "agent.host")
        #expect(offer.resources == (try Resources.parse("cpus:4;ports:[31000-32000]")))
        #expect(offer.attributes == [Attribute(name: "rack", value: "r1"), Attribute(name: "level", value: "2")])
        #expect(offer.allocationInfo?.role == "test")
        let status = try #require(try Self.decode(MesosSamples.update).update?.status)
        #expect(status.state == .running)
        #expect(status.source == .executor)
        #expect(status.uuid == "adfadfadbhgvjayd23r2uahj")
        #expect(status.healthy == true)
        #expect(status.timestamp == 1700000000.5)
        let failed = try #require(try Self.decode(MesosSamples.failedUpdate).update?.status)
        #expect(failed.reason == .containerLimitationMemory)
        #expect(failed.source == .agent)
        #expect(try Self.decode(MesosSamples.error).error?.message == "Framework is not authorized")
    }

    /// Encoding uses Mesos' field names exactly.
    @Test func encodedFieldNames() throws {
        let json = String(decoding: try MesosJSON.encode(Event.subscribed("f1", heartbeatSeconds: 15)), as: UTF8.self)
        #expect(json == #"{"subscribed":{"framework_id":{"value":"f1"},"heartbeat_interval_seconds":15},"type":"SUBSCRIBED"}"#)
        var status = TaskStatus(taskID: "t", state: .dropped, message: "m", source: .master, reason: .invalidOffers, agentID: "a")
        status.uuid = nil
        let update = String(decoding: try MesosJSON.encode(Event.update(status)), as: UTF8.self)
        #expect(update == #"{"type":"UPDATE","update":{"status":{"agent_id":{"value":"a"},"message":"m","reason":"REASON_INVALID_OFFERS","source":"SOURCE_MASTER","state":"TASK_DROPPED","task_id":{"value":"t"}}}}"#)
    }

    @Test func offeredResourcesCarryAllocationInfo() throws {
        let offer = OfferInfo(id: "o", frameworkID: "f", agentID: "a", hostname: "h", resources: try Resources.parse("cpus:1"), role: try Role("eng"))
        let json = String(decoding: try MesosJSON.encode(offer), as: UTF8.self)
        #expect(json.contains(#"{"allocation_info":{"role":"eng"},"name":"cpus","scalar":{"value":1},"type":"SCALAR"}"#), "\(json)")
        #expect(try MesosJSON.decode(OfferInfo.self, from: Data(json.utf8), what: "offer") == offer)
    }

    @Test(arguments: TaskState.allCases)
    func taskStatesRoundTrip(state: TaskState) throws {
        let json = try MesosJSON.encode(state)
        #expect(String(decoding: json, as: UTF8.self) == "\"\(state.rawValue)\"")
        #expect(state.rawValue.hasPrefix("TASK_"))
    }

    @Test func agentMessagesRoundTrip() throws {
        let task = TaskInfo(name: "n", taskID: "t", agentID: "a", resources: try Resources.parse("cpus:0.5;mem:64"), command: CommandInfo(value: "true"))
        let register = AgentCall(type: .register, register: .init(hostname: "h", resources: try Resources.parse("cpus:4;mem:4096;ports:[31000-32000]"),
                                                                  attributes: [Attribute(name: "rack", value: "r1")],
                                                                  tasks: [.init(frameworkID: "f", task: task, status: TaskStatus(taskID: "t", state: .running))]))
        let update = AgentCall(type: .statusUpdate, agentID: "a", statusUpdate: .init(frameworkID: "f", status: TaskStatus(taskID: "t", state: .finished, uuid: "dXVpZA==")))
        for call in [register, update, AgentCall(type: .heartbeat, agentID: "a")] {
            try call.validate()
            #expect(try MesosJSON.decode(AgentCall.self, from: try MesosJSON.encode(call), what: "agent call") == call)
        }
        let events: [AgentEvent] = [
            .registered("a", heartbeatSeconds: 15), .heartbeat, .shutdownFramework("f"),
            .launch(.init(frameworkID: "f", frameworkInfo: FrameworkInfo(user: "u", name: "n"), tasks: [task])),
            .kill(.init(frameworkID: "f", taskID: "t")), .acknowledge(.init(frameworkID: "f", taskID: "t", uuid: "dXVpZA==")),
        ]
        for event in events {
            #expect(try MesosJSON.decode(AgentEvent.self, from: try MesosJSON.encode(event), what: "agent event") == event)
        }
    }
}
