import BerthCore
import Foundation
import Testing
@testable import BerthProtocol

/// `AgentCall.decodeFast` must give exactly what the Codable path gives, or nil.
@Suite struct AgentCallFastDecodingTests {
    static func fast(_ json: String) -> AgentCall? {
        Array(json.utf8).withUnsafeBytes { AgentCall.decodeFast($0) }
    }

    static func codable(_ json: String) throws -> AgentCall {
        try MesosJSON.decode(AgentCall.self, from: Data(json.utf8), what: "agent call")
    }

    /// Calls as agents encode them (MesosJSON), every field the fast path reads set.
    static var encodedCalls: [AgentCall] {
        let running = TaskStatus(taskID: "t1", state: .running, message: "up", source: .executor, reason: Reason(rawValue: "REASON_X"),
                                 agentID: "S1", executorID: "e1", timestamp: 1_764_000_000.25, uuid: "3q2+7w==", healthy: true)
        var status = running
        status.data = "ZGF0YQ=="
        status.labels = .object(["labels": .array([.object(["key": .string("k"), "value": .string("v")])])])
        var task = TaskInfo(name: "web", taskID: "t1", agentID: "S1",
                            resources: [.scalar("cpus", Scalar(milli: 250)), .scalar("mem", 64), .ranges("ports", [ValueRange(31000, 31001)]),
                                        .set("disks", ["a", "b"])],
                            command: CommandInfo(value: "sleep 3600", shell: false, arguments: ["sleep", "3600"],
                                                 environment: .init(variables: [.init(name: "A", value: "1")]), user: "nobody"),
                            container: .object(["type": .string("MESOS"), "mesos": .object(["image": .object(["type": .string("DOCKER")])])]),
                            killPolicy: KillPolicy(gracePeriod: DurationInfo(nanoseconds: 3_000_000_000)))
        task.labels = .object(["labels": .array([])])
        task.data = "eA=="
        task.maxCompletionTime = .object(["nanoseconds": .number(5e9)])
        task.executor = .null
        let register = AgentCall.Register(
            hostname: "node1", resources: [.scalar("cpus", 8), .scalar("mem", 16384), .ranges("ports", [ValueRange(31000, 32000)]), .scalar("disk", 100)],
            attributes: [Attribute(name: "rack", value: "r1"), Attribute(name: "weight", value: "2.5")],
            tasks: [AgentCall.RunningTask(frameworkID: "f1", task: task, status: status)],
            version: "0.1.0", ip: "10.0.0.5", port: 5051)
        return [
            AgentCall(type: .register, register: AgentCall.Register(hostname: "bare", resources: Resources())),
            AgentCall(type: .register, register: register),
            AgentCall(type: .register, agentID: "instance-S7", register: register),
            AgentCall(type: .heartbeat, agentID: "instance-S7"),
            AgentCall(type: .statusUpdate, agentID: "instance-S7", statusUpdate: .init(frameworkID: "f1", status: running)),
        ]
    }

    @Test(arguments: encodedCalls)
    func encodedCallsTakeTheFastPathWithTheSameValue(call: AgentCall) throws {
        let json = String(decoding: try MesosJSON.encode(call), as: UTF8.self)
        let fast = try #require(Self.fast(json), "fell back on \(json)")
        #expect(fast == (try Self.codable(json)))
    }

    @Test(arguments: [
        // Whitespace, key order, explicit nulls for optional fields, unknown fields.
        """
         { "register" : { "resources" : [ {"type":"SCALAR","scalar":{"value":0.1234},"name":"cpus"} ], "hostname":"h",
           "attributes": null, "tasks": [], "extra": {"a": [1, 2.5e3, -0, true, false, null]} },
           "type" : "REGISTER", "agent_id": null }
        """,
        #"{"type":"REGISTER","register":{"hostname":"h","resources":[{"name":"ports","type":"RANGES","ranges":{}}],"port":0}}"#,
        #"{"type":"REGISTER","register":{"hostname":"h","resources":[{"name":"d","type":"SET","set":{"item":["x","x"]}}]}}"#,
        #"{"type":"HEARTBEAT","agent_id":{"value":"S1","other":1}}"#,
    ])
    func handWrittenBodiesMatch(json: String) throws {
        let fast = try #require(Self.fast(json), "fell back on \(json)")
        #expect(fast == (try Self.codable(json)))
    }

    /// Shapes the fast path leaves to the Codable path: the result there may be a value or an
    /// error, but never one the fast path made up.
    @Test(arguments: [
        #"{"type":"REGISTER","register":{"hostname":"h\u00e9","resources":[]}}"#,  // escapes
        "{\"type\":\"REGISTER\",\"register\":{\"hostname\":\"hé\",\"resources\":[]}}",  // non-ASCII
        #"{"type":"REGISTER","register":{"hostname":"h","resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"eng"}]}}"#,
        #"{"type":"REGISTER","register":{"hostname":"h","resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":-1}}]}}"#,
        #"{"type":"REGISTER","register":{"hostname":"h","resources":[{"name":"p","type":"RANGES","ranges":{"range":[{"begin":5,"end":4}]}}]}}"#,
        #"{"type":"REGISTER","register":{"hostname":"h","resources":[],"port":5051.0}}"#,
        #"{"type":"REGISTER","register":{"hostname":"h","resources":[],"attributes":[{"name":"a","type":"SET","set":{"item":["b"]}}]}}"#,
        #"{"type":"REGISTER","register":{"hostname":"h","resources":[]},"type":"HEARTBEAT"}"#,  // duplicate key
        #"{"type":"REGISTER","register":{"hostname":"h","resources":[]}} x"#,
        #"{"type":"REGISTER","register":{"hostname":"h","resources":[],"port":01}}"#,
        #"{"type":"REGISTER","register":{"hostname":7,"resources":[]}}"#,
        #"{"type":"REGISTER","register":{"resources":[]}}"#,
        #"{"type":"BOGUS"}"#,
        #"{"type":"REGISTER""#,
        "",
    ])
    func otherShapesFallBack(json: String) {
        #expect(Self.fast(json) == nil)
    }

    @Test func aTaskWithAHealthCheckFallsBack() throws {
        var call = Self.encodedCalls[1]
        call.register?.tasks?[0].task.healthCheck = try MesosJSON.decode(HealthCheck.self, from: Data(#"{"type":"TCP","tcp":{"port":31000}}"#.utf8), what: "health check")
        let json = String(decoding: try MesosJSON.encode(call), as: UTF8.self)
        #expect(Self.fast(json) == nil)
        #expect(try Self.codable(json).register?.tasks?.first?.task.healthCheck != nil)
    }

    /// Objects beyond the fast path's field limit go to the Codable path, which reads them all.
    @Test func largeObjectsFallBack() throws {
        let fields = (0..<100).map { #""f\#($0)": \#($0)"# }.joined(separator: ",")
        let json = #"{"type":"REGISTER","register":{"hostname":"h","resources":[],"extra":{"# + fields + "}}}"
        #expect(Self.fast(json) == nil)
        #expect(try Self.codable(json).register?.hostname == "h")
        let small = (0..<10).map { #""f\#($0)": \#($0)"# }.joined(separator: ",")
        let fast = try #require(Self.fast(#"{"type":"REGISTER","register":{"hostname":"h","resources":[],"extra":{"# + small + "}}}"))
        #expect(fast.register?.hostname == "h")
    }

    @Test func deepNestingFallsBack() {
        let json = #"{"type":"REGISTER","register":{"hostname":"h","resources":[],"extra":"# + String(repeating: "[", count: 100)
            + String(repeating: "]", count: 100) + "}}"
        #expect(Self.fast(json) == nil)
    }
}
