import BerthAllocator
import BerthCore

/// How a coordinator runs. Defaults are Mesos' master defaults where Mesos has one.
public struct CoordinatorConfiguration: Sendable {
    /// Address to listen on; port 0 picks a free port (tests).
    public var host: String = "127.0.0.1"
    public var port: Int = 5050
    /// Where state will be persisted (next step: SQLite); unused while state is in memory.
    public var home: String?
    /// How often an allocation cycle runs even when nothing changed (Mesos' --allocation_interval).
    public var allocationInterval: Duration = .seconds(1)
    /// How often frameworks get a HEARTBEAT event (Mesos: 15 s).
    public var frameworkHeartbeatInterval: Duration = .seconds(15)
    /// How often agents are told to send HEARTBEAT calls, and the unit of the unreachable rule
    /// (Mesos' --agent_ping_timeout).
    public var agentPingTimeout: Duration = .seconds(15)
    /// An agent silent for this many ping timeouts is unreachable (Mesos' --max_agent_ping_timeouts).
    public var maxAgentPingTimeouts: Int = 5
    /// Outstanding offers older than this are rescinded and their resources offered again
    /// (Mesos' --offer_timeout); nil, the default, keeps offers until they are answered.
    public var offerTimeout: Duration?
    /// refuse_seconds when a DECLINE or ACCEPT gives none (Mesos: 5 s).
    public var defaultRefuseSeconds: Double = 5
    public var minAllocatableResources: [ResourceQuantities] = AllocationSnapshot.mesosMinAllocatable
    /// Pending connections the listening socket queues (capped by net.core.somaxconn). After a
    /// restart every agent reconnects at once: with the usual 256, SYNs are dropped and agents
    /// wait a second per retry.
    public var listenBacklog: Int = 4096
    /// Finished tasks remembered per framework (Mesos' --max_completed_tasks_per_framework); the
    /// oldest are forgotten first, so a framework launching many short tasks does not grow the
    /// registry and its database without bound.
    public var maxCompletedTasksPerFramework = 1000
    /// Removed frameworks shown in /state's `completed_frameworks` with their tasks, newest
    /// kept (Mesos' --max_completed_frameworks), in memory only: a client finds where a task of
    /// a framework that has gone away ran (`berth task logs` after `berth task run`).
    public var maxCompletedFrameworks = 50
    /// Largest request body accepted on the API.
    public var maximumBodySize: Int = 4 << 20

    public init() {}

    /// Silence after which an agent is unreachable.
    var agentUnreachableAfter: Duration { agentPingTimeout * maxAgentPingTimeouts }

    /// How often agents' silence, frameworks' failover deadlines and offers' ages are checked.
    var healthCheckInterval: Duration { min(agentPingTimeout, .seconds(1)) }
}

extension Duration {
    var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
