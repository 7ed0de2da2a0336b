import BerthAllocator
import BerthCore
import BerthProtocol

/// Where an open stream's events go, in the order sent: an `AsyncStream` that an HTTP response
/// reads, or an agent's connection written directly (`AgentCallHandler`).
public struct EventSink<Element: Sendable>: Sendable {
    let send: @Sendable (Element) -> Void
    let finish: @Sendable () -> Void

    init(send: @escaping @Sendable (Element) -> Void, finish: @escaping @Sendable () -> Void) {
        self.send = send
        self.finish = finish
    }

    init(_ continuation: AsyncStream<Element>.Continuation) {
        self.init(send: { continuation.yield($0) }, finish: { continuation.finish() })
    }
}

/// One open event stream to a framework or an agent: events go in order, and the stream ID is
/// what later calls must present.
struct EventChannel<Element: Sendable>: Sendable {
    let streamID: String
    let sink: EventSink<Element>

    func send(_ element: Element) { sink.send(element) }
    func close() { sink.finish() }
}

struct AgentRecord {
    let id: AgentID
    var hostname: String
    /// The agent's HTTP endpoint as it advertised it in REGISTER (not stored: it registers again
    /// after a coordinator restart).
    var ip: String? = nil
    var port: Int? = nil
    var total: Resources
    var attributes: [Attribute]
    var lastSeen: Timestamp
    var reachable: Bool
    var channel: EventChannel<AgentEvent>?
    /// Known from before a coordinator restart but not registered since: its resources are not
    /// offered until it registers and reports what it runs.
    var awaitingReregistration = false

    var isOfferable: Bool { reachable && !awaitingReregistration }
}

struct FrameworkRecord {
    let id: FrameworkID
    var info: FrameworkInfo
    var roles: [Role]
    var suppressed: Set<Role>
    var capabilities: Set<FrameworkCapability>
    var channel: EventChannel<Event>?
    /// While disconnected: when its tasks are killed unless it re-subscribes. Stored as wall-clock
    /// time, so a coordinator restart honours it (unlike MESOS-4659).
    var failoverDeadline: Timestamp?

    var isPartitionAware: Bool { capabilities.contains(.partitionAware) }

    var snapshot: FrameworkSnapshot {
        FrameworkSnapshot(id: id, roles: roles, suppressedRoles: suppressed, capabilities: capabilities, active: channel != nil)
    }

    func send(_ event: Event) { channel?.send(event) }
}

struct TaskKey: Hashable {
    var framework: FrameworkID
    var task: TaskID
}

struct TaskRecord {
    var info: TaskInfo
    let framework: FrameworkID
    let agent: AgentID
    let role: Role
    var status: TaskStatus
}

struct OfferRecord {
    let id: OfferID
    let offer: Offer
    /// When it was made, for --offer-timeout.
    let created: Timestamp
}

/// Tasks by key, indexed by agent as well: re-registration and unreachability look at one
/// agent's tasks, and with 10,000 agents re-registering a scan of all tasks each is quadratic.
struct TaskTable: Sequence {
    private var byKey: [TaskKey: TaskRecord] = [:]
    private var keysByAgent: [AgentID: Set<TaskKey>] = [:]

    init() {}

    init(_ records: [TaskKey: TaskRecord]) {
        for (key, record) in records { self[key] = record }
    }

    subscript(key: TaskKey) -> TaskRecord? {
        get { byKey[key] }
        set {
            if let old = byKey[key], old.agent != newValue?.agent {
                keysByAgent[old.agent]?.remove(key)
                if keysByAgent[old.agent]?.isEmpty == true { keysByAgent[old.agent] = nil }
            }
            if let newValue { keysByAgent[newValue.agent, default: []].insert(key) }
            byKey[key] = newValue
        }
    }

    var values: Dictionary<TaskKey, TaskRecord>.Values { byKey.values }
    var count: Int { byKey.count }

    /// The tasks placed on one agent, live or not.
    func on(_ agent: AgentID) -> [(key: TaskKey, value: TaskRecord)] {
        (keysByAgent[agent] ?? []).compactMap { key in byKey[key].map { (key, $0) } }
    }

    func makeIterator() -> Dictionary<TaskKey, TaskRecord>.Iterator { byKey.makeIterator() }
}
