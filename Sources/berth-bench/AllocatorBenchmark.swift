import ArgumentParser
import BerthAllocator
import BerthCore
import Foundation

/// `berth-bench allocator`: one full allocation cycle on Mesos' benchmark grid.
struct AllocatorBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allocator",
        abstract: "Time one full allocation cycle for agents × frameworks, beside Mesos' published figures.",
        discussion: """
            Builds a snapshot of N agents (cpus:8, mem:16384, ports:[31000-32000]; every fourth \
            already runs a task of cpus:2, mem:4096, 100 ports for some framework) and F \
            frameworks spread over a handful of roles (weights 1 to 3), each with outstanding \
            demand, one active decline filter per framework, and Mesos' default \
            min_allocatable_resources. Times Allocator.allocate (which includes turning the \
            snapshot into the sorter's state) and prints the median of --rounds cycles as \
            `agents=A frameworks=F cycle_ms=X`, with Mesos 1.8's figure and the goal (1/20 of \
            it) where Mesos published one. Without --agents/--frameworks, runs Mesos' grid \
            {1000,5000,10000,20000} × {1,100,500,1000,2000}. Build with -c release.
            """)

    /// Mesos 1.8's published cycle times, in ms, by (agents, frameworks).
    static let mesosFigures: [Pair: Double] = [Pair(5000, 500): 400, Pair(10000, 1000): 1100, Pair(20000, 2000): 3800]
    static let goalFraction = 1.0 / 20

    struct Pair: Hashable {
        let agents: Int
        let frameworks: Int
        init(_ agents: Int, _ frameworks: Int) {
            self.agents = agents
            self.frameworks = frameworks
        }
    }

    @Option(help: ArgumentHelp("Agents (with --frameworks: one point instead of the grid).", valueName: "n"))
    var agents: Int?

    @Option(help: ArgumentHelp("Frameworks (with --agents: one point instead of the grid).", valueName: "n"))
    var frameworks: Int?

    @Option(help: ArgumentHelp("Roles the frameworks are spread over.", valueName: "n"))
    var roles: Int = 5

    @Option(help: ArgumentHelp("Timed cycles per point, after one untimed; the median is printed.", valueName: "n"))
    var rounds: Int = 5

    func validate() throws {
        if (agents == nil) != (frameworks == nil) { throw ValidationError("give --agents and --frameworks together, or neither for the grid") }
        if let agents, agents < 1 { throw ValidationError("--agents must be at least 1") }
        if let frameworks, frameworks < 1 { throw ValidationError("--frameworks must be at least 1") }
        guard roles >= 1 else { throw ValidationError("--roles must be at least 1") }
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
    }

    func run() throws {
        let points: [Pair]
        if let agents, let frameworks {
            points = [Pair(agents, frameworks)]
        } else {
            points = [1000, 5000, 10000, 20000].flatMap { agents in [1, 100, 500, 1000, 2000].map { Pair(agents, $0) } }
        }
        var report = Report()
        report.add("benchmark", "allocator")
        report.add("cpus", ProcessInfo.processInfo.activeProcessorCount)
        report.add("roles", roles)
        report.add("rounds", rounds)
        report.print()
        for point in points {
            let snapshot = try Self.snapshot(agents: point.agents, frameworks: point.frameworks, roles: roles)
            var offers = 0
            var wall: [Double] = []
            var cpu: [Double] = []
            for round in 0...rounds {
                let cpuStart = Self.threadCPUMilliseconds()
                let start = ContinuousClock.now
                offers = Allocator.allocate(snapshot).count
                let elapsed = ContinuousClock.now - start
                guard round > 0 else { continue }
                wall.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
                cpu.append(Self.threadCPUMilliseconds() - cpuStart)
            }
            // validate() requires rounds >= 1, so both series have samples.
            guard let summary = Summary(wall), let cpuSummary = Summary(cpu) else { throw BerthError(.invalidState, "no timed cycles") }
            var line = "agents=\(point.agents) frameworks=\(point.frameworks) cycle_ms=\(String(format: "%.1f", summary.median))"
            line += " min_ms=\(String(format: "%.1f", summary.min)) cpu_ms=\(String(format: "%.1f", cpuSummary.median)) offers=\(offers)"
            if let mesos = Self.mesosFigures[point] {
                line += " mesos_ms=\(Int(mesos)) goal_ms=\(Int(mesos * Self.goalFraction))"
                line += " goal_met=\(summary.median <= mesos * Self.goalFraction ? "yes" : "no")"
            }
            Swift.print(line)
        }
    }

    /// CPU time of this thread: on a machine shared with other builds, wall time includes waiting
    /// for a core, and this does not.
    static func threadCPUMilliseconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) * 1000 + Double(time.tv_nsec) / 1e6
    }

    /// The benchmark cluster; deterministic, so runs compare.
    static func snapshot(agents agentCount: Int, frameworks frameworkCount: Int, roles roleCount: Int) throws -> AllocationSnapshot {
        let roles = try (0..<roleCount).map { try Role("role-\($0)") }
        let frameworks = (0..<frameworkCount).map { index in
            FrameworkSnapshot(id: FrameworkID("framework-\(index)"), roles: [roles[index % roleCount]])
        }
        let total = try Resources.parse("cpus:8;mem:16384;ports:[31000-32000]")
        let task = try Resources.parse("cpus:2;mem:4096;ports:[31000-31099]")
        let agents = (0..<agentCount).map { index in
            var agent = AgentSnapshot(id: AgentID("agent-\(index)"), total: total)
            if index % 4 == 0 {
                let framework = frameworks[(index / 4) % frameworkCount]
                agent.allocations = [Allocation(framework: framework.id, role: framework.roles[0], resources: task)]
            }
            return agent
        }
        let now = Timestamp(seconds: 1000)
        let filters = frameworks.enumerated().map { index, framework in
            OfferFilter(framework: framework.id, agent: AgentID("agent-\((index * 7919) % agentCount)"), refused: total, until: now + 5)
        }
        var configuration: [Role: RoleConfiguration] = [:]
        for (index, role) in roles.enumerated() { configuration[role] = RoleConfiguration(weight: Double(1 + index % 3)) }
        return AllocationSnapshot(agents: agents, frameworks: frameworks, roles: configuration, filters: filters, now: now, seed: 1)
    }
}
