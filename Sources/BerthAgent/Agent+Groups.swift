import BerthCore
import BerthProtocol
import Foundation

/// LAUNCH_GROUP, as Mesos' default executor runs a task group: every task of the group is
/// prepared (image, rootfs) before any of them starts, none starts when one cannot, and when
/// one ends other than TASK_FINISHED (failed, killed, lost) the others are killed. Each task
/// is still its own container with its own limits; they share the host's network, as all
/// tasks on this agent do.
struct LaunchGroup {
    var members: [Agent.TaskKey]
    var prepared: Set<Agent.TaskKey> = []
    var failure: Failure?
    var waiting: [CheckedContinuation<Failure?, Never>] = []

    /// How the tasks of a group that did not start end.
    struct Failure: Sendable {
        var state: TaskState
        var reason: Reason?
        var message: String
    }
}

extension Agent {
    /// A new ID for each group, naming its executor when the framework gave one (several
    /// groups may share an executor, and each is still a unit of its own).
    static func groupID(_ launch: AgentEvent.Launch) -> String {
        var executor = "group"
        if case .object(let info) = launch.executor, case .object(let id)? = info["executor_id"], case .string(let value)? = id["value"] {
            executor = value
        }
        return "\(launch.frameworkID.value)/\(executor)/\(UUID().uuidString)"
    }

    /// Waits until every task of `key`'s group is ready to start. nil: start it; otherwise the
    /// group will not start and the task ends as the failure says. Tasks outside a group go on.
    func groupMayStart(_ key: TaskKey) async -> LaunchGroup.Failure? {
        guard let id = tasks[key]?.checkpoint.group, var group = launchGroups[id] else { return nil }
        if let failure = group.failure { return failure }
        group.prepared.insert(key)
        if group.prepared.count == group.members.count {
            let waiting = group.waiting
            group.waiting = []
            launchGroups[id] = group
            for continuation in waiting { continuation.resume(returning: nil) }
            return nil
        }
        launchGroups[id] = group
        return await withCheckedContinuation { continuation in
            launchGroups[id]?.waiting.append(continuation)
        }
    }

    /// A member ended other than FINISHED: members waiting to start will not, running ones
    /// are killed.
    func groupMemberEnded(_ key: TaskKey, _ state: TaskState) {
        guard let id = tasks[key]?.checkpoint.group else { return }
        let cause = "task \(key.task) of its group ended \(state.rawValue)"
        if var group = launchGroups[id], group.failure == nil {
            let failure = state == .killed
                ? LaunchGroup.Failure(state: .killed, reason: .taskKilledDuringLaunch, message: "killed before it started: \(cause)")
                : LaunchGroup.Failure(state: .failed, reason: .containerLaunchFailed, message: "not started: \(cause)")
            group.failure = failure
            let waiting = group.waiting
            group.waiting = []
            launchGroups[id] = group
            for continuation in waiting { continuation.resume(returning: failure) }
        }
        for (other, task) in tasks where other != key && task.checkpoint.group == id && !task.checkpoint.latest.state.isTerminal {
            requestKill(other, gracePeriod: gracePeriod(of: task), cause: cause)
        }
    }

    /// Forgets the group once none of its tasks is left.
    func forgetGroupIfDone(_ id: String?) {
        guard let id, !tasks.values.contains(where: { $0.checkpoint.group == id }) else { return }
        launchGroups[id] = nil
    }
}
