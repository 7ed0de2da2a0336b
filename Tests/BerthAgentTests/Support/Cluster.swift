import BerthAgent
import BerthCoordinator
import BerthCore
import BerthFramework
import BerthImage
import BerthProtocol
import BerthTestSupport
import Foundation
import Logging
import ServiceLifecycle
import Testing

/// A real coordinator on a loopback port, a real agent registered with it (its home in a
/// temporary directory, the busybox fixture as the default root filesystem) and a framework
/// subscribed through the SDK: the whole path a task takes, in one process.
final class Cluster: @unchecked Sendable {
    private(set) var coordinator: TestCoordinator
    let agent: Agent
    let agentGroup: ServiceGroup
    let agentRunning: Task<Void, any Error>
    let scheduler: TestScheduler
    let home: String
    let rootfs: String
    /// The agent's HTTP endpoint.
    let agentURL: String

    private init(coordinator: TestCoordinator, agent: Agent, agentGroup: ServiceGroup, agentRunning: Task<Void, any Error>,
                 scheduler: TestScheduler, home: String, rootfs: String, agentURL: String) {
        self.coordinator = coordinator
        self.agent = agent
        self.agentGroup = agentGroup
        self.agentRunning = agentRunning
        self.scheduler = scheduler
        self.home = home
        self.rootfs = rootfs
        self.agentURL = agentURL
    }

    static var logger: Logger {
        var logger = Logger(label: "agent-test")
        logger.logLevel = ProcessInfo.processInfo.environment["BERTH_TEST_LOG"] != nil ? .debug : .critical
        return logger
    }

    /// With `supervised`, each container runs under the built `berth-supervise`, as `berth agent`
    /// runs them; otherwise as a child of the agent.
    /// `seed` writes into the agent's home before it starts (a previous run's state), given the
    /// home and the framework's ID.
    /// `configure` adjusts the agent's configuration last.
    static func start(supervised: Bool = false, seed: (String, FrameworkID) throws -> Void = { _, _ in },
                      configure: (inout AgentConfiguration) -> Void = { _ in }) async throws -> Cluster {
        let rootfs = try Fixtures.busyboxRootfs()
        let coordinator = try await TestCoordinator.start(port: 0)
        var template = Array("/tmp/berth-agent-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw FixtureError("mkdtemp: errno \(errno)") }
        let home = String(cString: made)
        var configuration = AgentConfiguration(coordinator: coordinator.url, home: BerthHome(root: home), hostname: "agent-test",
                                               resources: try Resources.parse("cpus:2;mem:1024;disk:1024;ports:[31000-31009]"))
        configuration.defaultRootfs = rootfs
        configuration.statusRetryInterval = .milliseconds(500)
        configuration.reconnectInterval = .milliseconds(100)
        if supervised {
            configuration.supervision = Supervision(supervisor: TestHost.productsDirectory.appendingPathComponent("berth-supervise").path)
        }
        configure(&configuration)
        let scheduler = try await TestScheduler.subscribe(to: coordinator.url)
        try seed(home, scheduler.calls.frameworkID)
        let agent = try Agent(configuration: configuration, logger: logger)
        let (ports, listening) = AsyncStream.makeStream(of: Int.self, bufferingPolicy: .bufferingNewest(1))
        let http = AgentHTTP.server(agent: agent, host: "127.0.0.1", port: 0, logger: logger) { listening.yield($0) }
        let agentGroup = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: http), .init(service: AgentService(agent: agent))], logger: logger))
        let agentRunning = Task { try await agentGroup.run() }
        var bound = ports.makeAsyncIterator()
        guard let httpPort = await bound.next() else { throw FixtureError("the agent's HTTP endpoint did not start listening") }

        return Cluster(coordinator: coordinator, agent: agent, agentGroup: agentGroup, agentRunning: agentRunning, scheduler: scheduler,
                       home: home, rootfs: rootfs, agentURL: "http://127.0.0.1:\(httpPort)")
    }

    /// Stops the coordinator and starts a new one (state in memory: it knows nothing) on the same port.
    func restartCoordinator() async throws {
        try await coordinator.stop()
        coordinator = try await TestCoordinator.start(port: coordinator.port)
    }

    /// Launches one task on the next offer; returns its ID.
    @discardableResult
    func launch(_ id: TaskID, command: CommandInfo?, resources: String = "cpus:0.1;mem:32", container: JSONValue? = nil,
                killPolicy: KillPolicy? = nil, healthCheck: HealthCheck? = nil) async throws -> TaskID {
        let offer = try await scheduler.nextOffer()
        var task = TaskInfo(name: id.value, taskID: id, agentID: offer.agentID, resources: try Resources.parse(resources),
                            command: command, container: container, killPolicy: killPolicy)
        task.healthCheck = healthCheck
        // No refusal of the rest of the offer: the next launch of the test gets it at once.
        try await scheduler.calls.launch([task], on: [offer.id], refuseSeconds: 0)
        return id
    }

    /// Agent first (its containers are killed), then the coordinator; then the agent's home.
    func stop() async throws {
        // Supervised containers outlive the agent: kill what still runs, through the framework
        // while it is subscribed (not after a coordinator restart: the agent's stop kills them then).
        for task in await agent.liveTasks() { try? await scheduler.calls.kill(task) }
        let deadline = ContinuousClock.now + .seconds(10)
        while await !agent.liveTasks().isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        await agentGroup.triggerGracefulShutdown()
        try await agentRunning.value
        try await coordinator.stop()
        try? FileManager.default.removeItem(atPath: home)
    }

    func sandbox(_ task: TaskID) -> String {
        "\(home)/agent/sandboxes/\(scheduler.calls.frameworkID.value)/\(task.value)"
    }
}

/// A real coordinator with fast timings: agents heartbeat every second.
struct TestCoordinator {
    let running: CoordinatorServer.Running

    var port: Int { running.port }
    var url: String { running.url }

    static func start(port: Int) async throws -> TestCoordinator {
        var configuration = CoordinatorConfiguration()
        configuration.port = port
        configuration.allocationInterval = .milliseconds(100)
        configuration.agentPingTimeout = .seconds(1)
        configuration.maxAgentPingTimeouts = 10
        return TestCoordinator(running: try await CoordinatorServer(configuration: configuration, logger: Cluster.logger).start())
    }

    func stop() async throws {
        try await running.stop()
    }
}

/// A framework that acknowledges every update it gets and keeps them per task, so a test can
/// wait for a state and then check the whole sequence.
actor TestScheduler {
    let calls: SchedulerCalls
    private var offers: [OfferInfo] = []
    private var updates: [TaskStatus] = []
    private var ended: (any Error)?

    init(calls: SchedulerCalls) { self.calls = calls }

    static func subscribe(to url: String, capabilities: [String] = ["TASK_KILLING_STATE"]) async throws -> TestScheduler {
        let client = SchedulerClient(coordinator: url)
        let stream = try await client.subscribe(FrameworkInfo(user: "root", name: "agent-test", capabilities: capabilities))
        var events = stream.events.makeAsyncIterator()
        guard let first = try await events.next(), let id = first.subscribed?.frameworkID else {
            throw FixtureError("the coordinator did not answer SUBSCRIBE with SUBSCRIBED")
        }
        let scheduler = TestScheduler(calls: client.calls(for: id, streamID: stream.streamID))
        let remaining = events
        Task {
            var events = remaining
            do {
                while let event = try await events.next() { await scheduler.received(event) }
                await scheduler.finish(FixtureError("the scheduler stream ended"))
            } catch {
                await scheduler.finish(error)
            }
        }
        return scheduler
    }

    private func received(_ event: Event) async {
        switch event.type {
        case .offers: offers.append(contentsOf: event.offers?.offers ?? [])
        case .update:
            guard let status = event.update?.status else { return }
            updates.append(status)
            try? await calls.acknowledge(status)
        default: break
        }
    }

    private func finish(_ error: any Error) { ended = error }

    func nextOffer(timeout: Duration = .seconds(10)) async throws -> OfferInfo {
        try await waitUntil("an offer", timeout: timeout) { offers.isEmpty ? nil : offers.removeFirst() }
    }

    /// The first update of `task` in `state` (with `occurrence`, the n-th).
    func update(_ task: TaskID, _ state: TaskState, occurrence: Int = 1, timeout: Duration = .seconds(20)) async throws -> TaskStatus {
        try await waitUntil("\(state.rawValue) for \(task)", timeout: timeout) {
            let matching = updates.filter { $0.taskID == task && $0.state == state }
            return matching.count >= occurrence ? matching[occurrence - 1] : nil
        }
    }

    /// The states `task` went through, in arrival order.
    func states(_ task: TaskID) -> [TaskState] {
        updates.filter { $0.taskID == task }.map(\.state)
    }

    private func waitUntil<T>(_ what: String, timeout: Duration, _ check: () -> T?) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let found = check() { return found }
            guard ContinuousClock.now < deadline, ended == nil else {
                throw FixtureError("no \(what) within \(timeout)\(ended.map { " (\($0))" } ?? ""); updates so far: \(updates.map { "\($0.taskID) \($0.state.rawValue) \($0.message ?? "")" })")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// Runs `body` against a fresh cluster, stops it, and checks that nothing was left on the host.
func withCluster(supervised: Bool = false, configure: (inout AgentConfiguration) -> Void = { _ in },
                 _ body: (Cluster) async throws -> Void) async throws {
    let cluster = try await Cluster.start(supervised: supervised, configure: configure)
    do {
        try await body(cluster)
    } catch {
        try await cluster.stop()
        throw error
    }
    try await cluster.stop()
    let left = Leftovers.find(rootfs: cluster.rootfs) + Leftovers.find(rootfs: cluster.home)
    #expect(left.isEmpty, "left on the host: \(left)")
}

/// A coordinator in this process and `berth agent` as processes of their own on one home, so a
/// test can kill an agent with SIGKILL and start the next; a test framework is subscribed.
struct AgentProcessSetup {
    let rootfs: String
    let coordinator: TestCoordinator
    let home: String
    let scheduler: TestScheduler

    static func start() async throws -> AgentProcessSetup {
        let rootfs = try Fixtures.busyboxRootfs()
        let coordinator = try await TestCoordinator.start(port: 0)
        var template = Array("/tmp/berth-agent-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw FixtureError("mkdtemp: errno \(errno)") }
        let home = String(cString: made)
        let scheduler = try await TestScheduler.subscribe(to: coordinator.url)
        return AgentProcessSetup(rootfs: rootfs, coordinator: coordinator, home: home, scheduler: scheduler)
    }

    /// A new `berth agent` on the home.
    func spawnAgent(_ extraArguments: [String] = []) throws -> SpawnedCommand {
        try SpawnedCommand([TestHost.berthBinary, "agent", "--coordinator", "127.0.0.1:\(coordinator.port)", "--home", home, "--listen", "127.0.0.1:0",
                            "--default-rootfs", rootfs, "--hostname", "agent-proc", "--log-level", "error",
                            "--resources", "cpus:2;mem:1024;disk:1024;ports:[31000-31009]"] + extraArguments)
    }

    /// Stops the coordinator and checks that nothing was left on the host.
    func stopAndCheckLeftovers() async throws {
        try await coordinator.stop()
        let left = Leftovers.find(rootfs: rootfs) + Leftovers.find(rootfs: home)
        #expect(left.isEmpty, "left on the host: \(left)")
    }

    func removeHome() {
        try? FileManager.default.removeItem(atPath: home)
    }
}
