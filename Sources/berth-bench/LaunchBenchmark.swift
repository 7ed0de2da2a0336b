import ArgumentParser
import AsyncHTTPClient
import BerthAgent
import BerthCoordinator
import BerthCore
import BerthImage
import BerthProtocol
import Foundation
import Logging

/// `berth-bench launch`: many short tasks through the coordinator onto one real agent.
struct LaunchBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "launch",
        abstract: "Launch N short tasks through a coordinator onto one agent; print launch rate, completion and cleanup times, and memory.",
        discussion: """
            Starts a coordinator in this process and a real `berth agent` (the berth beside this \
            executable, with berth-supervise beside it) as a child, on a temporary home holding \
            the example image of rootfs/image.sh. A framework in this process launches --tasks \
            tasks running /bin/true in that image (--cpus and --mem each), as many per offer as \
            fit, and acknowledges every update. Printed: launches per second (first ACCEPT to the \
            last TASK_RUNNING), the time until all are FINISHED, the time until the agent has \
            forgotten them all and no container directory or cgroup of theirs is left, and the \
            agent's CPU. Then --resident tasks running sleep: the host memory each adds beyond \
            its own processes (MemTotal - MemAvailable before and after, less the sleeps' own \
            PSS), the supervisors' PSS, the kernel's share and the agent's growth on their own and summed, and the time to \
            kill them all. The agent's idle RSS is read after it registered. Mesos 1.7 published \
            about 30 s to launch and 22 s to destroy 1,000 containers on one agent; the goal is \
            all 1,000 launched, finished and cleaned in under 5 s, idle RSS under 25 MiB and under \
            1 MiB per container. Needs root; build with -c release.
            """)

    static let goalMilliseconds = 5000.0
    static let mesosLaunchMilliseconds = 30_000.0
    static let mesosDestroyMilliseconds = 22_000.0
    static let goalAgentRSSKiB = 25 * 1024
    static let goalContainerKiB = 1024

    @Option(help: ArgumentHelp("Short tasks to launch.", valueName: "n"))
    var tasks = 1000

    @Option(help: ArgumentHelp("Long-running tasks for the memory figures (0: skip).", valueName: "n"))
    var resident = 50

    @Option(help: ArgumentHelp("CPUs per task.", valueName: "cpus"))
    var cpus = 0.01

    @Option(help: ArgumentHelp("Memory per task in MB.", valueName: "mb"))
    var mem = 16.0

    @Option(help: ArgumentHelp("The berth binary (default: berth beside this executable).", valueName: "path"))
    var berth: String?

    @Option(help: ArgumentHelp("The Berth package, for rootfs/image.sh (default: found above this executable).", valueName: "dir"))
    var packageRoot: String?

    // unconditionalSingleValue, so that values that look like options are taken.
    @Option(name: .customLong("agent-arg"), parsing: .unconditionalSingleValue,
            help: ArgumentHelp("An extra argument for berth agent (repeatable), e.g. --agent-arg=--log-level --agent-arg=info.", valueName: "arg"))
    var agentArgs: [String] = []

    @Option(help: ArgumentHelp("Seconds to wait for each phase before giving up.", valueName: "seconds"))
    var timeout = 600.0

    @Option(help: ArgumentHelp("Where the agent's temporary home (sandboxes, checkpoints, rootfs) goes: its file system is part of what is measured.", valueName: "dir"))
    var workDir = "/var/tmp"

    /// The type of the mount holding `path` (the longest mount point above it in /proc/mounts).
    static func fileSystemType(of path: String) -> String {
        guard let mounts = try? String(contentsOfFile: "/proc/mounts", encoding: .utf8) else { return "unknown" }
        var best = (point: "", type: "unknown")
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 3 else { continue }
            let point = String(fields[1])
            let inside = path == point || path.hasPrefix(point == "/" ? "/" : point + "/")
            if inside, point.count >= best.point.count { best = (point, String(fields[2])) }
        }
        return best.type
    }

    func validate() throws {
        guard tasks >= 1 else { throw ValidationError("--tasks must be at least 1") }
        guard resident >= 0 else { throw ValidationError("--resident must not be negative") }
        guard cpus >= 0.01, mem >= 6 else { throw ValidationError("--cpus must be at least 0.01 and --mem at least 6 (the runtime's minimums)") }
    }

    func run() async throws {
        guard geteuid() == 0 else { throw BerthError(.invalidState, "berth-bench launch runs a real agent, which needs root") }
        let berthPath = try Tool.locateBerth(berth, needsFull: true)
        let supervise = (berthPath as NSString).deletingLastPathComponent + "/berth-supervise"
        guard access(supervise, X_OK) == 0 else {
            throw BerthError(.notFound, "no berth-supervise beside \(berthPath): build it with `swift build -c release --product berth-supervise` (the agent would run containers unsupervised, which is not what users get)")
        }
        let layout = try Tool.packageScriptPath("rootfs/image.sh", packageRoot: packageRoot, what: "example image layout")
        try raiseOpenFileLimit(needed: 4 * (tasks + resident) + 1024)

        let home = "\(workDir)/berth-bench-launch-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: home) }
        var logger = Logger(label: "berth-bench")
        logger.logLevel = .error
        let images = try LocalImages(home: BerthHome(root: home), logger: logger)
        _ = try ImageImporter(images: images, logger: logger).importImages(from: layout, name: "example")

        var configuration = CoordinatorConfiguration()
        configuration.port = 0
        configuration.home = home + "/coordinator"
        let coordinator = try await CoordinatorServer(configuration: configuration, logger: logger).start()
        let room = Double(max(tasks, resident))
        let agent = try AgentProcess(
            berth: berthPath,
            arguments: ["--coordinator", coordinator.url, "--home", home, "--hostname", "bench-agent", "--default-image", "example",
                        "--log-level", "warning",
                        "--resources", String(format: "cpus:%.2f;mem:%.0f;disk:1024;ports:[31000-32000]", room * cpus + 1, room * mem + 1024)]
                + agentArgs,
            stderrPath: home + "/agent.log")
        var report = Report()
        do {
            try await measure(coordinator: coordinator, agent: agent, home: home, report: &report)
        } catch {
            await agent.stop()
            try? await coordinator.stop()
            throw error
        }
        await agent.stop()
        try await coordinator.stop()
        report.print()
    }

    private func measure(coordinator: CoordinatorServer.Running, agent: AgentProcess, home: String, report: inout Report) async throws {
        try await waitFor("the agent to register", log: agent.stderrPath) {
            await coordinator.server.coordinator.state().activatedSlaves == 1
        }
        // Let the start-up allocations settle before reading the idle figure.
        try await Task.sleep(for: .seconds(2))
        let idleRSS = HostMemory.status(agent.pid, "VmRSS") ?? 0
        let idleAnon = HostMemory.status(agent.pid, "RssAnon") ?? 0
        report.add("benchmark", "launch")
        report.add("kernel", Tool.kernelRelease())
        report.add("cpus", ProcessInfo.processInfo.activeProcessorCount)
        report.add("loadavg_1m_before", Tool.loadAverage())
        report.add("work_dir", workDir)
        report.add("work_dir_fs", Self.fileSystemType(of: workDir))
        report.add("runtime_dir_fs", Self.fileSystemType(of: runtimeDirectory(home: home)))
        report.add("agent_idle_rss_kib", idleRSS)
        // RSS less the binary's clean file pages: what the agent itself allocated.
        report.add("agent_idle_rss_anon_kib", idleAnon)
        report.add("goal_agent_idle_rss_kib", Self.goalAgentRSSKiB)

        let framework = try await LaunchFramework.subscribe(coordinator: coordinator.url)
        let resources = try Resources.parse(String(format: "cpus:%.2f;mem:%.0f", cpus, mem))
        let short = (0..<tasks).map { index in
            Self.task("true-\(index)", resources: resources, argv: ["/bin/true"])
        }
        let cpuBefore = HostMemory.cpuMilliseconds(agent.pid)
        let benchmarkCPUBefore = processCPUMilliseconds()
        let endedBefore = await framework.progress.ended
        try await framework.enqueue(short)
        let ids = short.map(\.taskID)
        try await waitFor("\(tasks) tasks to end", log: agent.stderrPath) { await framework.progress.ended - endedBefore == ids.count }
        let finishedAt = ContinuousClock.now
        try await waitFor("the agent to clean up after \(tasks) tasks", log: agent.stderrPath) {
            try await Self.cleanedUp(agent: agent, home: home, runtimeDirectory: runtimeDirectory(home: home))
        }
        let cleanedAt = ContinuousClock.now
        let cpuAfter = HostMemory.cpuMilliseconds(agent.pid)
        let benchmarkCPU = processCPUMilliseconds() - benchmarkCPUBefore

        let ended = await framework.ended
        let failures = ids.compactMap { id in ended[id].flatMap { $0.state == .finished ? nil : "\(id): \($0.state.rawValue) \($0.message ?? "")" } }
        guard failures.isEmpty else {
            throw BerthError(.invalidState, "\(failures.count) of \(tasks) tasks did not finish; the first: \(failures[0])")
        }
        guard let start = await framework.firstAccept else { throw BerthError(.invalidState, "no task was ever launched") }
        let running = await framework.running
        let lastRunning = ids.compactMap { running[$0] }.max() ?? finishedAt
        let lastEnded = ids.compactMap { ended[$0]?.at }.max() ?? finishedAt
        func milliseconds(_ duration: Duration) -> Double { duration / .milliseconds(1) }
        let launchMilliseconds = milliseconds(lastRunning - start)
        report.add("tasks", tasks)
        report.add("task_cpus", String(format: "%.2f", cpus))
        report.add("task_mem_mb", String(format: "%.0f", mem))
        report.add("launch_ms", milliseconds: launchMilliseconds)
        report.add("launches_per_s", String(format: "%.1f", Double(tasks) / max(launchMilliseconds / 1000, 0.001)))
        report.add("finished_ms", milliseconds: milliseconds(lastEnded - start))
        report.add("cleanup_ms", milliseconds: milliseconds(cleanedAt - lastEnded))
        report.add("total_ms", milliseconds: milliseconds(cleanedAt - start))
        report.add("goal_total_ms", milliseconds: Self.goalMilliseconds)
        report.add("mesos_launch_ms", milliseconds: Self.mesosLaunchMilliseconds)
        report.add("mesos_destroy_ms", milliseconds: Self.mesosDestroyMilliseconds)
        if let cpuBefore, let cpuAfter {
            report.add("agent_cpu_ms", milliseconds: cpuAfter.own - cpuBefore.own)
            report.add("supervisors_cpu_ms", milliseconds: cpuAfter.children - cpuBefore.children)
            // Per task, against the goal's budget: two cores for 5 s are 10 ms of CPU per task in all.
            report.add("agent_cpu_per_task_ms", String(format: "%.2f", (cpuAfter.own - cpuBefore.own) / Double(tasks)))
            report.add("supervisors_cpu_per_task_ms", String(format: "%.2f", (cpuAfter.children - cpuBefore.children) / Double(tasks)))
        }
        // The coordinator and the framework, which share the two cores with the agent.
        report.add("benchmark_cpu_ms", milliseconds: benchmarkCPU)
        report.add("benchmark_cpu_per_task_ms", String(format: "%.2f", benchmarkCPU / Double(tasks)))
        report.add("loadavg_1m_after", Tool.loadAverage())

        if resident > 0 {
            try await measureResident(framework: framework, agent: agent, home: home, resources: resources, report: &report)
        }
        await framework.stop()
    }

    /// Long-running tasks: what each adds to the host's memory, and how long killing them takes.
    private func measureResident(framework: LaunchFramework, agent: AgentProcess, home: String, resources: Resources,
                                 report: inout Report) async throws {
        try await Task.sleep(for: .seconds(2))
        let before = HostMemory.Snapshot.now()
        let agentBefore = HostMemory.status(agent.pid, "VmRSS") ?? 0
        var sleepers = (0..<resident).map { Self.task("sleep-\($0)", resources: resources, argv: ["/bin/sleep", "3600"]) }
        for index in sleepers.indices { sleepers[index].killPolicy = KillPolicy(gracePeriod: DurationInfo(nanoseconds: 0)) }
        let ids = sleepers.map(\.taskID)
        let baseline = await framework.progress
        try await framework.enqueue(sleepers)
        try await waitFor("\(resident) long-running tasks to run", log: agent.stderrPath) {
            await framework.progress.underway - baseline.underway == ids.count
        }
        let endedEarly = await framework.progress.ended - baseline.ended
        guard endedEarly == 0 else { throw BerthError(.invalidState, "\(endedEarly) of the \(resident) sleeping tasks ended early") }
        try await Task.sleep(for: .seconds(2))
        let after = HostMemory.Snapshot.now()
        let agentAfter = HostMemory.status(agent.pid, "VmRSS") ?? 0

        // The containers' own processes are those in a berth- cgroup; their supervisors are not.
        let processes = HostMemory.processes()
        let own = processes.filter { $0.cgroup.contains("/berth-") }.compactMap { HostMemory.pss($0.pid) }.reduce(0, +)
        let supervisors = processes.filter { $0.comm == "berth-supervise" }.compactMap { HostMemory.pss($0.pid) }
        let perContainer = Double(after.used - before.used - own) / Double(resident)
        let kernel = Double(after.kernel - before.kernel) / Double(resident)
        let supervisor = Double(supervisors.reduce(0, +)) / Double(max(supervisors.count, 1))
        let agentGrowth = Double(agentAfter - agentBefore) / Double(resident)
        report.add("resident", resident)
        report.add("host_used_delta_kib", after.used - before.used)
        report.add("containers_own_pss_kib", own)
        report.add("per_container_host_kib", String(format: "%.0f", perContainer))
        report.add("goal_per_container_kib", Self.goalContainerKiB)
        report.add("per_container_kernel_kib", String(format: "%.0f", kernel))
        report.add("per_container_supervisor_pss_kib", String(format: "%.0f", supervisor))
        report.add("per_container_agent_rss_kib", String(format: "%.0f", agentGrowth))
        // The parts that can be attributed: independent of what else runs on the host, unlike
        // MemAvailable, which moves with every other process.
        report.add("per_container_accounted_kib", String(format: "%.0f", kernel + supervisor + agentGrowth))
        report.add("supervisors", supervisors.count)

        let killStart = ContinuousClock.now
        try await framework.kill(ids)
        try await waitFor("\(resident) killed tasks to end", log: agent.stderrPath) { await framework.progress.ended - baseline.ended == ids.count }
        let killed = ContinuousClock.now
        try await waitFor("the agent to clean up after the killed tasks", log: agent.stderrPath) {
            try await Self.cleanedUp(agent: agent, home: home, runtimeDirectory: runtimeDirectory(home: home))
        }
        report.add("resident_kill_ms", milliseconds: (killed - killStart) / .milliseconds(1))
        report.add("resident_cleanup_ms", milliseconds: (ContinuousClock.now - killStart) / .milliseconds(1))
    }

    static func task(_ id: String, resources: Resources, argv: [String]) -> TaskInfo {
        TaskInfo(name: id, taskID: TaskID(id), agentID: AgentID("unset"), resources: resources,
                 command: CommandInfo(value: argv[0], shell: false, arguments: argv),
                 container: .object(["type": .string("MESOS"), "mesos": .object(["image": .object([
                     "type": .string("DOCKER"), "docker": .object(["name": .string("example")])])])]))
    }

    /// The agent's runtime directory: its default for the home unless `--agent-arg` gives one.
    private func runtimeDirectory(home: String) -> String {
        for (index, argument) in agentArgs.enumerated() {
            if argument == "--runtime-dir", index + 1 < agentArgs.count { return agentArgs[index + 1] }
            if argument.hasPrefix("--runtime-dir=") { return String(argument.dropFirst("--runtime-dir=".count)) }
        }
        return AgentConfiguration.defaultRuntimeDirectory(home: home)
    }

    /// The agent forgot every task (all updates acknowledged), and no supervised container's
    /// directory, rootfs or cgroup is left.
    static func cleanedUp(agent: AgentProcess, home: String, runtimeDirectory: String) async throws -> Bool {
        let response = try await HTTPClient.shared.get(url: agent.url + "/state").get()
        guard response.status == .ok, let body = response.body,
              let state = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any],
              let tasks = state["tasks"] as? [Any] else {
            throw BerthError(.invalidState, "the agent's /state answered HTTP \(response.status.code) without a task list")
        }
        guard tasks.isEmpty else { return false }
        let files = FileManager.default
        for directory in [runtimeDirectory + "/containers", home + "/containers"] where !((try? files.contentsOfDirectory(atPath: directory)) ?? []).isEmpty {
            return false
        }
        guard let cgroup = agent.cgroupDirectory() else { return true }
        return !((try? files.contentsOfDirectory(atPath: cgroup)) ?? []).contains { $0.hasPrefix("berth-") }
    }

    private func waitFor(_ what: String, log: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(timeout)
        while try await !condition() {
            guard ContinuousClock.now < deadline else {
                let tail = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").suffix(3000)
                throw BerthError(.invalidState, "gave up waiting for \(what) after \(Int(timeout)) s; the agent's log ends:\n\(tail)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
