import BerthCgroups
import BerthCore
import BerthImage
import BerthOCI
import BerthProtocol
import BerthRuntime

/// What the agent runs for a TaskInfo, decided before anything is pulled or started. Pure, so
/// the Mesos rules (shell or argv, image or default root, environment, limits) are tested
/// without root.
struct TaskPlan: Sendable, Equatable {
    enum Root: Sendable, Equatable {
        /// Mesos ContainerInfo MESOS with a DOCKER image (or type DOCKER): resolved through the
        /// local image store, pulled when missing.
        case image(String)
        /// A root filesystem directory on the host, shared read-write by the tasks using it.
        case directory(String)
    }

    enum Command: Sendable, Equatable {
        /// `shell` true (Mesos' default): the value under `/bin/sh -c`.
        case shell(String)
        /// `shell` false: the value is the program, `arguments` its argv (argv[0] included).
        case argv([String])
        /// No value: the image's entrypoint and cmd, with `arguments` replacing the cmd.
        case image(arguments: [String])
    }

    /// Where the sandbox appears inside the container, as in Mesos.
    static let sandboxMountPoint = "/mnt/mesos/sandbox"

    var root: Root
    var command: Command
    /// Mesos' variables and the task's own (which win), in order.
    var environment: [String]
    var user: String?
    var limits: CgroupLimits
    var ports: [UInt64]

    /// Why a task cannot run at all: reported as TASK_ERROR with REASON_TASK_INVALID.
    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    static func make(task: TaskInfo, framework: FrameworkID, agent: AgentID?, configuration: AgentConfiguration) throws -> TaskPlan {
        if task.executor != nil {
            throw Invalid(description: "task \(task.taskID) names an executor: custom executors are not supported yet; send a command task (TaskInfo.command)")
        }
        if let problem = task.healthCheck?.problem {
            throw Invalid(description: "task \(task.taskID): \(problem)")
        }
        let root = try root(of: task, configuration: configuration)
        let command = try command(of: task, root: root)
        let ports = task.resources.ranges(named: "ports").ranges.flatMap { Array($0.begin...$0.end) }
        var environment = [
            "MESOS_TASK_ID=\(task.taskID.value)",
            "MESOS_FRAMEWORK_ID=\(framework.value)",
            "MESOS_SANDBOX=\(sandboxMountPoint)",
            "HOST=\(configuration.hostname)",
        ]
        if let agent { environment.append("MESOS_AGENT_ID=\(agent.value)") }
        if !ports.isEmpty {
            environment.append("PORTS=\(ports.map(String.init).joined(separator: ","))")
            environment.append("PORT=\(ports[0])")
            for (index, port) in ports.enumerated() { environment.append("PORT\(index)=\(port)") }
        }
        for variable in task.command?.environment?.variables ?? [] {
            if let type = variable.type, type != "VALUE" {
                throw Invalid(description: "environment variable \(variable.name) is of type \(type): only VALUE variables are supported")
            }
            environment.append("\(variable.name)=\(variable.value ?? "")")
        }
        return TaskPlan(root: root, command: command, environment: environment, user: task.command?.user,
                        limits: limits(of: task), ports: ports)
    }

    /// The task's cpus and mem as cgroup limits, raised to the runtime's minimums (as Mesos
    /// raises small memory requests to its own minimum) so a tiny task still starts.
    static func limits(of task: TaskInfo) -> CgroupLimits {
        var limits = CgroupLimits()
        let cpus = task.resources.scalar(named: "cpus").doubleValue
        if cpus > 0 { limits.cpus = max(cpus, CgroupLimits.minimumCPUs) }
        let memoryMiB = task.resources.scalar(named: "mem").doubleValue
        if memoryMiB > 0 { limits.memoryBytes = max(Int64(memoryMiB * 1_048_576), CgroupLimits.minimumMemoryBytes) }
        return limits
    }

    static func root(of task: TaskInfo, configuration: AgentConfiguration) throws -> Root {
        guard let container = task.container else {
            if let directory = configuration.defaultRootfs { return .directory(directory) }
            if let image = configuration.defaultImage { return .image(image) }
            throw Invalid(description: "task \(task.taskID) names no container image and this agent has no default (--default-image or --default-rootfs); add container.mesos.image.docker.name")
        }
        let type = container["type"].flatMap(\.stringValue) ?? "MESOS"
        switch type {
        case "MESOS":
            guard let image = container["mesos"]?["image"] else {
                if let directory = configuration.defaultRootfs { return .directory(directory) }
                if let image = configuration.defaultImage { return .image(image) }
                throw Invalid(description: "task \(task.taskID): container of type MESOS without mesos.image, and no default image on this agent")
            }
            let imageType = image["type"].flatMap(\.stringValue) ?? "DOCKER"
            guard imageType == "DOCKER", let name = image["docker"]?["name"].flatMap(\.stringValue), !name.isEmpty else {
                throw Invalid(description: "task \(task.taskID): image of type \(imageType) is not supported; give mesos.image.type DOCKER with docker.name")
            }
            return .image(name)
        case "DOCKER":
            guard let name = container["docker"]?["image"].flatMap(\.stringValue), !name.isEmpty else {
                throw Invalid(description: "task \(task.taskID): container of type DOCKER without docker.image")
            }
            return .image(name)
        default:
            throw Invalid(description: "task \(task.taskID): container type \(type) is not supported; use MESOS (or DOCKER) with an image")
        }
    }

    static func command(of task: TaskInfo, root: Root) throws -> Command {
        let info = task.command
        if let value = info?.value, !value.isEmpty {
            if info?.shell ?? true { return .shell(value) }
            return .argv([value] + (info?.arguments ?? []).dropFirst())
        }
        guard case .image = root else {
            throw Invalid(description: "task \(task.taskID) has no command.value and no image to take an entrypoint from")
        }
        return .image(arguments: info?.arguments ?? [])
    }

    /// The container to start: the image's configuration (when there is one) under the task's
    /// command, environment and user; the sandbox as working directory, mounted at the Mesos path.
    func containerConfiguration(rootfs: String, image: (name: String, configuration: ImageConfiguration)?,
                                sandbox: String, stdio: [Int32?], hostname: String) throws -> ContainerConfiguration {
        var argv: [String]
        var env = environment
        var user = self.user
        switch command {
        case .shell(let value): argv = ["/bin/sh", "-c", value]
        case .argv(let given): argv = given
        case .image: argv = []
        }
        if let image {
            var overrides = ImageRunSpec.Overrides(env: environment, workingDirectory: Self.sandboxMountPoint, user: user)
            switch command {
            case .shell, .argv:
                overrides.entrypoint = ""
                overrides.command = argv
            case .image(let arguments):
                overrides.command = arguments
            }
            let spec = try ImageRunSpec(image: image.name, configuration: image.configuration, overrides: overrides)
            argv = spec.argv
            env = spec.env
            user = spec.user
        }
        var configuration = ContainerConfiguration(rootfs: rootfs, command: argv)
        configuration.env = env
        configuration.user = user
        configuration.workingDirectory = Self.sandboxMountPoint
        configuration.hostname = hostname
        // Tasks serve on their assigned ports of the host, as Mesos' default (host) networking does.
        configuration.network = .host
        configuration.limits = limits
        configuration.stdio = stdio
        configuration.bindMounts = [BindMount(source: sandbox, destination: Self.sandboxMountPoint)]
        return configuration
    }
}

extension JSONValue {
    var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }
}
