import ArgumentParser
import BerthCoordinator
import BerthCore
import BerthFramework
import BerthProtocol
import Foundation
import Logging
import NIOCore

/// `berth-bench failover`: how long N agents take to re-register after a coordinator restart.
struct FailoverBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failover",
        abstract: "Time N agents re-registering with a restarted coordinator, beside Mesos' published figure.",
        discussion: """
            Starts a coordinator on loopback with a state database in a temporary home, subscribes \
            one framework and registers N agents over HTTP (the agent protocol of \
            docs/protocol.md), each reporting --tasks-per-agent running tasks of that framework. \
            Stops the coordinator, starts a new one on the same home (recover_ms: reading the \
            database back) and has every agent REGISTER again at once with its tasks; \
            reregister_ms runs from the first request until the last agent has its REGISTERED \
            event. Each agent keeps its own connection and event stream, as real agents do. \
            stop_ms is the first coordinator's graceful stop with every agent connected. \
            Mesos 1.5 published about 4.5 s for 10,000 agents; the goal is under 1 s. Build with -c release.
            """)

    static let mesosMilliseconds = 4500.0
    static let goalMilliseconds = 1000.0

    @Option(help: ArgumentHelp("Simulated agents.", valueName: "n"))
    var agents = 10_000

    @Option(help: ArgumentHelp("Running tasks each agent reports.", valueName: "n"))
    var tasksPerAgent = 1

    func validate() throws {
        guard agents >= 1 else { throw ValidationError("--agents must be at least 1") }
        guard tasksPerAgent >= 0 else { throw ValidationError("--tasks-per-agent must not be negative") }
    }

    func run() async throws {
        try raiseOpenFileLimit(needed: agents + 1024)
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("berth-bench-failover-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: home) }
        var configuration = CoordinatorConfiguration()
        configuration.port = 0
        configuration.home = home
        // Nothing in the run may time out: liveness is not what is measured.
        configuration.agentPingTimeout = .seconds(600)
        var logger = Logger(label: "bench-coordinator")
        logger.logLevel = .error

        let first = try await CoordinatorServer(configuration: configuration, logger: logger).start()
        let framework = try await SchedulerClient(coordinator: first.url)
            .subscribe(FrameworkInfo(user: "root", name: "bench", failoverTimeout: 3600, roles: ["*"]))
        let frameworkID = try await firstFrameworkID(framework)
        // The agents live in a child process: two sockets per agent in one process would need
        // more open files than an unprivileged limit allows, and real agents are elsewhere anyway.
        let child = try AgentsProcess(arguments: ["failover-agents", "--coordinator", first.url, "--agents", "\(agents)",
                                                  "--tasks-per-agent", "\(tasksPerAgent)", "--framework", frameworkID.value])
        defer { child.terminate() }
        let registerMilliseconds = try await child.figure("registered_ms")
        let stopStart = ContinuousClock.now
        try await first.stop()
        let stopSeconds = (ContinuousClock.now - stopStart) / .seconds(1)

        let recoverStart = ContinuousClock.now
        configuration.port = first.port
        let second = try await CoordinatorServer(configuration: configuration, logger: logger).start()
        let recoverSeconds = (ContinuousClock.now - recoverStart) / .seconds(1)
        let cpuBefore = processCPUMilliseconds()
        child.send("reregister")
        let reregisterMilliseconds = try await child.figure("reregistered_ms")
        let coordinatorCPU = processCPUMilliseconds() - cpuBefore
        let agentsCPU = try await child.figure("agents_cpu_ms")
        let state = await second.server.coordinator.state()
        child.send("exit")
        try await second.stop()
        guard state.activatedSlaves == agents else {
            throw BerthError(.invalidState, "only \(state.activatedSlaves) of \(agents) agents are active after re-registering")
        }
        print(String(format: "agents=%d tasks=%d register_ms=%.0f stop_ms=%.0f recover_ms=%.0f reregister_ms=%.0f coordinator_cpu_ms=%.0f agents_cpu_ms=%.0f mesos_ms=%.0f goal_ms=%.0f ratio_to_mesos=%.3f",
                     agents, agents * tasksPerAgent, registerMilliseconds, stopSeconds * 1000, recoverSeconds * 1000, reregisterMilliseconds,
                     coordinatorCPU, agentsCPU, Self.mesosMilliseconds, Self.goalMilliseconds, reregisterMilliseconds / Self.mesosMilliseconds))
    }

    func firstFrameworkID(_ stream: SchedulerStream) async throws -> FrameworkID {
        for try await event in stream.events where event.type == .subscribed {
            if let id = event.subscribed?.frameworkID { return id }
        }
        throw BerthError(.invalidState, "the SUBSCRIBE stream ended before SUBSCRIBED")
    }
}

/// `berth-bench failover-agents` (internal): the simulated agents of `failover`, in a process of
/// their own. Registers every agent, prints `registered_ms=X`, waits for `reregister` on stdin,
/// registers them again with the IDs they were given, prints `reregistered_ms=X`, and keeps its
/// streams open until `exit` or end of input.
struct FailoverAgents: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "failover-agents", shouldDisplay: false)

    @Option var coordinator: String
    @Option var agents: Int
    @Option var tasksPerAgent: Int
    @Option var framework: String

    func run() async throws {
        try raiseOpenFileLimit(needed: agents + 1024)
        guard let url = URL(string: coordinator), let host = url.host, let port = url.port else {
            throw ValidationError("--coordinator must be http://IP:PORT, not \(coordinator)")
        }
        let simulated = try SimulatedAgents(host: host, port: port)
        var failure: (any Error)?
        do {
            let registrations = try (0..<agents).map { try registration(agent: $0, framework: FrameworkID(framework)) }
            let first = try await simulated.registerAll(requests(registrations, with: nil, for: simulated))
            FileHandle.standardOutput.write(Data(String(format: "registered_ms=%.1f\n", first.seconds * 1000).utf8))
            guard await Self.readLine() == "reregister" else { throw BerthError(.invalidState, "expected reregister on stdin") }
            // The first coordinator is gone: its streams are closed, as a real agent sees them.
            simulated.close(first.sockets)
            let again = try requests(registrations, with: first.ids, for: simulated)
            let cpuBefore = processCPUMilliseconds()
            let second = try await simulated.registerAll(again)
            let cpu = processCPUMilliseconds() - cpuBefore
            FileHandle.standardOutput.write(Data(String(format: "reregistered_ms=%.1f\nagents_cpu_ms=%.1f\n", second.seconds * 1000, cpu).utf8))
            _ = await Self.readLine()
            simulated.close(second.sockets)
        } catch {
            failure = error
        }
        if let failure { throw failure }
    }

    /// One line of stdin, read off the cooperative pool.
    static func readLine() async -> String? {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: Swift.readLine()) }
        }
    }

    func registration(agent index: Int, framework: FrameworkID) throws -> AgentCall.Register {
        let resources = try Resources.parse("cpus:8;mem:16384;ports:[31000-32000]")
        let tasks = try (0..<tasksPerAgent).map { number in
            let id = TaskID("a\(index)-t\(number)")
            let task = TaskInfo(name: "bench", taskID: id, agentID: AgentID("unset"), resources: try Resources.parse("cpus:0.1;mem:32"),
                                command: CommandInfo(value: "sleep 3600"))
            return AgentCall.RunningTask(frameworkID: framework, task: task, status: TaskStatus(taskID: id, state: .running, source: .executor))
        }
        return AgentCall.Register(hostname: "agent\(index)", resources: resources,
                                  attributes: [Attribute(name: "rack", value: "r\(index % 40)")], tasks: tasks)
    }

    /// Every agent's whole REGISTER request, encoded before the clock starts: with `ids`, the
    /// re-registration of an agent that was given that ID, reporting its tasks on it.
    func requests(_ registrations: [AgentCall.Register], with ids: [AgentID]?, for simulated: SimulatedAgents) throws -> [[UInt8]] {
        try registrations.enumerated().map { index, register in
            var register = register
            let id = ids?[index]
            if let id {
                register.tasks = register.tasks?.map { running in
                    var adopted = running
                    adopted.task.agentID = id
                    return adopted
                }
            }
            var call = AgentCall(type: .register, register: register)
            call.agentID = id
            return simulated.request(body: Array(try MesosJSON.encode(call)))
        }
    }
}

/// The agents' process, driven through its stdin and stdout.
final class AgentsProcess: @unchecked Sendable {
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()

    init(arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        process.arguments = arguments
        process.standardInput = input
        process.standardOutput = output
        try process.run()
    }

    func send(_ line: String) {
        input.fileHandleForWriting.write(Data((line + "\n").utf8))
    }

    /// Waits for the child's `name=value` line and returns the value.
    func figure(_ name: String) async throws -> Double {
        let handle = output.fileHandleForReading
        let line = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var bytes: [UInt8] = []
                while true {
                    let byte = handle.readData(ofLength: 1)
                    guard let first = byte.first, first != UInt8(ascii: "\n") else { break }
                    bytes.append(first)
                }
                continuation.resume(returning: String(decoding: bytes, as: UTF8.self))
            }
        }
        guard line.hasPrefix(name + "="), let value = Double(line.dropFirst(name.count + 1)) else {
            throw BerthError(.invalidState, "the agents' process did not report \(name) (got \"\(line)\"); its error is above")
        }
        return value
    }

    func terminate() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}

/// User + system CPU time of this process so far: on two shared cores, how the re-registration
/// time splits between the coordinator and the simulated agents.
func processCPUMilliseconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func milliseconds(_ time: timeval) -> Double { Double(time.tv_sec) * 1000 + Double(time.tv_usec) / 1000 }
    return milliseconds(usage.ru_utime) + milliseconds(usage.ru_stime)
}

/// Raises the soft open-file limit as far as the hard limit allows; says so when that is too few.
func raiseOpenFileLimit(needed: Int) throws {
    var limit = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    limit.rlim_cur = limit.rlim_max
    _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    guard limit.rlim_cur >= rlim_t(needed) else {
        throw BerthError(.system, "the open-file limit is \(limit.rlim_cur), fewer than the \(needed) this many agents need; raise it (ulimit -Hn) or use fewer --agents")
    }
}
