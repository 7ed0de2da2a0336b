import BerthCore
import Foundation
import Testing
@testable import BerthProtocol

/// `AgentEvent.encodedJSON` writes REGISTERED itself: byte for byte what MesosJSON writes.
@Suite struct AgentEventJSONTests {
    @Test(arguments: [
        (AgentEvent.registered("5f1c-S1", heartbeatSeconds: 15), true),
        (AgentEvent.registered("x", heartbeatSeconds: 600), true),
        (AgentEvent.registered("", heartbeatSeconds: 0), true),
        (AgentEvent.registered("with/slash and space", heartbeatSeconds: 1), true),
        (AgentEvent.registered("quote\"d", heartbeatSeconds: 15), false),
        (AgentEvent.registered("back\\slash", heartbeatSeconds: 15), false),
        (AgentEvent.registered("caf\u{e9}", heartbeatSeconds: 15), false),
        (AgentEvent.registered("S1", heartbeatSeconds: 2.5), false),
        (AgentEvent.heartbeat, false),
        (AgentEvent.kill(.init(frameworkID: "f", taskID: "t")), false),
    ])
    func sameBytesAsTheEncoder(event: AgentEvent, written: Bool) throws {
        let expected = Array(try MesosJSON.encode(event))
        #expect(try event.encodedJSON() == expected)
        #expect((AgentEvent.directJSON(event) != nil) == written)
    }
}
