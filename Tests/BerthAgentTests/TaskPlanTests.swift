@testable import BerthAgent
import BerthCore
import BerthImage
import BerthOCI
import BerthProtocol
import Testing

/// How a TaskInfo becomes a container: Mesos' rules, without root.
struct TaskPlanTests {
    static let configuration: AgentConfiguration = {
        var configuration = AgentConfiguration(coordinator: "http://127.0.0.1:5050", home: BerthHome(root: "/tmp/none"),
                                               hostname: "node1", resources: Resources())
        configuration.defaultRootfs = "/srv/rootfs"
        return configuration
    }()

    static func task(_ command: CommandInfo?, container: JSONValue? = nil, resources: String = "cpus:0.5;mem:64") throws -> TaskInfo {
        TaskInfo(name: "t", taskID: "t1", agentID: "a1", resources: try Resources.parse(resources), command: command, container: container)
    }

    static func image(_ name: String) -> JSONValue {
        .object(["type": .string("MESOS"), "mesos": .object(["image": .object(["type": .string("DOCKER"), "docker": .object(["name": .string(name)])])])])
    }

    @Test(arguments: [
        (CommandInfo(value: "echo hi"), TaskPlan.Command.shell("echo hi")),
        (CommandInfo(value: "/bin/echo", shell: false, arguments: ["echo", "a", "b"]), .argv(["/bin/echo", "a", "b"])),
        (CommandInfo(value: "/bin/true", shell: false), .argv(["/bin/true"])),
    ])
    func commands(_ command: CommandInfo, _ expected: TaskPlan.Command) throws {
        let plan = try TaskPlan.make(task: try Self.task(command), framework: "f1", agent: "a1", configuration: Self.configuration)
        #expect(plan.command == expected)
        #expect(plan.root == .directory("/srv/rootfs"))
    }

    @Test func anImageTaskWithoutACommandUsesTheImagesEntrypointWithTheArguments() throws {
        let plan = try TaskPlan.make(task: try Self.task(CommandInfo(shell: false, arguments: ["x"]), container: Self.image("busybox")),
                                     framework: "f1", agent: "a1", configuration: Self.configuration)
        #expect(plan.root == .image("busybox"))
        #expect(plan.command == .image(arguments: ["x"]))
        let docker: JSONValue = .object(["type": .string("DOCKER"), "docker": .object(["image": .string("nginx:1")])])
        #expect(try TaskPlan.make(task: try Self.task(nil, container: docker), framework: "f1", agent: nil, configuration: Self.configuration).root == .image("nginx:1"))
    }

    @Test func environmentHasMesosVariablesPortsAndTheTasksOwnLast() throws {
        var command = CommandInfo(value: "env")
        command.environment = .init(variables: [.init(name: "HOST", value: "mine")])
        let plan = try TaskPlan.make(task: try Self.task(command, resources: "cpus:1;mem:64;ports:[31000-31001,31005-31005]"),
                                     framework: "f1", agent: "a1", configuration: Self.configuration)
        #expect(plan.ports == [31000, 31001, 31005])
        #expect(plan.environment == [
            "MESOS_TASK_ID=t1", "MESOS_FRAMEWORK_ID=f1", "MESOS_SANDBOX=/mnt/mesos/sandbox", "HOST=node1", "MESOS_AGENT_ID=a1",
            "PORTS=31000,31001,31005", "PORT=31000", "PORT0=31000", "PORT1=31001", "PORT2=31005", "HOST=mine",
        ])
    }

    @Test func limitsComeFromCpusAndMemRaisedToTheRuntimesMinimum() throws {
        let plan = try TaskPlan.make(task: try Self.task(CommandInfo(value: "x"), resources: "cpus:0.001;mem:1"), framework: "f1", agent: nil,
                                     configuration: Self.configuration)
        #expect(plan.limits.cpus == 0.01)
        #expect(plan.limits.memoryBytes == 6 << 20)
        let normal = try TaskPlan.make(task: try Self.task(CommandInfo(value: "x")), framework: "f1", agent: nil, configuration: Self.configuration)
        #expect(normal.limits.cpus == 0.5)
        #expect(normal.limits.memoryBytes == 64 << 20)
    }

    @Test(arguments: [
        (JSONValue.object(["type": .string("MESOS"), "mesos": .object(["image": .object(["type": .string("APPC"), "appc": .object([:])])])]), "APPC"),
        (.object(["type": .string("DOCKER")]), "docker.image"),
        (.object(["type": .string("RKT")]), "RKT"),
    ])
    func unsupportedContainersAreInvalid(_ container: JSONValue, _ mentioned: String) throws {
        let error = #expect(throws: TaskPlan.Invalid.self) {
            try TaskPlan.make(task: try Self.task(CommandInfo(value: "x"), container: container), framework: "f1", agent: nil,
                              configuration: Self.configuration)
        }
        #expect(error?.description.contains(mentioned) == true, "\(String(describing: error))")
    }

    @Test func aCommandTaskWithoutImageOrDefaultIsInvalid() throws {
        var configuration = Self.configuration
        configuration.defaultRootfs = nil
        let error = #expect(throws: TaskPlan.Invalid.self) {
            try TaskPlan.make(task: try Self.task(CommandInfo(value: "x")), framework: "f1", agent: nil, configuration: configuration)
        }
        #expect(error?.description.contains("--default-image") == true)
    }

    @Test func theContainerGetsTheSandboxTheLimitsAndTheImagesEnvironment() throws {
        var command = CommandInfo(value: "echo $GREETING")
        command.environment = .init(variables: [.init(name: "EXTRA", value: "1")])
        let plan = try TaskPlan.make(task: try Self.task(command, container: Self.image("app")), framework: "f1", agent: nil,
                                     configuration: Self.configuration)
        var config = ImageConfiguration.Config()
        config.entrypoint = ["/entry"]
        config.cmd = ["serve"]
        config.env = ["GREETING=hello", "PATH=/bin"]
        config.workingDir = "/srv"
        config.user = "app"
        let image = ImageConfiguration(architecture: "amd64", config: config, rootfs: .init(diffIDs: []))
        let container = try plan.containerConfiguration(rootfs: "/r", image: ("app", image), sandbox: "/sb", stdio: [nil, 4, 5], hostname: "node1")
        #expect(container.command == ["/bin/sh", "-c", "echo $GREETING"])
        #expect(container.env.prefix(2) == ["GREETING=hello", "PATH=/bin"])
        #expect(container.env.contains("EXTRA=1"))
        #expect(container.user == "app")
        #expect(container.workingDirectory == "/mnt/mesos/sandbox")
        #expect(container.bindMounts.map(\.source) == ["/sb"])
        #expect(container.stdio == [nil, 4, 5])
        #expect(container.limits.memoryBytes == 64 << 20)
    }
}
