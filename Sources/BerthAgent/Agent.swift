import AsyncHTTPClient
import BerthCgroups
import BerthCore
import BerthImage
import BerthProtocol
import BerthRuntime
import Foundation
import Glibc
import Logging

/// The agent: the tasks it runs and their status update streams. One actor owns that state;
/// the connection to the coordinator (Agent+Connection), launches (Agent+Tasks) and kills
/// (Agent+Kill) are its parts. Every status change goes through `report`, which checkpoints
/// it to disk before anything is sent.
public actor Agent {
    public let configuration: AgentConfiguration
    let store: AgentStore
    let images: LocalImages
    let cgroups: any CgroupManager
    let driver: any ContainerDriver
    let transport: CoordinatorTransport
    let logger: Logger

    /// Given by the coordinator at the first registration; kept on disk.
    public internal(set) var agentID: AgentID?
    /// The open REGISTER stream's ID; nil while disconnected (updates then wait).
    var streamID: String?
    var heartbeatInterval: Duration = .seconds(15)
    var currentSession: Task<Void, any Error>?
    var tasks: [TaskKey: AgentTask] = [:]
    /// Checkpoint writes per task (Agent+Checkpoints).
    var writers: [TaskKey: CheckpointWriter] = [:]
    var counters = AgentCounters()
    /// LAUNCH_GROUPs with a task still here, by group ID.
    var launchGroups: [String: LaunchGroup] = [:]
    /// Where the agent's HTTP endpoint is reached, once it listens: advertised in REGISTER.
    var httpAddress: (ip: String, port: Int)?
    /// The first registration released the pages only start-up used (ExecutablePages).
    var releasedStartupPages = false

    struct TaskKey: Hashable, Sendable, CustomStringConvertible {
        var framework: FrameworkID
        var task: TaskID
        var description: String { "\(framework.value)/\(task.value)" }
    }

    enum Phase {
        /// Pulling, unpacking, starting: no container to signal yet.
        case launching
        case running(any TaskContainer)
        /// The container is gone; the task stays until its last update is acknowledged.
        case exited
    }

    struct KillRequest {
        var gracePeriod: Duration
        /// Why, when not the framework's KILL: shutdown of the framework or of the agent.
        var cause: String?
        var escalated = false
    }

    struct AgentTask {
        var checkpoint: TaskCheckpoint
        /// The checkpoint's TaskInfo as JSON, from its first write on (`AgentStore.save`).
        var encodedTask: [UInt8]?
        /// The sequence of the checkpoint's last complete write: the next goes to the other slot.
        var checkpointSequence: UInt64 = 0
        /// Bit n: checkpoint slot n holds a copy this agent synced to disk (see `startWriting`).
        var syncedSlots: UInt8 = 0
        var phase: Phase = .launching
        var kill: KillRequest?
        /// When the head of `checkpoint.pending` is (re)sent next, and the wait after that.
        var due: ContinuousClock.Instant?
        var retry: Duration
        /// Updates by UUID whose checkpoint write (that version) may not be on disk yet.
        var unwritten: [String: Int] = [:]
        /// The image the task runs from, while it launches: kept from image garbage collection.
        var image: String?
        /// Its container was adopted from a previous run of the agent, which may have held the
        /// lock on the container's rootfs itself (agents before the supervisor held it): image
        /// garbage collection cannot be sure it sees it in use.
        var adopted = false
    }

    public init(configuration: AgentConfiguration, logger: Logger, httpClient: HTTPClient = .shared) throws {
        self.configuration = configuration
        self.logger = logger
        store = AgentStore(root: configuration.stateDirectory)
        try store.create()
        images = try LocalImages(home: configuration.home, logger: logger)
        cgroups = try Cgroups.detect(logger: logger)
        if let supervision = configuration.supervision {
            let containers = configuration.runtimeDirectory + "/containers"
            do {
                try Directories.create(containers, mode: 0o700)
            } catch {
                throw BerthError(.system, "create the agent's runtime directory \(containers): \(error); give --runtime-dir a writable directory, best on a tmpfs such as /run")
            }
            driver = SupervisedDriver(supervision: supervision, directory: containers, legacyDirectory: store.root + "/containers",
                                      cgroups: cgroups, logRotation: configuration.logRotation, logger: logger)
        } else {
            driver = InProcessDriver(cgroups: cgroups, logger: logger)
        }
        transport = CoordinatorTransport(coordinator: configuration.coordinator, http: httpClient)
        agentID = try store.loadAgentID()
    }

    /// Mesos' files API over this agent's sandboxes.
    nonisolated var sandboxFiles: SandboxFiles { SandboxFiles(root: store.sandboxesDirectory) }

    /// Which cgroup layout the containers get, for logs and status output.
    public nonisolated var cgroupSummary: String { cgroups.summary }

    /// The tasks not yet ended, for tests and status output.
    public func liveTasks() -> [TaskID] {
        tasks.filter { !$0.value.checkpoint.latest.state.isTerminal }.map(\.key.task).sorted()
    }

    // MARK: Status updates

    /// Records a task's new state: checkpointed first, then sent when it reaches the head of the
    /// task's queue. `source` is the executor's for what the container did, the agent's otherwise.
    /// `healthy` is the task's latest health check result unless given (nil without a check).
    /// Returns the version of the checkpoint write that holds the update (nil: no such task).
    @discardableResult
    func report(_ key: TaskKey, _ state: TaskState, message: String?, reason: Reason? = nil, source: StatusSource = .executor,
                healthy: Bool? = nil) -> Int? {
        guard var task = tasks[key] else { return nil }
        let status = TaskStatus(taskID: key.task, state: state, message: message, source: source, reason: reason, agentID: agentID,
                                timestamp: Date().timeIntervalSince1970, uuid: Self.newUUID(), healthy: healthy ?? task.checkpoint.health?.healthy)
        task.checkpoint.latest = status
        task.checkpoint.pending.append(status)
        counters.count(state, reason: reason)
        if task.checkpoint.pending.count == 1 {
            task.due = .now
            task.retry = configuration.statusRetryInterval
        }
        tasks[key] = task
        // Apart from the assignment: the write it starts reads `tasks`.
        let version = checkpoint(key)
        tasks[key]?.unwritten[status.uuid ?? ""] = version
        logger.info("task \(state.rawValue)", metadata: ["task": "\(key)", "message": "\(message ?? "")", "healthy": "\(status.healthy.map(String.init) ?? "-")"])
        flush(key)
        return version
    }

    /// Sends the head update of every task whose time has come, when connected.
    func flush() {
        let now = ContinuousClock.now
        for key in tasks.keys { flush(key, now: now) }
    }

    /// The same for one task: what a new update or an acknowledgement needs, without a walk
    /// over every task (thousands on a busy agent).
    func flush(_ key: TaskKey, now: ContinuousClock.Instant = .now) {
        guard let streamID, let agentID, let task = tasks[key], let head = task.checkpoint.pending.first,
              let due = task.due, due <= now else { return }
        // Not before a checkpoint holding it is on disk: the write calls flush when it is done.
        guard isWritten(key, version: task.unwritten[head.uuid ?? ""]) else { return }
        tasks[key]?.unwritten[head.uuid ?? ""] = nil
        tasks[key]?.due = now + task.retry
        tasks[key]?.retry = min(task.retry * 2, configuration.statusRetryMaximum)
        let call = AgentCall(type: .statusUpdate, agentID: agentID, statusUpdate: .init(frameworkID: key.framework, status: head))
        Task { await self.send(call, streamID: streamID) }
    }

    private func send(_ call: AgentCall, streamID: String) async {
        do {
            let code = try await transport.send(call, streamID: streamID)
            if code == 403 {
                rejected(streamID: streamID)
            } else if code != 202 {
                logger.warning("\(call.type.rawValue) answered HTTP \(code); retrying later")
            }
        } catch {
            logger.debug("\(call.type.rawValue) failed: \(error); retrying later")
        }
    }

    /// The coordinator forwarded the framework's ACKNOWLEDGE: the head is delivered; the next
    /// update goes out at once. A task that ended with everything acknowledged is forgotten.
    func acknowledged(_ ack: AgentEvent.Acknowledge) {
        let key = TaskKey(framework: ack.frameworkID, task: ack.taskID)
        guard var task = tasks[key], let head = task.checkpoint.pending.first, head.uuid == ack.uuid else {
            logger.debug("acknowledgement for no pending update", metadata: ["task": "\(key)", "uuid": "\(ack.uuid)"])
            return
        }
        task.checkpoint.pending.removeFirst()
        counters.acknowledgedUpdates += 1
        task.due = task.checkpoint.pending.isEmpty ? nil : .now
        task.retry = configuration.statusRetryInterval
        if task.checkpoint.pending.isEmpty, case .exited = task.phase {
            tasks[key] = nil
            removeCheckpoint(key)
            forgetGroupIfDone(task.checkpoint.group)
            // Its sandbox's garbage collection delay counts from now.
            utimes(store.sandbox(framework: key.framework, task: key.task), nil)
            return
        }
        tasks[key] = task
        // Lost in a crash of the machine, the acknowledgement only makes the update go out again.
        checkpoint(key, synced: false)
        flush(key)
    }

    static func newUUID() -> String { RandomUUID().base64 }

    // MARK: Recovery

    /// Loads the checkpoints of a previous run. Ended tasks keep their unacknowledged updates;
    /// running ones are adopted again when their supervisor (or its record of the exit) is
    /// there. The others are lost: their containers are removed and they are reported FAILED,
    /// so no framework waits on them forever.
    func recover() async {
        let (checkpoints, problems) = store.loadAll()
        for problem in problems { logger.error("unreadable task checkpoint: \(problem)") }
        for (checkpoint, sequence) in checkpoints {
            let key = TaskKey(framework: checkpoint.frameworkID, task: checkpoint.task.taskID)
            var task = AgentTask(checkpoint: checkpoint, phase: .exited, retry: configuration.statusRetryInterval)
            task.checkpointSequence = sequence
            if !checkpoint.pending.isEmpty { task.due = .now }
            tasks[key] = task
            guard !checkpoint.latest.state.isTerminal else { continue }
            if let id = checkpoint.containerID {
                if let container = driver.adopt(id: id, memoryLimit: TaskPlan.limits(of: checkpoint.task).memoryBytes) {
                    logger.info("adopted the container of task \(key)", metadata: ["container": "\(id.prefix(12))"])
                    tasks[key]?.phase = .running(container)
                    tasks[key]?.adopted = true
                    Task { await self.supervise(key, container, root: nil) }
                    startHealthChecks(key, container)
                    continue
                }
                let cgroups = self.cgroups
                do {
                    try await BlockingWork.run { try cgroups.open(name: "berth-\(id)")?.destroy() }
                } catch {
                    logger.warning("could not remove the cgroup berth-\(id) of task \(key): \(error)")
                }
                Container.removeLegacyState(of: id)
            }
            report(key, .failed, message: "the agent restarted and the task's container was lost (not started, or not supervised); the task was stopped",
                   reason: .agentRestarted, source: .agent)
        }
        if !checkpoints.isEmpty { logger.info("recovered \(checkpoints.count) task(s) from \(store.tasksDirectory)") }
    }
}
