import BerthAllocator
import BerthCore
import BerthProtocol
import Foundation
import Logging

/// Taking up where the last run left off, and keeping the store in step with the registry.
///
/// After a restart every framework is disconnected, its failover deadline running; one that was
/// connected when the coordinator stopped gets the whole timeout from now (written back, so a
/// second restart does not grant it again). Every agent is awaiting re-registration: no offers
/// are made for it until it registers again, and one that stays silent past the unreachable
/// rule is handled as any silent agent (its tasks become TASK_LOST/TASK_UNREACHABLE).
enum Recovery {
    struct Registry {
        var agents: [AgentID: AgentRecord] = [:]
        var frameworks: [FrameworkID: FrameworkRecord] = [:]
        var tasks: [TaskKey: TaskRecord] = [:]
        var settings: [String: String] = [:]
    }

    static func restore(from store: CoordinatorStore, at now: Timestamp, logger: Logger) throws -> Registry {
        let state = try store.load()
        var registry = Registry()
        registry.settings = state.settings
        let wallNow = Date()
        for stored in state.frameworks {
            guard let id = stored.info.id else { continue }
            let deadline: Timestamp
            if let wall = stored.failoverDeadline {
                deadline = now + wall.timeIntervalSince(wallNow)
            } else {
                deadline = now + (stored.info.failoverTimeout ?? 0)
                var disconnected = stored
                disconnected.failoverDeadline = wallNow.addingTimeInterval(stored.info.failoverTimeout ?? 0)
                try store.save(disconnected)
            }
            registry.frameworks[id] = FrameworkRecord(
                id: id, info: stored.info, roles: (try? stored.info.validatedRoles()) ?? [.default], suppressed: [],
                capabilities: Set(stored.info.capabilityNames.map(FrameworkCapability.init(rawValue:))), channel: nil,
                failoverDeadline: deadline)
        }
        for stored in state.agents {
            registry.agents[stored.id] = AgentRecord(id: stored.id, hostname: stored.hostname, total: stored.resources, attributes: stored.attributes,
                                                     lastSeen: now, reachable: stored.reachable, channel: nil, awaitingReregistration: true)
        }
        for stored in state.tasks {
            let key = TaskKey(framework: stored.framework, task: stored.info.taskID)
            registry.tasks[key] = TaskRecord(info: stored.info, framework: stored.framework, agent: stored.agent,
                                             role: (try? Role(stored.role)) ?? .default, status: stored.status)
        }
        if !state.frameworks.isEmpty || !state.agents.isEmpty {
            logger.notice("recovered state", metadata: ["frameworks": "\(state.frameworks.count)", "agents": "\(state.agents.count)",
                                                        "tasks": "\(state.tasks.count)", "database": "\(store.path)"])
        }
        return registry
    }
}

extension Coordinator {
    /// A monotonic deadline as wall-clock time, the form the store keeps it in.
    func wallClockDate(of deadline: Timestamp) -> Date {
        Date().addingTimeInterval(deadline.seconds - now.seconds)
    }

    func storedFramework(_ framework: FrameworkRecord) -> StoredFramework {
        StoredFramework(info: framework.info, failoverDeadline: framework.failoverDeadline.map(wallClockDate(of:)))
    }

    func storedAgent(_ agent: AgentRecord) -> StoredAgent {
        StoredAgent(id: agent.id, hostname: agent.hostname, resources: agent.total, attributes: agent.attributes, reachable: agent.reachable)
    }

    func storedTask(_ task: TaskRecord) -> StoredTask {
        StoredTask(framework: task.framework, agent: task.agent, role: task.role.name, info: task.info, status: task.status)
    }
}
