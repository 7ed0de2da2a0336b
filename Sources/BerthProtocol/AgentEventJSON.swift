import BerthCore

extension AgentEvent {
    /// This event as `MesosJSON.encode` writes it. REGISTERED, which every agent gets each time
    /// it registers, is written directly: with thousands of agents re-registering at once,
    /// Foundation's encoder (sorted keys) was a visible share of the coordinator's time. The
    /// bytes are the same (`AgentEventJSONTests`).
    public func encodedJSON() throws -> [UInt8] {
        try Self.directJSON(self) ?? Array(MesosJSON.encode(self))
    }

    /// REGISTERED with an ID that needs no escaping and a whole number of seconds; nil otherwise.
    static func directJSON(_ event: AgentEvent) -> [UInt8]? {
        guard event.type == .registered, let registered = event.registered, event.launch == nil, event.kill == nil,
              event.acknowledge == nil, event.shutdownFramework == nil, event.frameworkMessage == nil else { return nil }
        let seconds = registered.heartbeatIntervalSeconds
        guard seconds.rounded() == seconds, seconds >= 0, seconds.sign == .plus, seconds < 1e15,
              registered.agentID.value.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x80 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") })
        else { return nil }
        return Array(#"{"registered":{"agent_id":{"value":""#.utf8) + Array(registered.agentID.value.utf8)
            + Array(#""},"heartbeat_interval_seconds":\#(Int(seconds))},"type":"REGISTERED"}"#.utf8)
    }
}
