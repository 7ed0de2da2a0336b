import AsyncHTTPClient
@testable import BerthAgent
import BerthCore
import BerthImage
import BerthProtocol
import BerthTestSupport
import Foundation
import Testing

/// A framework launches tasks through a real coordinator onto a real agent that runs them in
/// containers, as children of the agent or (`supervised`) under `berth-supervise`. Serialized,
/// and on their own in scripts/test.sh: the leftover checks look at the whole host.
@Suite("agent end to end", .serialized, .requiresRoot)
struct AgentEndToEndTests {
    @Test(arguments: [false, true]) func aCommandTaskRunsToFinishedWithItsOutputAndMesosEnvironment(supervised: Bool) async throws {
        try await withCluster(supervised: supervised) { cluster in
            let script = "echo task=$MESOS_TASK_ID sandbox=$MESOS_SANDBOX host=$HOST port0=$PORT0 ports=$PORTS pwd=$(pwd) greeting=$GREETING; echo oops >&2"
            var command = CommandInfo(value: script)
            command.environment = .init(variables: [.init(name: "GREETING", value: "hi")])
            let task = try await cluster.launch("hello", command: command, resources: "cpus:0.1;mem:32;ports:[31000-31001]")
            let finished = try await cluster.scheduler.update(task, .finished)
            #expect(finished.message == "Command exited with status 0")
            #expect(await cluster.scheduler.states(task) == [.starting, .running, .finished])
            let stdout = try String(contentsOfFile: cluster.sandbox(task) + "/stdout", encoding: .utf8)
            #expect(stdout == "task=hello sandbox=/mnt/mesos/sandbox host=agent-test port0=31000 ports=31000,31001 pwd=/mnt/mesos/sandbox greeting=hi\n")
            let stderr = try String(contentsOfFile: cluster.sandbox(task) + "/stderr", encoding: .utf8)
            #expect(stderr == "oops\n")

            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: cluster.agentURL + "/state"), timeout: .seconds(10))
            #expect(response.status == .ok)
            let state = try JSONDecoder().decode(AgentStateDocument.self, from: Data(buffer: try await response.body.collect(upTo: 1 << 20)))
            #expect(state.registered)
            #expect(state.id == finished.agentID)
            #expect(state.hostname == "agent-test")
        }
    }

    /// GET /monitor/statistics: each running container's usage and limits, from its cgroup.
    @Test(arguments: [false, true]) func statisticsShowEachRunningContainersUsageAndLimits(supervised: Bool) async throws {
        try await withCluster(supervised: supervised) { cluster in
            let task = try await cluster.launch("busy", command: CommandInfo(value: "/bin/probe spin 1; exec sleep 30"), resources: "cpus:0.5;mem:64",
                                                killPolicy: KillPolicy(gracePeriod: DurationInfo(nanoseconds: 100_000_000)))
            _ = try await cluster.scheduler.update(task, .running)
            try await Task.sleep(for: .milliseconds(1500))
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: cluster.agentURL + "/monitor/statistics"), timeout: .seconds(10))
            #expect(response.status == .ok)
            let body = try await response.body.collect(upTo: 1 << 20)
            let entries = try MesosJSON.decode([ContainerStatisticsEntry].self, from: Data(body.readableBytesView), what: "statistics")
            let entry = try #require(entries.first)
            #expect(entries.count == 1)
            #expect(entry.executorID == task.value)
            #expect(entry.statistics.memLimitBytes == 64 << 20)
            #expect(entry.statistics.cpusLimit == 0.5)
            // A second of spinning at half a CPU: some CPU time, and a throttled period or more.
            #expect(entry.statistics.cpusUserTimeSecs + entry.statistics.cpusSystemTimeSecs > 0.1, "\(entry.statistics)")
            #expect(entry.statistics.memTotalBytes > 0)
            try await cluster.scheduler.calls.kill(task)
            _ = try await cluster.scheduler.update(task, .killed)
        }
    }

    /// GET /metrics (Prometheus) and /metrics/snapshot (Mesos' JSON): task counts by state and
    /// each running container's usage as labelled series.
    @Test func metricsCountTasksByStateAndShowRunningContainers() async throws {
        try await withCluster(supervised: true) { cluster in
            let task = try await cluster.launch("metered", command: CommandInfo(value: "exec sleep 30"), resources: "cpus:0.25;mem:48",
                                                killPolicy: KillPolicy(gracePeriod: DurationInfo(nanoseconds: 0)))
            _ = try await cluster.scheduler.update(task, .running)
            // Supervised: its record is in the default runtime directory, not under the home.
            let runtime = AgentConfiguration.defaultRuntimeDirectory(home: cluster.home) + "/containers"
            let recorded = (try? FileManager.default.contentsOfDirectory(atPath: runtime)) ?? []
            #expect(recorded.count == 1 && access(runtime + "/" + (recorded.first ?? "") + "/launch.json", F_OK) == 0, "in \(runtime): \(recorded)")
            #expect(access(cluster.home + "/agent/containers", F_OK) != 0)
            let text = try await Self.get(cluster.agentURL + "/metrics")
            let lines = text.split(separator: "\n")
            #expect(lines.contains { $0.hasPrefix("berth_slave_tasks_running ") && $0.hasSuffix(" 1.0") }, "\(text)")
            #expect(lines.contains { $0.hasPrefix("berth_slave_registered ") && $0.hasSuffix(" 1.0") }, "\(text)")
            let limit = try #require(lines.first { $0.hasPrefix("berth_container_memory_limit_bytes{") && $0.contains("task_id=\"metered\"") }, "\(text)")
            #expect(limit.hasSuffix(" \(Double(48 << 20))"), "\(limit)")
            #expect(lines.contains { $0.hasPrefix("berth_container_processes{") && $0.hasSuffix(" 1.0") }, "\(text)")

            try await cluster.scheduler.calls.kill(task)
            _ = try await cluster.scheduler.update(task, .killed)
            let snapshot = try JSONDecoder().decode([String: Double].self, from: Data(try await Self.get(cluster.agentURL + "/metrics/snapshot").utf8))
            #expect(snapshot["slave/tasks_killed"] == 1)
            #expect(snapshot["slave/tasks_running"] == 0)
            #expect(snapshot["slave/cpus_total"] == 2)
            #expect(snapshot["slave/container_launch_errors"] == 0)
        }
    }

    /// LAUNCH_GROUP: the tasks start together; one failing kills the rest, and a group where
    /// one task cannot start starts none.
    @Test func aTaskGroupStartsTogetherAndEndsWhenOneOfItsTasksFails() async throws {
        try await withCluster(supervised: true) { cluster in
            let offer = try await cluster.scheduler.nextOffer()
            func task(_ id: String, _ command: String, container: JSONValue? = nil) throws -> TaskInfo {
                TaskInfo(name: id, taskID: TaskID(id), agentID: offer.agentID, resources: try Resources.parse("cpus:0.1;mem:32"),
                         command: CommandInfo(value: command), container: container,
                         killPolicy: KillPolicy(gracePeriod: DurationInfo(nanoseconds: 0)))
            }
            let executor: JSONValue = .object(["type": .string("DEFAULT"), "executor_id": .object(["value": .string("pod-1")])])
            try await cluster.scheduler.calls.launchGroup([try task("web", "exec sleep 60"), try task("sidecar", "sleep 1; exit 3")],
                                                          executor: executor, on: [offer.id], refuseSeconds: 0)
            let failed = try await cluster.scheduler.update(TaskID("sidecar"), .failed)
            #expect(failed.message == "Command exited with status 3")
            let killed = try await cluster.scheduler.update(TaskID("web"), .killed)
            #expect(killed.message?.contains("task sidecar of its group ended TASK_FAILED") == true, "\(killed)")
            #expect(await cluster.scheduler.states(TaskID("web")).contains(.running))

            // One task cannot start (an unsupported container type): the other never runs.
            let second = try await cluster.scheduler.nextOffer()
            let unsupported: JSONValue = .object(["type": .string("APPC")])
            var good = try task("good", "exec sleep 60")
            var bad = try task("bad", "true", container: unsupported)
            good.agentID = second.agentID
            bad.agentID = second.agentID
            try await cluster.scheduler.calls.launchGroup([good, bad], on: [second.id], refuseSeconds: 0)
            let error = try await cluster.scheduler.update(TaskID("bad"), .error)
            #expect(error.reason == .taskInvalid)
            let notStarted = try await cluster.scheduler.update(TaskID("good"), .failed)
            #expect(notStarted.message == "not started: task bad of its group ended TASK_ERROR", "\(notStarted)")
            #expect(!(await cluster.scheduler.states(TaskID("good")).contains(.running)))
        }
    }

    static func get(_ url: String) async throws -> String {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        #expect(response.status == .ok, "GET \(url)")
        return String(buffer: try await response.body.collect(upTo: 4 << 20))
    }

    @Test(arguments: [false, true]) func aFailingCommandIsFailedWithItsExitStatus(supervised: Bool) async throws {
        try await withCluster(supervised: supervised) { cluster in
            let task = try await cluster.launch("fails", command: CommandInfo(value: "exit 3"))
            let failed = try await cluster.scheduler.update(task, .failed)
            #expect(failed.message == "Command exited with status 3")
            #expect(failed.reason == .commandExecutorFailed)
            #expect(await cluster.scheduler.states(task) == [.starting, .running, .failed])
        }
    }

    @Test(arguments: [false, true]) func aMissingProgramFailsTheLaunchWithAReason(supervised: Bool) async throws {
        try await withCluster(supervised: supervised) { cluster in
            let task = try await cluster.launch("missing", command: CommandInfo(value: "/bin/no-such-program", shell: false))
            let failed = try await cluster.scheduler.update(task, .failed)
            #expect(failed.reason == .containerLaunchFailed)
            #expect(failed.message?.contains("/bin/no-such-program") == true, "\(failed)")
        }
    }

    @Test(arguments: [false, true]) func aTaskOverItsMemoryFailsWithTheMemoryReason(supervised: Bool) async throws {
        try await withCluster(supervised: supervised) { cluster in
            let task = try await cluster.launch("hog", command: CommandInfo(value: "/bin/probe alloc 200"), resources: "cpus:0.5;mem:32")
            let failed = try await cluster.scheduler.update(task, .failed)
            #expect(failed.reason == .containerLimitationMemory, "\(failed)")
            #expect(failed.message?.contains("memory limit of 32 MiB") == true, "\(failed)")
        }
    }

    @Test(arguments: [false, true]) func aKillEndsKilledWithinTheGracePeriod(supervised: Bool) async throws {
        try await withCluster(supervised: supervised) { cluster in
            // `sleep` as PID 1 of its namespace ignores SIGTERM: only the SIGKILL after the grace period ends it.
            let grace = KillPolicy(gracePeriod: DurationInfo(nanoseconds: 1_000_000_000))
            let sleeper = try await cluster.launch("sleeper", command: CommandInfo(value: "exec sleep 60"), killPolicy: grace)
            _ = try await cluster.scheduler.update(sleeper, .running)
            let start = ContinuousClock.now
            try await cluster.scheduler.calls.kill(sleeper)
            let killed = try await cluster.scheduler.update(sleeper, .killed)
            let took = ContinuousClock.now - start
            #expect(took < .seconds(3), "KILLED after \(took) with a 1 s grace period")
            #expect(killed.message?.contains("SIGKILL after the grace period") == true, "\(killed)")
            #expect(await cluster.scheduler.states(sleeper) == [.starting, .running, .killing, .killed])

            // A task that handles SIGTERM ends on it, long before a 30 s grace period.
            let patient = KillPolicy(gracePeriod: DurationInfo(nanoseconds: 30_000_000_000))
            let trapper = try await cluster.launch("trapper", command: CommandInfo(value: "/bin/probe trap-term 7"), killPolicy: patient)
            _ = try await cluster.scheduler.update(trapper, .running)
            try await Task.sleep(for: .milliseconds(300))
            let termStart = ContinuousClock.now
            try await cluster.scheduler.calls.kill(trapper)
            let termKilled = try await cluster.scheduler.update(trapper, .killed)
            #expect(ContinuousClock.now - termStart < .seconds(5))
            #expect(termKilled.message?.contains("exited with status 7") == true, "\(termKilled)")
        }
    }

    @Test func teardownShutsTheFrameworksTasksDown() async throws {
        try await withCluster { cluster in
            let task = try await cluster.launch("long", command: CommandInfo(value: "sleep 60"),
                                                killPolicy: KillPolicy(gracePeriod: DurationInfo(nanoseconds: 100_000_000)))
            _ = try await cluster.scheduler.update(task, .running)
            try await cluster.scheduler.calls.teardown()
            let deadline = ContinuousClock.now + .seconds(10)
            while await !cluster.agent.liveTasks().isEmpty, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(await cluster.agent.liveTasks().isEmpty)
        }
    }

    @Test func theAgentRegistersAgainWithItsIDAndTasksWhenTheCoordinatorRestarts() async throws {
        try await withCluster { cluster in
            let task = try await cluster.launch("survivor", command: CommandInfo(value: "exec sleep 60"),
                                                killPolicy: KillPolicy(gracePeriod: DurationInfo(nanoseconds: 100_000_000)))
            _ = try await cluster.scheduler.update(task, .running)
            let id = try #require(await cluster.agent.agentID)
            try await cluster.restartCoordinator()
            let deadline = ContinuousClock.now + .seconds(10)
            var known: [String] = []
            while known != [id.value], ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
                known = await cluster.coordinator.running.server.coordinator.state().slaves.map(\.id)
            }
            #expect(known == [id.value], "the restarted coordinator should know the agent by its old ID")
            #expect(await cluster.agent.liveTasks() == [task])
            let saved = try String(contentsOfFile: cluster.home + "/agent/agent_id", encoding: .utf8)
            #expect(saved == id.value + "\n")
        }
    }

    /// `berth agent` as its own process, killed with SIGKILL while five tasks run: the containers
    /// go on under their supervisors; the restarted agent adopts them, learns the exit of the one
    /// that ended meanwhile, and kills the others on request. No update is missing or repeated.
    /// The first agent keeps its containers where agents before the runtime directory did
    /// (`HOME/agent/containers`), so the second, with the default, also adopts an upgrade's.
    @Test func containersOutliveAKilledAgentAndAreAdoptedByTheNextOne() async throws {
        let setup = try await AgentProcessSetup.start()
        defer { setup.removeHome() }
        let (scheduler, home) = (setup.scheduler, setup.home)
        let runtime = AgentConfiguration.defaultRuntimeDirectory(home: home)
        let first = try setup.spawnAgent(["--runtime-dir", home + "/agent"])
        let offer = try await scheduler.nextOffer()
        func task(_ id: TaskID, _ command: String) throws -> TaskInfo {
            TaskInfo(name: id.value, taskID: id, agentID: offer.agentID, resources: try Resources.parse("cpus:0.1;mem:32"),
                     command: CommandInfo(value: command), killPolicy: KillPolicy(gracePeriod: DurationInfo(nanoseconds: 500_000_000)))
        }
        let long: [TaskID] = ["long1", "long2", "long3", "long4"]
        try await scheduler.calls.launch(try long.map { try task($0, "exec sleep 60") } + [try task("short", "sleep 2; exit 4")],
                                         on: [offer.id], refuseSeconds: 0)
        for id in long + ["short"] { _ = try await scheduler.update(id, .running) }
        let recorded = (try? FileManager.default.contentsOfDirectory(atPath: home + "/agent/containers")) ?? []
        #expect(recorded.count == long.count + 1, "one directory per container in the given runtime directory: \(recorded)")
        // Killed only once the agent has the acknowledgements: an update acknowledged by the
        // framework but not yet known to be by the agent is sent again after the restart, by design.
        try await Self.waitUntilAcknowledged(agent: first)
        kill(first.pid, SIGKILL)
        _ = try? first.finish()
        try await Task.sleep(for: .seconds(3))
        let processes = try Fixtures.run("/bin/ps", ["-eo", "cmd"]).stdout
        #expect(processes.split(separator: "\n").filter { $0.contains("sleep 60") }.count >= long.count, "the containers outlive the agent's SIGKILL")

        let second = try setup.spawnAgent()
        let failed = try await scheduler.update("short", .failed)
        #expect(failed.message == "Command exited with status 4", "the exit while the agent was down is learned: \(failed)")
        #expect(failed.agentID == offer.agentID, "the restarted agent keeps its ID")
        for id in long { try await scheduler.calls.kill(id) }
        for id in long {
            let killed = try await scheduler.update(id, .killed)
            #expect(killed.message?.contains("SIGKILL after the grace period") == true, "\(killed)")
            let states = await scheduler.states(id)
            #expect(states == [.starting, .running, .killing, .killed], "\(id): \(states)")
        }
        let short = await scheduler.states("short")
        #expect(short == [.starting, .running, .failed], "\(short)")
        kill(second.pid, SIGTERM)
        let stopped = try second.finish()
        #expect(stopped.status == 0, "\(stopped)")
        try await setup.stopAndCheckLeftovers()
        #expect((try? FileManager.default.contentsOfDirectory(atPath: home + "/agent/containers")) ?? [] == [])
        #expect(access(runtime, F_OK) != 0, "a graceful stop with no container left removes the runtime directory \(runtime)")
    }

    /// A `--listen` port another process listens on (the coordinator's): the agent ends at once,
    /// saying so and what to do.
    @Test func aListenPortInUseIsRefusedWithWhatToDo() async throws {
        let setup = try await AgentProcessSetup.start()
        defer { setup.removeHome() }
        let port = setup.coordinator.port
        let agent = try setup.spawnAgent(["--listen", "127.0.0.1:\(port)"])
        let refused = try agent.finish(killingAfter: 20)
        #expect(refused.status != 0, "\(refused)")
        #expect(refused.stderr.contains("listen on 127.0.0.1:\(port): EADDRINUSE"), "\(refused)")
        #expect(refused.stderr.contains("give --listen another port"), "\(refused)")
        try await setup.stopAndCheckLeftovers()
    }

    /// A previous run's checkpoint: a task that was running, its RUNNING not yet acknowledged,
    /// its container gone without a supervisor's record. The update goes out again (same uuid),
    /// then TASK_FAILED with REASON_AGENT_RESTARTED.
    @Test func aLostContainerIsReportedAfterTheUpdatesTheAgentStillOwed() async throws {
        let running = TaskStatus(taskID: "lost", state: .running, message: "before the restart", source: .executor, uuid: "AAAAAAAAAAAAAAAAAAAAAA==")
        let cluster = try await Cluster.start { home, framework in
            let task = TaskInfo(name: "lost", taskID: "lost", agentID: "none", resources: try Resources.parse("cpus:0.1;mem:32"),
                                command: CommandInfo(value: "true"))
            try AgentStore(root: home + "/agent").save(TaskCheckpoint(frameworkID: framework, task: task, containerID: String(repeating: "0", count: 32),
                                                                      latest: running, pending: [running]), sequence: 1)
        }
        do {
            let failed = try await cluster.scheduler.update("lost", .failed)
            #expect(failed.reason == .agentRestarted, "\(failed)")
            let resent = try await cluster.scheduler.update("lost", .running)
            #expect(resent.uuid == running.uuid)
            #expect(await cluster.scheduler.states("lost") == [.running, .failed])
        } catch {
            try await cluster.stop()
            throw error
        }
        try await cluster.stop()
    }

    /// Polls the agent's GET /state (its port from the line `berth agent` prints) until no task
    /// has an unacknowledged update.
    static func waitUntilAcknowledged(agent: SpawnedCommand) async throws {
        agent.waitForOutput("\n")
        guard let line = agent.outputSoFar.split(separator: "\n").first(where: { $0.contains("listening on ") }),
              let url = line.split(separator: " ").last else {
            throw FixtureError("berth agent did not print where it listens: \(agent.outputSoFar)")
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url + "/state"), timeout: .seconds(10))
            let state = try JSONDecoder().decode(AgentStateDocument.self, from: Data(buffer: try await response.body.collect(upTo: 1 << 20)))
            if !state.tasks.isEmpty, state.tasks.allSatisfy({ $0.unacknowledgedUpdates == 0 }) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw FixtureError("the agent still has unacknowledged updates after 10 s")
    }

    /// The image's overlay is mounted in the container's mount namespace only: the host's mount
    /// table does not grow by one per running container (each new namespace would copy it).
    @Test(.requiresRegistry, arguments: [false, true]) func anImageTaskRunsFromTheLocalImageStore(supervised: Bool) async throws {
        try await withCluster(supervised: supervised) { cluster in
            let imported = try Fixtures.berth(["image", "import", "--home", cluster.home, "--name", "local/fixture", try ImageFixtures.layout()])
            #expect(imported.status == 0, "\(imported)")
            let container: JSONValue = .object(["type": .string("MESOS"), "mesos": .object(["image": .object([
                "type": .string("DOCKER"), "docker": .object(["name": .string("local/fixture:multi")])])])])
            let task = try await cluster.launch("from-image", command: CommandInfo(value: "cat /hello.txt; echo changed > /hello.txt; cat /hello.txt; sleep 1"),
                                                container: container)
            _ = try await cluster.scheduler.update(task, .running)
            let hostMounts = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
            #expect(!hostMounts.contains(cluster.home), "no mount of the agent's home on the host:\n\(hostMounts)")
            // The rootfs directory's lock is held while the container runs, so garbage collection
            // leaves it alone; supervised, by the supervisor alone: the agent keeps no descriptor
            // per running container (each process it spawns would copy and close them all).
            let containers = try FileManager.default.contentsOfDirectory(atPath: cluster.home + "/containers")
            let lockPath = cluster.home + "/containers/" + (try #require(containers.first)) + "/lock"
            #expect(try FileLock.tryLock(path: lockPath) == nil, "the running container's rootfs lock is held")
            let agentHoldsLock = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").contains { fd in
                (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + fd)) == lockPath
            }
            #expect(agentHoldsLock == !supervised, "the agent's own descriptors on \(lockPath)")
            let finished = try await cluster.scheduler.update(task, .finished)
            #expect(finished.message == "Command exited with status 0")
            let stdout = try String(contentsOfFile: cluster.sandbox(task) + "/stdout", encoding: .utf8)
            #expect(stdout == "hello from layer 2\nchanged\n")
        }
    }

    /// The rootfs is made in the same step as the start: a start that fails removes it before
    /// the task's TASK_FAILED is sent.
    @Test(.requiresRegistry) func anImageTaskThatCannotStartLeavesNoRootfs() async throws {
        try await withCluster(supervised: true) { cluster in
            let imported = try Fixtures.berth(["image", "import", "--home", cluster.home, "--name", "local/fixture", try ImageFixtures.layout()])
            #expect(imported.status == 0, "\(imported)")
            let container: JSONValue = .object(["type": .string("MESOS"), "mesos": .object(["image": .object([
                "type": .string("DOCKER"), "docker": .object(["name": .string("local/fixture:multi")])])])])
            let task = try await cluster.launch("cannot-start", command: CommandInfo(value: "/bin/no-such-program", shell: false),
                                                container: container)
            let failed = try await cluster.scheduler.update(task, .failed)
            #expect(failed.reason == .containerLaunchFailed)
            #expect(failed.message?.contains("/bin/no-such-program") == true, "\(failed)")
            let rootfses = (try? FileManager.default.contentsOfDirectory(atPath: cluster.home + "/containers")) ?? []
            #expect(rootfses.isEmpty, "container rootfs directories left: \(rootfses)")
        }
    }

    @Test(.requiresRegistry) func aMissingImageIsPulledAndAnUnknownOneFailsTheTaskWithWhy() async throws {
        let registry = try TestRegistry()
        defer { registry.stop() }
        _ = try ImageFixtures.push("multi", to: registry, as: "fixture/multi")
        func image(_ name: String) -> JSONValue {
            .object(["type": .string("MESOS"), "mesos": .object(["image": .object([
                "type": .string("DOCKER"), "docker": .object(["name": .string(name)])])])])
        }
        try await withCluster { cluster in
            let pulled = try await cluster.launch("pulled", command: CommandInfo(value: "cat /hello.txt"), container: image("\(registry.host)/fixture/multi"))
            let finished = try await cluster.scheduler.update(pulled, .finished, timeout: .seconds(60))
            #expect(finished.message == "Command exited with status 0")
            // The pull's progress came as a further TASK_STARTING.
            let progress = try await cluster.scheduler.update(pulled, .starting, occurrence: 2)
            #expect(progress.message?.hasPrefix("pulling image \(registry.host)/fixture/multi: ") == true, "\(progress)")
            #expect(try String(contentsOfFile: cluster.sandbox(pulled) + "/stdout", encoding: .utf8) == "hello from layer 2\n")

            let unknown = try await cluster.launch("unknown", command: CommandInfo(value: "true"), container: image("\(registry.host)/fixture/none"))
            let failed = try await cluster.scheduler.update(unknown, .failed, timeout: .seconds(60))
            #expect(failed.reason == .containerLaunchFailed)
            #expect(failed.message?.hasPrefix("cannot get image \(registry.host)/fixture/none") == true, "\(failed)")
        }
    }
}
