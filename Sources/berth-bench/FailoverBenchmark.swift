import ArgumentParser
import AsyncHTTPClient
import BerthCoordinator
import BerthCore
import BerthFramework
import BerthProtocol
import Foundation
import Logging
import NIOCore
import ServiceLifecycle

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
        // Two sockets per agent (client and server end) in this one process.
        try raiseOpenFileLimit(to: rlim_t(agents) * 2 + 1024)
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("berth-bench-failover-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: home) }
        var configuration = CoordinatorConfiguration()
        configuration.port = 0
        configuration.home = home
        // Nothing in the run may time out: liveness is not what is measured.
        configuration.agentPingTimeout = .seconds(600)
        var logger = Logger(label: "bench-coordinator")
        logger.logLevel = .error

        var pool = HTTPClient.Configuration.ConnectionPool(idleTimeout: .seconds(60))
        pool.concurrentHTTP1ConnectionsPerHostSoftLimit = agents + 16
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(connectionPool: pool))
        do {
            try await measure(configuration, logger: logger, http: http)
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    func measure(_ configuration: CoordinatorConfiguration, logger: Logger, http: HTTPClient) async throws {
        let first = try await RunningCoordinator.start(configuration, logger: logger)
        let framework = try await SchedulerClient(coordinator: first.url, httpClient: http)
            .subscribe(FrameworkInfo(user: "root", name: "bench", failoverTimeout: 3600, roles: ["*"]))
        let frameworkID = try await firstFrameworkID(framework)
        let registrations = try (0..<agents).map { try registration(agent: $0, framework: frameworkID) }
        let (registerSeconds, ids) = try await registerAll(registrations, with: nil, at: first.url, http: http)
        try await first.stop()

        let recoverStart = ContinuousClock.now
        let second = try await RunningCoordinator.start(configuration, logger: logger)
        let recoverSeconds = (ContinuousClock.now - recoverStart) / .seconds(1)
        let (reregisterSeconds, _) = try await registerAll(registrations, with: ids, at: second.url, http: http)
        let state = await second.server.coordinator.state()
        try await second.stop()
        guard state.activatedSlaves == agents else {
            throw BerthError(.invalidState, "only \(state.activatedSlaves) of \(agents) agents are active after re-registering")
        }
        let reregisterMilliseconds = reregisterSeconds * 1000
        print(String(format: "agents=%d tasks=%d register_ms=%.0f recover_ms=%.0f reregister_ms=%.0f mesos_ms=%.0f goal_ms=%.0f ratio_to_mesos=%.3f",
                     agents, agents * tasksPerAgent, registerSeconds * 1000, recoverSeconds * 1000, reregisterMilliseconds,
                     Self.mesosMilliseconds, Self.goalMilliseconds, reregisterMilliseconds / Self.mesosMilliseconds))
    }

    func firstFrameworkID(_ stream: SchedulerStream) async throws -> FrameworkID {
        for try await event in stream.events where event.type == .subscribed {
            if let id = event.subscribed?.frameworkID { return id }
        }
        throw BerthError(.invalidState, "the SUBSCRIBE stream ended before SUBSCRIBED")
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

    /// Every agent REGISTERs at once; returns the seconds until the last REGISTERED arrived, and
    /// the IDs given. The streams stay open until all are in, as live agents keep theirs.
    func registerAll(_ registrations: [AgentCall.Register], with ids: [AgentID]?, at url: String,
                     http: HTTPClient) async throws -> (Double, [AgentID]) {
        let start = ContinuousClock.now
        let streams = try await withThrowingTaskGroup(of: (Int, AgentID, HTTPClientResponse).self) { group in
            for (index, register) in registrations.enumerated() {
                group.addTask {
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
                    var request = HTTPClientRequest(url: url + "/api/v1/agent")
                    request.method = .POST
                    request.headers.add(name: "Content-Type", value: "application/json")
                    request.body = .bytes(ByteBuffer(bytes: try MesosJSON.encode(call)))
                    let response = try await http.execute(request, deadline: .distantFuture)
                    guard response.status == .ok else {
                        throw BerthError(.invalidState, "REGISTER of agent \(index) answered HTTP \(response.status.code)")
                    }
                    for try await event in RecordIOEvents<AgentEvent>(body: response.body, what: "agent event") where event.type == .registered {
                        if let given = event.registered?.agentID { return (index, given, response) }
                    }
                    throw BerthError(.invalidState, "agent \(index)'s stream ended before REGISTERED")
                }
            }
            var given = [AgentID](repeating: AgentID(""), count: registrations.count)
            var open: [HTTPClientResponse] = []
            for try await (index, id, response) in group {
                given[index] = id
                open.append(response)
            }
            return (given, open)
        }
        return ((ContinuousClock.now - start) / .seconds(1), streams.0)
    }

    func raiseOpenFileLimit(to wanted: rlim_t) throws {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        guard limit.rlim_cur < wanted else { return }
        limit.rlim_cur = max(wanted, limit.rlim_cur)
        limit.rlim_max = max(wanted, limit.rlim_max)
        guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else {
            throw BerthError(.system, "cannot raise the open-file limit to \(wanted) for \(agents) agents: \(String(cString: strerror(errno))); run as root or use fewer --agents")
        }
    }
}

/// A coordinator with its whole service group, on a free loopback port.
struct RunningCoordinator {
    let server: CoordinatorServer
    let running: Task<Void, any Error>
    let group: ServiceGroup
    let url: String

    static func start(_ configuration: CoordinatorConfiguration, logger: Logger) async throws -> RunningCoordinator {
        let server = try CoordinatorServer(configuration: configuration, logger: logger)
        let group = server.serviceGroup()
        let running = Task { try await group.run() }
        var ports = server.listeningPorts.makeAsyncIterator()
        guard let port = await ports.next(), port > 0 else {
            running.cancel()
            throw BerthError(.invalidState, "the coordinator did not start listening")
        }
        return RunningCoordinator(server: server, running: running, group: group, url: "http://127.0.0.1:\(port)")
    }

    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await running.value
    }
}
