import BerthCore
import BerthImage
import BerthLinux
import BerthOCI
import BerthProtocol
import BerthRuntime
import Foundation
import Glibc
import Logging

/// A task's life: LAUNCH → STARTING (sandbox, image, rootfs) → container started → RUNNING →
/// exit → FINISHED / FAILED / KILLED, then its container and rootfs are removed.
extension Agent {
    func launch(_ launch: AgentEvent.Launch) {
        let group = launch.group == true ? Self.groupID(launch) : nil
        var keys: [TaskKey] = []
        for info in launch.tasks {
            let key = TaskKey(framework: launch.frameworkID, task: info.taskID)
            guard tasks[key] == nil else {
                logger.warning("LAUNCH of a task this agent already has; ignored", metadata: ["task": "\(key)"])
                continue
            }
            let checkpoint = TaskCheckpoint(frameworkID: launch.frameworkID, frameworkInfo: launch.frameworkInfo, task: info,
                                            latest: TaskStatus(taskID: info.taskID, state: .staging), pending: [], group: group)
            tasks[key] = AgentTask(checkpoint: checkpoint, retry: configuration.statusRetryInterval)
            keys.append(key)
        }
        if let group { launchGroups[group] = LaunchGroup(members: keys) }
        for key in keys { Task { await self.run(key) } }
    }

    private func run(_ key: TaskKey) async {
        guard let info = tasks[key]?.checkpoint.task else { return }
        let plan: TaskPlan
        do {
            plan = try TaskPlan.make(task: info, framework: key.framework, agent: agentID, configuration: configuration)
        } catch {
            return end(key, .error, message: "\(error)", reason: .taskInvalid, source: .agent)
        }
        if case .image(let name) = plan.root { tasks[key]?.image = name }
        // The container's ID goes into the STARTING checkpoint, so a restarted agent finds (or
        // cleans up) the container whatever moment it died at, without a write of its own.
        let containerID = Container.newID()
        tasks[key]?.checkpoint.containerID = containerID
        let startingCheckpoint = report(key, .starting, message: startingMessage(plan))
        do {
            let sandbox = store.sandbox(framework: key.framework, task: key.task)
            let image = try await resolveImage(plan.root, for: key)
            if let failure = await groupMayStart(key) {
                return end(key, failure.state, message: failure.message, reason: failure.reason)
            }
            if let kill = tasks[key]?.kill {
                return end(key, .killed, message: "killed before it started\(kill.cause.map { ": \($0)" } ?? "")", reason: .taskKilledDuringLaunch)
            }
            // On disk before the rootfs and the start; usually written long since.
            await checkpointWritten(key, version: startingCheckpoint)
            let (container, root) = try await start(plan, image: image, sandbox: sandbox, containerID: containerID)
            tasks[key]?.phase = .running(container)
            report(key, .running, message: "container \(containerID.prefix(12)) started")
            if tasks[key]?.kill != nil { beginKill(key) }
            startHealthChecks(key, container)
            await supervise(key, container, root: root)
        } catch {
            end(key, .failed, message: Self.launchFailure(error, root: plan.root), reason: .containerLaunchFailed, source: .agent)
        }
    }

    /// Waits for the container's end, removes it and reports how it ended. `root` is nil for an
    /// adopted container (its image rootfs is collected by `berth image prune`).
    func supervise(_ key: TaskKey, _ container: any TaskContainer, root: PreparedRoot?) async {
        let exit = await container.exit()
        await BlockingWork.quietly { container.remove() }
        if let root { await remove(root) }
        finish(key, exit: exit)
    }

    private func startingMessage(_ plan: TaskPlan) -> String {
        switch plan.root {
        case .image(let name): "preparing image \(name)"
        case .directory(let path): "preparing the root filesystem \(path)"
        }
    }

    /// The terminal update, and the task is no longer running anything.
    private func end(_ key: TaskKey, _ state: TaskState, message: String, reason: Reason?, source: StatusSource = .executor) {
        tasks[key]?.phase = .exited
        report(key, state, message: message, reason: reason, source: source)
        if state != .finished { groupMemberEnded(key, state) }
    }

    /// Mesos' wording for exits ("Command exited with status 1"), the kill that caused one,
    /// and the memory limit when the OOM killer ended it.
    private func finish(_ key: TaskKey, exit: ContainerExit) {
        if let kill = tasks[key]?.kill {
            var message = "task killed: command \(exit.status)"
            if kill.escalated { message += " (SIGKILL after the grace period of \(kill.gracePeriod))" }
            if let cause = kill.cause { message += "; \(cause)" }
            return end(key, .killed, message: message, reason: nil)
        }
        if exit.oomKilled {
            let limit = exit.memoryLimit.map { " of \(ByteSize.format($0))" } ?? ""
            return end(key, .failed, message: "memory limit\(limit) reached: the OOM killer ended the task (\(exit.status)); give it more mem or make it use less",
                       reason: .containerLimitationMemory)
        }
        switch exit.status {
        case .exited(0):
            end(key, .finished, message: "Command exited with status 0", reason: nil)
        case .exited(let code):
            end(key, .failed, message: "Command exited with status \(code)", reason: .commandExecutorFailed)
        case .signaled(let signal):
            end(key, .failed, message: "Command terminated with signal \(Signals.name(signal))", reason: .commandExecutorFailed)
        }
    }

    static func launchFailure(_ error: any Error, root: TaskPlan.Root) -> String {
        if error is LaunchFailure { return "cannot start the task: \(SupervisedLaunch.describe(error))" }
        if let error = error as? BerthError, error.code == .launch { return "cannot start the task: \(error.message)" }
        if case .image(let name) = root, let error = error as? BerthError,
           [.registry, .unauthorized, .notFound, .digestMismatch, .imageLayer].contains(error.code) {
            return "cannot get image \(name): \(error.message)"
        }
        return "cannot start the task: \(error)"
    }

    // MARK: Root filesystem and container

    /// The container's root: a host directory as it is, or a fresh rootfs from the image.
    struct PreparedRoot: Sendable {
        var path: String
        var image: (name: String, configuration: ImageConfiguration)?
        var rootfs: ContainerRootfs?
    }

    /// The image a task runs from, pulled when it is not here yet; nil for a host directory.
    private func resolveImage(_ root: TaskPlan.Root, for key: TaskKey) async throws -> (record: ImageRecord, configuration: ImageConfiguration)? {
        guard case .image(let name) = root else { return nil }
        let record: ImageRecord
        if let found = try images.find(name) { record = found } else { record = try await pull(name, for: key) }
        return (record, try images.configuration(of: record))
    }

    /// Pulls with progress in TASK_STARTING messages. There is no launch timeout to outrun: a
    /// task waits for its image as long as the pull makes progress or until it is killed.
    private func pull(_ name: String, for key: TaskKey) async throws -> ImageRecord {
        let reference = try ImageReference(parsing: name)
        logger.info("pulling image", metadata: ["image": "\(reference)"])
        let client = try images.registryClient(for: reference, insecure: configuration.insecureRegistries.contains(reference.registry), logger: logger)
        let meter = PullProgressMeter(image: name)
        let progress: @Sendable (PullProgressEvent) -> Void = { event in
            guard let line = meter.record(event) else { return }
            Task { await self.reportPullProgress(key, line) }
        }
        do {
            let record = try await images.pull(reference, platform: nil, client: client, progress: progress)
            counters.imagePulls += 1
            try await client.shutdown()
            return record
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// A TASK_STARTING with the pull's progress, while the task still waits for its image.
    private func reportPullProgress(_ key: TaskKey, _ line: String) {
        guard let task = tasks[key], case .launching = task.phase, task.kill == nil, task.checkpoint.latest.state == .starting else { return }
        report(key, .starting, message: line)
    }

    private func remove(_ root: PreparedRoot) async {
        guard let rootfs = root.rootfs else { return }
        let logger = self.logger
        await BlockingWork.quietly {
            do { try rootfs.remove() } catch { logger.warning("remove the rootfs of container \(rootfs.containerID.prefix(12)): \(error)") }
        }
    }

    /// The rootfs (from `image`, else the plan's directory), the sandbox with its log files, then
    /// the container: returns once the command was exec'd. One blocking job, so that nothing of
    /// it stays open while other tasks' work runs: a burst of launches otherwise had every task's
    /// detached rootfs mount and log files open at once, and each supervisor spawn copied and
    /// closed a descriptor table of thousands. A failed start removes the rootfs it made.
    private func start(_ plan: TaskPlan, image: (record: ImageRecord, configuration: ImageConfiguration)?, sandbox: String,
                       containerID: String) async throws -> (any TaskContainer, PreparedRoot) {
        let images = self.images
        let driver = self.driver
        let hostname = self.configuration.hostname
        let logger = self.logger
        return try await BlockingWork.run {
            let root: PreparedRoot
            if let image {
                // Detached: mounted in the container's mount namespace only (docs/agent.md).
                let rootfs = try images.createRootfs(image.record, containerID: containerID, detached: true)
                root = PreparedRoot(path: rootfs.path, image: (image.record.name, image.configuration), rootfs: rootfs)
            } else if case .directory(let path) = plan.root {
                root = PreparedRoot(path: path)
            } else {
                throw BerthError(.invalidState, "no image was resolved for the task's root filesystem")
            }
            // Once started, the container's mount namespace holds the rootfs; so does a failed
            // start's cleanup, which removes it.
            defer { root.rootfs?.closeDetachedMount() }
            do {
                try Directories.create(sandbox)
                let stdout = try Self.openLog(sandbox + "/stdout")
                defer { close(stdout) }
                let stderr = try Self.openLog(sandbox + "/stderr")
                defer { close(stderr) }
                let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
                defer { if null >= 0 { close(null) } }
                var configuration = try plan.containerConfiguration(rootfs: root.path, image: root.image, sandbox: sandbox,
                                                                    stdio: [null >= 0 ? null : nil, stdout, stderr], hostname: hostname)
                configuration.rootfsMount = root.rootfs?.detachedMount
                configuration.rootfsLock = driver.containersOutliveAgent ? root.rootfs?.lockDescriptor : nil
                let container = try driver.start(id: containerID, configuration: configuration, sandbox: sandbox)
                // The supervisor holds the lock now (see ContainerRootfs.closeLock).
                if configuration.rootfsLock != nil { root.rootfs?.closeLock() }
                return (container, root)
            } catch {
                if let rootfs = root.rootfs {
                    do { try rootfs.remove() } catch { logger.warning("remove the rootfs of container \(containerID.prefix(12)): \(error)") }
                }
                throw error
            }
        }
    }

    private static func openLog(_ path: String) throws -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SystemError("open \(path)", errno: errno) }
        return fd
    }
}
