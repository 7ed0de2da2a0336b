import BerthCore
import BerthProtocol
import Foundation
import Glibc
import Logging

/// KILL and SHUTDOWN_FRAMEWORK: SIGTERM to the whole container, SIGKILL through the cgroup when
/// the grace period ends. The exit is reported by the task's own lifecycle (Agent+Tasks) as
/// TASK_KILLED, whichever signal ended it.
extension Agent {
    /// Mesos sends TASK_KILLING only to frameworks that said they understand it.
    static let killingCapability = "TASK_KILLING_STATE"

    func kill(_ kill: AgentEvent.Kill) {
        let key = TaskKey(framework: kill.frameworkID, task: kill.taskID)
        guard let task = tasks[key] else {
            // As Mesos: the framework learns the agent has no such task rather than waiting.
            logger.notice("KILL of a task this agent does not have", metadata: ["task": "\(key)"])
            let placeholder = TaskInfo(name: "", taskID: kill.taskID, agentID: agentID ?? AgentID(""), resources: Resources())
            tasks[key] = AgentTask(checkpoint: TaskCheckpoint(frameworkID: kill.frameworkID, task: placeholder,
                                                              latest: TaskStatus(taskID: kill.taskID, state: .staging), pending: []),
                                   phase: .exited, retry: configuration.statusRetryInterval)
            report(key, .lost, message: "task \(kill.taskID) is not running on this agent", reason: .taskUnknown, source: .agent)
            return
        }
        let grace = (kill.killPolicy ?? task.checkpoint.task.killPolicy)?.gracePeriod
            .map { Duration.nanoseconds($0.nanoseconds) } ?? configuration.defaultGracePeriod
        requestKill(key, gracePeriod: grace, cause: nil)
    }

    func shutdownFramework(_ framework: FrameworkID) {
        logger.info("shutting down the framework's tasks", metadata: ["framework": "\(framework)"])
        for (key, task) in tasks where key.framework == framework {
            requestKill(key, gracePeriod: gracePeriod(of: task), cause: "the framework was shut down")
        }
    }

    /// The task's own kill policy, else the agent's default (Mesos: 3 s).
    func gracePeriod(of task: AgentTask) -> Duration {
        task.checkpoint.task.killPolicy?.gracePeriod.map { Duration.nanoseconds($0.nanoseconds) } ?? configuration.defaultGracePeriod
    }

    func requestKill(_ key: TaskKey, gracePeriod: Duration, cause: String?) {
        guard let task = tasks[key], !task.checkpoint.latest.state.isTerminal, task.kill == nil else { return }
        tasks[key]?.kill = KillRequest(gracePeriod: max(gracePeriod, .zero), cause: cause)
        // A launching task is stopped by its lifecycle once its container exists (or before).
        if case .running = task.phase { beginKill(key) }
    }

    func beginKill(_ key: TaskKey) {
        guard let task = tasks[key], case .running(let container) = task.phase, let kill = task.kill else { return }
        if task.checkpoint.frameworkInfo?.capabilityNames.contains(Self.killingCapability) == true {
            report(key, .killing, message: "SIGTERM sent; SIGKILL follows after \(kill.gracePeriod)")
        }
        logger.info("killing task", metadata: ["task": "\(key)", "grace_period": "\(kill.gracePeriod)"])
        Task {
            await BlockingWork.quietly { container.signalAll(SIGTERM) }
            try? await Task.sleep(for: kill.gracePeriod)
            await self.escalate(key, container: container)
        }
    }

    private func escalate(_ key: TaskKey, container: any TaskContainer) async {
        guard case .running(let current) = tasks[key]?.phase, current === container else { return }
        tasks[key]?.kill?.escalated = true
        await BlockingWork.quietly { container.killAll() }
    }

    /// Graceful agent stop. Supervised containers keep running, to be adopted by the next
    /// start; children of the agent are killed and their end checkpointed, to be delivered then.
    func stopAllTasks(timeout: Duration = .seconds(10)) async {
        guard !driver.containersOutliveAgent else { return }
        for key in tasks.keys {
            requestKill(key, gracePeriod: .zero, cause: "the agent shut down")
        }
        let deadline = ContinuousClock.now + timeout
        while tasks.values.contains(where: { if case .exited = $0.phase { false } else { true } }), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// At a graceful stop with no container left running: the runtime directory goes too, so a
    /// host where agents with other homes came and went keeps no empty directories in /run.
    func removeRuntimeDirectoryIfUnused() {
        let root = configuration.runtimeDirectory
        if rmdir(root + "/containers") == 0 { rmdir(root) }
    }
}
