import BerthCore
import Foundation
import Testing
@testable import BerthProtocol

@Suite struct CallDecodingTests {
    static func decode(_ json: String) throws -> Call {
        try MesosJSON.decode(Call.self, from: Data(json.utf8), what: "scheduler call")
    }

    @Test(arguments: [
        (MesosSamples.subscribe, Call.Kind.subscribe),
        (MesosSamples.resubscribe, .subscribe),
        (MesosSamples.teardown, .teardown),
        (MesosSamples.accept, .accept),
        (MesosSamples.launchGroup, .accept),
        (MesosSamples.decline, .decline),
        (MesosSamples.revive, .revive),
        (MesosSamples.suppress, .suppress),
        (MesosSamples.kill, .kill),
        (MesosSamples.shutdown, .shutdown),
        (MesosSamples.acknowledge, .acknowledge),
        (MesosSamples.reconcile, .reconcile),
        (MesosSamples.message, .message),
        (MesosSamples.updateFramework, .updateFramework),
    ])
    func documentedCallsDecodeValidateAndRoundTrip(json: String, type: Call.Kind) throws {
        let call = try Self.decode(json)
        #expect(call.type == type)
        try call.validate()
        let again = try MesosJSON.decode(Call.self, from: try MesosJSON.encode(call), what: "call")
        #expect(again == call)
    }

    @Test func subscribeFields() throws {
        let info = try #require(try Self.decode(MesosSamples.subscribe).subscribe?.frameworkInfo)
        #expect(info.user == "foo")
        #expect(info.name == "Example HTTP Framework")
        #expect(try info.validatedRoles() == [try Role("test")])
        #expect(info.capabilityNames == ["MULTI_ROLE"])
        #expect(info.failoverTimeout == 3600)
        #expect(info.hostname == "sched.example.com")
        #expect(info.principal == "ops")
        let old = try #require(try Self.decode(MesosSamples.resubscribe).subscribe?.frameworkInfo)
        #expect(old.id == "12220-3440-12532-2345")
        #expect(try old.validatedRoles() == [try Role("test")], "the pre-MULTI_ROLE \"role\" field is read")
    }

    @Test func acceptFields() throws {
        let accept = try #require(try Self.decode(MesosSamples.accept).accept)
        #expect(accept.offerIDs == ["12220-3440-12532-O12"])
        #expect(accept.filters?.refuseSeconds == 5)
        let task = try #require(accept.operations?.first?.tasks.first)
        #expect(task.name == "My Task")
        #expect(task.taskID == "12220-3440-12532-my-task")
        #expect(task.agentID == "12220-3440-12532-S1233")
        #expect(task.resources == (try Resources.parse("cpus:1;mem:128")))
        #expect(task.command?.value == "sleep 1000")
        #expect(task.command?.shell == true)
        #expect(task.command?.environment?.variables.first?.value == "hi")
        #expect(task.killPolicy?.gracePeriod?.seconds == 3)
        #expect(task.healthCheck?.type == .command)
        #expect(task.healthCheck?.command?.value == "true")
        let group = try #require(try Self.decode(MesosSamples.launchGroup).accept?.operations?.first)
        #expect(group.type == "LAUNCH_GROUP")
        #expect(group.tasks.map(\.taskID) == ["a"])
    }

    @Test func otherPayloads() throws {
        #expect(try Self.decode(MesosSamples.decline).decline?.offerIDs.count == 2)
        #expect(try Self.decode(MesosSamples.revive).revive?.roles == ["test"])
        #expect(try Self.decode(MesosSamples.kill).kill?.agentID == "12220-3440-12532-S1233")
        #expect(try Self.decode(MesosSamples.acknowledge).acknowledge?.uuid == "jhadf73jhakdlfha723adf")
        #expect(try Self.decode(MesosSamples.reconcile).reconcile?.tasks?.first?.taskID == "312325")
        #expect(try Self.decode(MesosSamples.message).message?.data == "adaoi4jfwe3fo8ajf")
        #expect(try Self.decode(MesosSamples.shutdown).shutdown?.executorID == "123450-2340-1232-my-executor")
    }

    /// Malformed calls: each refused with a message naming what is wrong.
    @Test(arguments: [
        ("not json", "not valid JSON"),
        ("{}", "missing field \"type\""),
        (#"{"type": "LAUNCH_ROCKETS"}"#, "unknown call type \"LAUNCH_ROCKETS\""),
        (#"{"type": "SUBSCRIBE"}"#, "without \"subscribe\""),
        (#"{"type": "TEARDOWN"}"#, "without \"framework_id\""),
        (#"{"type": "ACCEPT", "framework_id": {"value": "f"}}"#, "without \"accept\""),
        (#"{"type": "DECLINE", "framework_id": {"value": "f"}, "decline": {}}"#, "missing field \"offer_ids\""),
        (#"{"type": "KILL", "framework_id": {"value": "f"}, "kill": {"task_id": "t"}}"#, "kill.task_id"),
        (#"{"type": "SUBSCRIBE", "subscribe": {"framework_info": {"name": "x"}}}"#, "missing field \"user\""),
        (#"{"type": "SUBSCRIBE", "subscribe": {"framework_info": {"user": "u", "name": "x"}}, "framework_id": {"value": "a"}, "x": 1}"#, ""),
    ])
    func malformedCallsAreRefusedWithAMessage(json: String, expected: String) throws {
        do {
            let call = try Self.decode(json)
            try call.validate()
            #expect(expected.isEmpty, "decoded and validated, expected an error mentioning \(expected)")
        } catch let error as BerthError {
            #expect(!expected.isEmpty && error.message.contains(expected), "\(error.message)")
        }
    }

    @Test func invalidRoleIsRefused() throws {
        let info = FrameworkInfo(user: "u", name: "n", roles: ["a//b"])
        #expect(throws: BerthError.self) { try info.validatedRoles() }
    }
}
