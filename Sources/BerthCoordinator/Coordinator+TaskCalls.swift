import BerthAllocator
import BerthCore
import BerthProtocol
import Logging

/// KILL, ACKNOWLEDGE, RECONCILE and MESSAGE: calls about tasks, mostly passed on to their agents.
extension Coordinator {
    func kill(_ kill: Call.Kill, from id: FrameworkID) {
        let key = TaskKey(framework: id, task: kill.taskID)
        guard let task = tasks[key], !task.status.state.isTerminal else {
            // Mesos answers a kill of a task it does not know with TASK_LOST, so the framework stops waiting.
            let state: TaskState = frameworks[id]?.isPartitionAware == true ? .unknown : .lost
            deliver(masterStatus(kill.taskID, state, reason: .reconciliation, message: "task \(kill.taskID) is not known to the coordinator (finished, never launched, or from another framework)", agent: kill.agentID), to: id)
            return
        }
        let event = AgentEvent.Kill(frameworkID: id, taskID: kill.taskID, killPolicy: kill.killPolicy ?? task.info.killPolicy)
        guard let channel = agents[task.agent]?.channel else {
            // The agent is disconnected or unreachable: the kill waits for it to register again
            // (a framework killing a TASK_UNREACHABLE task means it, once the agent is back).
            pendingKills[task.agent, default: [:]][key] = event
            return
        }
        channel.send(.kill(event))
    }

    func acknowledge(_ acknowledge: Call.Acknowledge, from id: FrameworkID) throws {
        guard let agent = agents[acknowledge.agentID] else {
            throw BerthError(.invalidArgument, "ACKNOWLEDGE: agent \(acknowledge.agentID) is not registered; acknowledge updates with the agent_id from their status")
        }
        agent.channel?.send(.acknowledge(AgentEvent.Acknowledge(frameworkID: id, taskID: acknowledge.taskID, uuid: acknowledge.uuid)))
    }

    /// Explicit: the latest status of each listed task (TASK_LOST, or TASK_UNKNOWN when partition
    /// aware, for unknown ones). Implicit (no tasks): the latest status of every live task.
    func reconcile(_ requested: [Call.Reconcile.Task], for id: FrameworkID) {
        let partitionAware = frameworks[id]?.isPartitionAware == true
        func reconciled(_ status: TaskStatus) -> TaskStatus {
            var copy = status
            copy.reason = .reconciliation
            copy.source = .master
            copy.uuid = nil
            return copy
        }
        if requested.isEmpty {
            for task in tasks.values where task.framework == id && !task.status.state.isTerminal {
                frameworks[id]?.send(.update(reconciled(task.status)))
            }
            return
        }
        for entry in requested {
            if let task = tasks[TaskKey(framework: id, task: entry.taskID)] {
                frameworks[id]?.send(.update(reconciled(task.status)))
            } else {
                frameworks[id]?.send(.update(masterStatus(entry.taskID, partitionAware ? .unknown : .lost, reason: .reconciliation,
                                                          message: "task \(entry.taskID) is not known to the coordinator", agent: entry.agentID)))
            }
        }
    }

    func forwardMessage(_ message: Call.Message, from id: FrameworkID) throws {
        guard let agent = agents[message.agentID] else {
            throw BerthError(.invalidArgument, "MESSAGE: agent \(message.agentID) is not registered")
        }
        var event = AgentEvent(type: .frameworkMessage)
        event.frameworkMessage = AgentEvent.FrameworkMessage(frameworkID: id, executorID: message.executorID, data: message.data)
        agent.channel?.send(event)
    }
}
