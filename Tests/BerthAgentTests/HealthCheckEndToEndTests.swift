@testable import BerthAgent
import BerthCore
import BerthProtocol
import BerthTestSupport
import Foundation
import Testing

/// Health checks through the whole path: a framework's TaskInfo.health_check, the agent running
/// it (a command inside the container, or HTTP/TCP to the task's port), the results in status
/// updates, and the kill after too many failures. Serialized, and on their own in scripts/test.sh:
/// the leftover checks look at the whole host.
@Suite("health checks end to end", .serialized, .requiresRoot)
struct HealthCheckEndToEndTests {
    static let quickKill = KillPolicy(gracePeriod: DurationInfo(nanoseconds: 100_000_000))

    /// Checks at once and every 0.3 s; `grace` 0 counts every failure from the start.
    static func fast(_ check: HealthCheck, failures: Int = 2, grace: Double = 0) -> HealthCheck {
        var check = check
        check.delaySeconds = 0
        check.intervalSeconds = 0.3
        check.timeoutSeconds = 5
        check.gracePeriodSeconds = grace
        check.consecutiveFailures = failures
        return check
    }

    /// A port nobody else on this host is likely to use (other suites use 31000-31009).
    static func freePort() -> Int { Int.random(in: 40000...49999) }

    /// The check runs in the container (its hostname, its rootfs, the task's environment),
    /// fails, is reported unhealthy, and after two failures in a row the task is killed.
    @Test(arguments: [false, true]) func aFailingCommandCheckIsReportedAndKillsTheTask(supervised: Bool) async throws {
        try await withCluster(supervised: supervised) { cluster in
            let check = Self.fast(HealthCheck(type: .command, command: CommandInfo(
                value: "echo host=$(hostname) probe=$(ls /bin/probe) task=$MESOS_TASK_ID pid1=$(cat /proc/1/comm); exit 1")))
            let task = try await cluster.launch("sick", command: CommandInfo(value: "exec sleep 60"), killPolicy: Self.quickKill, healthCheck: check)
            let unhealthy = try await cluster.scheduler.update(task, .running, occurrence: 2)
            #expect(unhealthy.healthy == false, "\(unhealthy)")
            #expect(unhealthy.reason == .taskHealthCheckStatusUpdated)
            #expect(unhealthy.message?.contains("host=agent-test probe=/bin/probe task=sick pid1=sleep") == true, "\(unhealthy)")
            let killed = try await cluster.scheduler.update(task, .killed)
            #expect(killed.healthy == false, "\(killed)")
            #expect(killed.message?.contains("health check failed 2 times in a row") == true, "\(killed)")
            #expect(killed.message?.contains("command exit code 1: host=agent-test") == true, "\(killed)")
            #expect(await cluster.scheduler.states(task) == [.starting, .running, .running, .killing, .killed])
        }
    }

    /// A check that outlives its timeout is killed and counts as a failure.
    @Test func aCheckOverItsTimeoutFails() async throws {
        try await withCluster { cluster in
            var check = Self.fast(HealthCheck(type: .command, command: CommandInfo(value: "sleep 30")), failures: 1)
            check.timeoutSeconds = 0.5
            let task = try await cluster.launch("slow", command: CommandInfo(value: "exec sleep 60"), killPolicy: Self.quickKill, healthCheck: check)
            let killed = try await cluster.scheduler.update(task, .killed)
            #expect(killed.message?.contains("timed out after 0.5 s") == true, "\(killed)")
            #expect(killed.healthy == false)
        }
    }

    /// busybox httpd serves the sandbox: the HTTP check and a TCP check pass and are reported
    /// healthy once, not again on every check. The checks that run before httpd listens fail
    /// within the grace period, so they are not reported.
    @Test func passingHTTPAndTCPChecksAreReportedHealthy() async throws {
        try await withCluster { cluster in
            let httpPort = Self.freePort()
            let serve = "echo ok > index.html; exec httpd -f -p 127.0.0.1:\(httpPort) -h ."
            let web = try await cluster.launch("web", command: CommandInfo(value: serve), killPolicy: Self.quickKill,
                                               healthCheck: Self.fast(HealthCheck(type: .http, http: .init(port: httpPort, path: "/index.html")), grace: 20))
            let healthy = try await cluster.scheduler.update(web, .running, occurrence: 2)
            #expect(healthy.healthy == true, "\(healthy)")
            #expect(healthy.reason == .taskHealthCheckStatusUpdated)
            #expect(healthy.message?.contains("answered 200") == true, "\(healthy)")

            let tcpPort = httpPort == 49999 ? 40000 : httpPort + 1
            let tcp = try await cluster.launch("tcp", command: CommandInfo(value: "exec httpd -f -p 127.0.0.1:\(tcpPort) -h ."), killPolicy: Self.quickKill,
                                               healthCheck: Self.fast(HealthCheck(type: .tcp, tcp: .init(port: tcpPort)), grace: 20))
            let connected = try await cluster.scheduler.update(tcp, .running, occurrence: 2)
            #expect(connected.healthy == true, "\(connected)")
            try await Task.sleep(for: .seconds(1))
            #expect(await cluster.scheduler.states(web) == [.starting, .running, .running], "a health that stays the same is not reported again")
            #expect(await cluster.agent.liveTasks() == [tcp, web])
            let state = await cluster.agent.state()
            #expect(state.tasks.map(\.healthy) == [true, true], "GET /state shows each task's health: \(state.tasks)")
            #expect(state.tasks.map(\.healthCheckFailures) == [0, 0])
        }
    }

    @Test func anInvalidCheckIsATaskErrorThatSaysWhatToFix() async throws {
        try await withCluster { cluster in
            let task = try await cluster.launch("invalid", command: CommandInfo(value: "true"), healthCheck: HealthCheck(type: .http, http: .init(port: nil)))
            let error = try await cluster.scheduler.update(task, .error)
            #expect(error.reason == .taskInvalid)
            #expect(error.message?.contains("health_check.http has no port") == true, "\(error)")
        }
    }

    /// `berth agent` killed with SIGKILL while a healthy task runs: the next agent adopts the
    /// container and resumes checking without reporting the same health again; a change after
    /// the restart is reported and kills the task as usual. The grace period (ignoring checks
    /// before `ready` exists) ended with the first success, also for the second agent.
    @Test func anAdoptedContainerResumesItsChecksWithoutReportingAgain() async throws {
        let setup = try await AgentProcessSetup.start()
        defer { setup.removeHome() }
        let (scheduler, home) = (setup.scheduler, setup.home)
        let first = try setup.spawnAgent()
        let offer = try await scheduler.nextOffer()
        var task = TaskInfo(name: "watched", taskID: "watched", agentID: offer.agentID, resources: try Resources.parse("cpus:0.1;mem:32"),
                            command: CommandInfo(value: "touch ready; exec sleep 60"), killPolicy: Self.quickKill)
        task.healthCheck = Self.fast(HealthCheck(type: .command, command: CommandInfo(value: "test -f /mnt/mesos/sandbox/ready")), failures: 2, grace: 20)
        try await scheduler.calls.launch([task], on: [offer.id], refuseSeconds: 0)
        let healthy = try await scheduler.update("watched", .running, occurrence: 2)
        #expect(healthy.healthy == true, "\(healthy)")
        try await AgentEndToEndTests.waitUntilAcknowledged(agent: first)
        kill(first.pid, SIGKILL)
        _ = try? first.finish()

        let second = try setup.spawnAgent()
        try await AgentEndToEndTests.waitUntilAcknowledged(agent: second)
        try await Task.sleep(for: .seconds(1))
        #expect(await scheduler.states("watched") == [.starting, .running, .running], "the same health is not reported again after the restart")
        let sandbox = "\(home)/agent/sandboxes/\(scheduler.calls.frameworkID.value)/watched"
        try FileManager.default.removeItem(atPath: sandbox + "/ready")
        let unhealthy = try await scheduler.update("watched", .running, occurrence: 3)
        #expect(unhealthy.healthy == false, "\(unhealthy)")
        let killed = try await scheduler.update("watched", .killed)
        #expect(killed.healthy == false, "\(killed)")
        #expect(killed.message?.contains("health check failed 2 times in a row") == true, "\(killed)")
        kill(second.pid, SIGTERM)
        let stopped = try second.finish()
        #expect(stopped.status == 0, "\(stopped)")
        try await setup.stopAndCheckLeftovers()
    }

    /// `berth task run --health-*`: the changes of health are shown as they arrive, and the
    /// kill after too many failures ends the run.
    @Test func taskRunShowsHealthChanges() async throws {
        try await withCluster { cluster in
            // The test framework's offer is declined for long, so the CLI's framework gets the agent.
            let offer = try await cluster.scheduler.nextOffer()
            try await cluster.scheduler.calls.decline([offer.id], refuseSeconds: 3600)
            let run = try SpawnedCommand([TestHost.berthBinary, "task", "run", "--coordinator", cluster.coordinator.url, "--mem", "32",
                                          "--health-cmd", "echo not yet; exit 1", "--health-interval", "300ms", "--health-retries", "2",
                                          "--health-delay", "0", "--health-start-period", "0", "--kill-grace-period", "0.1", "--", "exec sleep 60"])
            let result = try await run.finishOffPool()
            #expect(result.status == 137, "killed with SIGKILL: \(result)")
            #expect(result.stderr.contains("TASK_RUNNING (unhealthy): health check failed (1 of 2 in a row): command exit code 1: not yet [REASON_TASK_HEALTH_CHECK_STATUS_UPDATED]"),
                    "\(result)")
            #expect(result.stderr.contains("TASK_KILLED (unhealthy): "), "\(result)")
            #expect(result.stderr.contains("health check failed 2 times in a row; last: command exit code 1: not yet"), "\(result)")
        }
    }

}
