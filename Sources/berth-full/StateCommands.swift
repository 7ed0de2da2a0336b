import ArgumentParser
import BerthCoordinator
import Foundation

/// `berth state`: the coordinator's summary, or its whole `GET /state` with --json.
struct StateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "state", abstract: "Show a coordinator's state: agents, frameworks, tasks, resources.")

    @OptionGroup var options: CoordinatorOptions

    func run() throws {
        let (state, raw) = try options.state()
        if options.json {
            FileHandle.standardOutput.write(raw + Data("\n".utf8))
            return
        }
        var total: [String: Double] = [:]
        var used: [String: Double] = [:]
        for agent in state.slaves where agent.active {
            for name in ["cpus", "mem", "disk"] {
                total[name, default: 0] += ResourceText.scalar(name, in: agent.resources)
                used[name, default: 0] += ResourceText.scalar(name, in: agent.usedResources)
            }
        }
        let live = state.frameworks.reduce(0) { $0 + $1.tasks.count }
        let connected = state.frameworks.filter(\.connected).count
        let rows = [
            ["coordinator", "\(state.id) (Mesos API \(state.version), berth \(state.berthVersion))"],
            ["agents", "\(state.activatedSlaves) active, \(state.unreachableSlaves) unreachable"],
            ["frameworks", "\(state.frameworks.count) (\(connected) connected)"],
            ["tasks", "\(live) live, \(state.frameworks.reduce(0) { $0 + $1.completedTasks.count }) completed"],
        ] + ["cpus", "mem", "disk"].map { name in
            [name, "\(ResourceText.number(used[name] ?? 0)) used of \(ResourceText.number(total[name] ?? 0))\(name == "cpus" ? "" : " MB")"]
        }
        print(Table.render(rows), terminator: "")
    }
}

/// `berth agent ls` (`berth agent` itself runs an agent: AgentCommand).
enum AgentCommands {
    struct AgentList: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List agents: ID, hostname, state, resources used/total.")

        @OptionGroup var options: CoordinatorOptions

        func run() throws {
            let state = try options.state().document
            if options.json { return try options.printJSON(state.slaves) }
            var tasksPerAgent: [String: Int] = [:]
            for task in state.frameworks.flatMap(\.tasks) { tasksPerAgent[task.slaveID, default: 0] += 1 }
            let header = ["ID", "HOSTNAME", "STATE", "CPUS", "MEM (MB)", "DISK (MB)", "TASKS", "ATTRIBUTES"]
            let rows = state.slaves.map { agent in
                [agent.id, agent.hostname, agent.active ? "active" : "unreachable",
                 ResourceText.usage("cpus", used: agent.usedResources, total: agent.resources),
                 ResourceText.usage("mem", used: agent.usedResources, total: agent.resources),
                 ResourceText.usage("disk", used: agent.usedResources, total: agent.resources),
                 String(tasksPerAgent[agent.id] ?? 0),
                 agent.attributes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")]
            }
            print(Table.render([header] + rows), terminator: "")
        }
    }
}

/// `berth framework ls`.
struct FrameworkCommands: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "framework", abstract: "Frameworks subscribed to a coordinator.",
                                                    subcommands: [FrameworkList.self])

    struct FrameworkList: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List frameworks: ID, name, roles, state, tasks and what they use.")

        @OptionGroup var options: CoordinatorOptions

        func run() throws {
            let state = try options.state().document
            if options.json { return try options.printJSON(state.frameworks) }
            let header = ["ID", "NAME", "ROLES", "STATE", "TASKS", "OFFERS", "CPUS", "MEM (MB)"]
            let rows = state.frameworks.map { framework in
                let cpus = framework.tasks.reduce(0) { $0 + ResourceText.scalar("cpus", in: $1.resources) }
                let mem = framework.tasks.reduce(0) { $0 + ResourceText.scalar("mem", in: $1.resources) }
                return [framework.id, framework.name, framework.roles.joined(separator: ","),
                        framework.connected ? "connected" : "disconnected", String(framework.tasks.count), String(framework.offers),
                        ResourceText.number(cpus), ResourceText.number(mem)]
            }
            print(Table.render([header] + rows), terminator: "")
        }
    }
}

/// `berth task ls` (a subcommand of `berth task`, with run and kill).
struct TaskList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List live tasks (--all: finished ones too).")

    @OptionGroup var options: CoordinatorOptions

    @Flag(name: .shortAndLong, help: "Include tasks that have ended (finished, failed, killed, lost...), also of frameworks that have gone away.")
    var all = false

    func run() throws {
        let state = try options.state().document
        let tasks = state.frameworks.flatMap { $0.tasks + (all ? $0.completedTasks : []) }
            + (all ? state.completedFrameworks.flatMap { $0.tasks + $0.completedTasks } : [])
        if options.json { return try options.printJSON(tasks) }
        let hostnames = Dictionary(state.slaves.map { ($0.id, $0.hostname) }, uniquingKeysWith: { first, _ in first })
        let header = ["ID", "NAME", "FRAMEWORK", "HOSTNAME", "STATE", "ROLE", "CPUS", "MEM (MB)"]
        let rows = tasks.map { task in
            [task.id, task.name, task.frameworkID, hostnames[task.slaveID] ?? task.slaveID, task.state, task.role,
             ResourceText.number(ResourceText.scalar("cpus", in: task.resources)), ResourceText.number(ResourceText.scalar("mem", in: task.resources))]
        }
        print(Table.render([header] + rows), terminator: "")
    }
}
