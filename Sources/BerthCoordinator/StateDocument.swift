import BerthAllocator
import BerthCore
import BerthProtocol

/// `GET /state`: the subset of Mesos' master `/state` that Berth fills, in its field names
/// (Mesos still calls agents "slaves" there, and clients read those keys).
public struct StateDocument: Codable, Sendable {
    public var version: String
    public var berthVersion: String
    public var id: String
    public var activatedSlaves: Int
    public var deactivatedSlaves: Int
    public var unreachableSlaves: Int
    public var slaves: [AgentState]
    public var frameworks: [FrameworkState]
    /// Frameworks removed lately (torn down, or their failover timeout passed), with their tasks.
    public var completedFrameworks: [FrameworkState]

    enum CodingKeys: String, CodingKey {
        case version, berthVersion = "berth_version", id, activatedSlaves = "activated_slaves", deactivatedSlaves = "deactivated_slaves"
        case unreachableSlaves = "unreachable_slaves", slaves, frameworks, completedFrameworks = "completed_frameworks"
    }

    public struct AgentState: Codable, Sendable {
        public var id: String
        public var hostname: String
        /// Mesos' `slave(1)@IP:PORT`: where the agent's HTTP endpoint is (absent when it serves none).
        public var pid: String?
        public var port: Int?
        public var active: Bool
        public var resources: [String: JSONValue]
        public var usedResources: [String: JSONValue]
        public var attributes: [String: String]

        enum CodingKeys: String, CodingKey {
            case id, hostname, pid, port, active, resources, usedResources = "used_resources", attributes
        }

        /// `http://IP:PORT` of the agent, from its pid.
        public var url: String? {
            guard let pid, let at = pid.firstIndex(of: "@") else { return nil }
            let address = pid[pid.index(after: at)...]
            // An IPv6 address needs brackets in a URL.
            if address.filter({ $0 == ":" }).count > 1, let colon = address.lastIndex(of: ":") {
                return "http://[\(address[..<colon])]\(address[colon...])"
            }
            return "http://\(address)"
        }
    }

    public struct FrameworkState: Codable, Sendable {
        public var id: String
        public var name: String
        public var user: String
        public var roles: [String]
        public var active: Bool
        public var connected: Bool
        public var failoverTimeout: Double
        public var capabilities: [String]
        public var suppressedRoles: [String]
        public var offers: Int
        public var tasks: [TaskState]
        public var completedTasks: [TaskState]

        enum CodingKeys: String, CodingKey {
            case id, name, user, roles, active, connected, failoverTimeout = "failover_timeout", capabilities
            case suppressedRoles = "suppressed_roles", offers, tasks, completedTasks = "completed_tasks"
        }
    }

    public struct TaskState: Codable, Sendable {
        public var id: String
        public var name: String
        public var frameworkID: String
        public var slaveID: String
        public var state: String
        public var role: String
        public var resources: [String: JSONValue]
        public var statuses: [BerthProtocol.TaskStatus]

        enum CodingKeys: String, CodingKey {
            case id, name, frameworkID = "framework_id", slaveID = "slave_id", state, role, resources, statuses
        }
    }

    /// Mesos' flat resource map: scalars as numbers, ranges and sets in their text form.
    static func flat(_ resources: Resources) -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        for name in resources.names {
            let scalar = resources.scalar(named: name)
            let ranges = resources.ranges(named: name)
            let set = resources.set(named: name)
            if !ranges.isEmpty { result[name] = .string(ranges.description) }
            else if !set.isEmpty { result[name] = .string("{" + set.sorted().joined(separator: ",") + "}") }
            else { result[name] = .number(scalar.doubleValue) }
        }
        return result
    }
}

extension Coordinator {
    public func state() -> StateDocument {
        var used: [AgentID: Resources] = [:]
        for task in tasks.values where !task.status.state.isTerminal { used[task.agent, default: Resources()] += task.info.resources }
        let agentStates = agents.values.sorted { $0.id < $1.id }.map { agent in
            StateDocument.AgentState(id: agent.id.value, hostname: agent.hostname,
                                     pid: agent.port.map { "slave(1)@\(agent.ip ?? agent.hostname):\($0)" }, port: agent.port, active: agent.reachable,
                                     resources: StateDocument.flat(agent.total), usedResources: StateDocument.flat(used[agent.id] ?? Resources()),
                                     attributes: Dictionary(agent.attributes.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first }))
        }
        let frameworkStates = frameworks.values.sorted { $0.id < $1.id }.map { framework in
            frameworkState(framework, tasks: tasks.values.filter { $0.framework == framework.id }, connected: framework.channel != nil,
                           offers: offers.values.filter { $0.offer.framework == framework.id }.count)
        }
        let completed = completedFrameworks.reversed().map { frameworkState($0.framework, tasks: $0.tasks, connected: false, offers: 0) }
        return StateDocument(version: MesosAPIVersion.current, berthVersion: BerthVersion.current, id: instanceID,
                             activatedSlaves: agentStates.filter(\.active).count, deactivatedSlaves: 0,
                             unreachableSlaves: agentStates.filter { !$0.active }.count, slaves: agentStates, frameworks: frameworkStates,
                             completedFrameworks: completed)
    }

    private func frameworkState(_ framework: FrameworkRecord, tasks: [TaskRecord], connected: Bool, offers: Int) -> StateDocument.FrameworkState {
        let own = tasks.sorted { $0.info.taskID < $1.info.taskID }.map { task in
            StateDocument.TaskState(id: task.info.taskID.value, name: task.info.name, frameworkID: framework.id.value, slaveID: task.agent.value,
                                    state: task.status.state.rawValue, role: task.role.name, resources: StateDocument.flat(task.info.resources),
                                    statuses: [task.status])
        }
        return StateDocument.FrameworkState(
            id: framework.id.value, name: framework.info.name, user: framework.info.user, roles: framework.roles.map(\.name),
            active: connected, connected: connected, failoverTimeout: framework.info.failoverTimeout ?? 0,
            capabilities: framework.capabilities.map(\.rawValue).sorted(), suppressedRoles: framework.suppressed.map(\.name).sorted(),
            offers: offers,
            tasks: own.filter { !(BerthProtocol.TaskState(rawValue: $0.state)?.isTerminal ?? false) },
            completedTasks: own.filter { BerthProtocol.TaskState(rawValue: $0.state)?.isTerminal ?? false })
    }
}
