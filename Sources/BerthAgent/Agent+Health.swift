import BerthCore
import BerthProtocol
import Foundation

/// Health checks of running tasks, as Mesos' command executor runs them (docs/agent.md): after
/// `delay_seconds`, every `interval_seconds`, each limited to `timeout_seconds`; `HealthState`
/// decides what a result means. Changes go out as TASK_RUNNING with `healthy`; too many
/// failures in a row kill the task, whose terminal update then says why.
extension Agent {
    /// Starts checking `container` when the task has a health check. The state is checkpointed
    /// with the task, so an adopted container resumes where the previous agent left off.
    func startHealthChecks(_ key: TaskKey, _ container: any TaskContainer) {
        guard let task = tasks[key], let check = task.checkpoint.task.healthCheck, check.problem == nil else { return }
        if task.checkpoint.health == nil {
            tasks[key]?.checkpoint.health = HealthState(check: check, startedAt: Date().timeIntervalSince1970)
            checkpoint(key)
        }
        Task { await self.checkHealth(key, container, check: check) }
    }

    private func checkHealth(_ key: TaskKey, _ container: any TaskContainer, check: HealthCheck) async {
        guard let startedAt = tasks[key]?.checkpoint.health?.startedAt else { return }
        // The delay counts from the container's start, also for an adopted one.
        let waited = Date().timeIntervalSince1970 - startedAt
        if check.delay > waited { try? await Task.sleep(for: HealthProbe.duration(check.delay - waited)) }
        logger.debug("health checks begin", metadata: ["task": "\(key)", "type": "\(check.type?.rawValue ?? "")"])
        while isCheckable(key, container) {
            let outcome = await Self.probe(check, container: container)
            guard isCheckable(key, container) else { return }
            record(key, outcome, check: check)
            try? await Task.sleep(for: HealthProbe.duration(check.interval))
        }
    }

    /// Still running in this container and not being killed: a check then means something.
    private func isCheckable(_ key: TaskKey, _ container: any TaskContainer) -> Bool {
        guard let task = tasks[key], task.kill == nil, case .running(let current) = task.phase else { return false }
        return current === container
    }

    private static func probe(_ check: HealthCheck, container: any TaskContainer) async -> HealthProbe.Outcome {
        do {
            return try await BlockingWork.run { HealthProbe.run(check, container: container) }
        } catch {
            return HealthProbe.Outcome(success: false, detail: "\(error)")
        }
    }

    private func record(_ key: TaskKey, _ outcome: HealthProbe.Outcome, check: HealthCheck) {
        guard var health = tasks[key]?.checkpoint.health else { return }
        let decision = health.record(success: outcome.success, at: Date().timeIntervalSince1970)
        let changed = health != tasks[key]?.checkpoint.health
        tasks[key]?.checkpoint.health = health
        logger.debug("health check \(outcome.success ? "passed" : "failed")", metadata: ["task": "\(key)", "detail": "\(outcome.detail)"])
        if let healthy = decision.report {
            let message = healthy ? "health check passed: \(outcome.detail)"
                : "health check failed (\(health.consecutiveFailures) of \(health.failuresToKill) in a row): \(outcome.detail)"
            // report checkpoints the new health state with the update.
            report(key, .running, message: message, reason: .taskHealthCheckStatusUpdated, healthy: healthy)
        } else if changed {
            checkpoint(key)
        }
        if decision.kill {
            guard let task = tasks[key] else { return }
            logger.notice("killing task: health check failed \(health.consecutiveFailures) times in a row", metadata: ["task": "\(key)"])
            requestKill(key, gracePeriod: gracePeriod(of: task), cause: "health check failed \(health.consecutiveFailures) times in a row; last: \(outcome.detail)")
        }
    }
}
