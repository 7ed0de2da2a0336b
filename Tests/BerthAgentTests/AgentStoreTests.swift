@testable import BerthAgent
import BerthCore
import BerthProtocol
import Foundation
import Testing

/// The agent's files, its flags' parsers and resource detection: no root needed.
struct AgentStoreTests {
    static func temporaryStore() throws -> AgentStore {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("berth-agent-store-\(UUID().uuidString)").path
        let store = AgentStore(root: root)
        try store.create()
        return store
    }

    @Test(arguments: [
        ("task-1_a.b", "task-1_a.b"),
        ("../etc", "%2E.%2Fetc"),
        (".hidden", "%2Ehidden"),
        ("a/b", "a%2Fb"),
        ("", "%"),
        ("é", "%C3%A9"),
    ])
    func idsBecomeSafePathComponents(_ id: String, _ expected: String) {
        #expect(AgentStore.component(id) == expected)
    }

    @Test func theAgentIDAndTaskCheckpointsSurviveAReload() throws {
        let store = try Self.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: store.root) }
        #expect(try store.loadAgentID() == nil)
        try store.saveAgentID("abc-S1")
        #expect(try AgentStore(root: store.root).loadAgentID() == "abc-S1")

        let status = TaskStatus(taskID: "t/1", state: .running, uuid: "AAAA")
        let task = TaskInfo(name: "t", taskID: "t/1", agentID: "abc-S1", resources: try Resources.parse("cpus:1"))
        try store.save(TaskCheckpoint(frameworkID: "f1", task: task, containerID: "c1", latest: status, pending: [status]), sequence: 1)
        let (loaded, problems) = store.loadAll()
        #expect(problems.isEmpty)
        #expect(loaded.map(\.checkpoint.task.taskID) == ["t/1"])
        #expect(loaded.first?.checkpoint.pending == [status])
        #expect(loaded.first?.sequence == 1)
        store.remove(framework: "f1", task: "t/1")
        #expect(store.loadAll().tasks.isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.tasksDirectory + "/f1").isEmpty)
    }

    /// Two slots written in turn: a crash in the middle of a write leaves the other slot, and a
    /// reader takes the newest complete one.
    @Test func theNewestCompleteSlotWinsAndATornOneIsPassedOver() throws {
        let store = try Self.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: store.root) }
        let task = TaskInfo(name: "t", taskID: "t1", agentID: "a-S1", resources: try Resources.parse("cpus:1"))
        func checkpoint(_ state: TaskState) -> TaskCheckpoint {
            let status = TaskStatus(taskID: "t1", state: state, uuid: state.rawValue)
            return TaskCheckpoint(frameworkID: "f1", task: task, latest: status, pending: [status])
        }
        let directory = store.tasksDirectory + "/f1"
        for (sequence, state) in [(1, TaskState.starting), (2, .running), (3, .finished)] {
            try store.save(checkpoint(state), sequence: UInt64(sequence))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == ["t1.ckpt0", "t1.ckpt1"])
        #expect(store.loadAll().tasks.map { "\($0.sequence) \($0.checkpoint.latest.state.rawValue)" } == ["3 TASK_FINISHED"])

        // Sequence 3 went to slot 1; cut it short, as a crash during its write would.
        let slot1 = directory + "/t1.ckpt1"
        let whole = try #require(FileManager.default.contents(atPath: slot1))
        try whole.prefix(whole.count - 5).write(to: URL(fileURLWithPath: slot1))
        let (loaded, problems) = store.loadAll()
        #expect(problems.isEmpty)
        #expect(loaded.map { "\($0.sequence) \($0.checkpoint.latest.state.rawValue)" } == ["2 TASK_RUNNING"])

        // The same length with a byte changed is caught by the checksum.
        var flipped = Array(whole)
        flipped[flipped.count - 3] ^= 0x01
        try Data(flipped).write(to: URL(fileURLWithPath: slot1))
        #expect(store.loadAll().tasks.map(\.sequence) == [2])

        // A new task of the same ID starts again at 1 (slot 1), over the 2 left in slot 0.
        try store.save(checkpoint(.staging), sequence: 1)
        #expect(store.loadAll().tasks.map { "\($0.sequence) \($0.checkpoint.latest.state.rawValue)" } == ["1 TASK_STAGING"])

        // Neither slot complete: reported, not fatal.
        for slot in ["t1.ckpt0", "t1.ckpt1"] {
            try Data("berth-checkpoint 1 9 2 0\n{".utf8).write(to: URL(fileURLWithPath: "\(directory)/\(slot)"))
        }
        let broken = store.loadAll()
        #expect(broken.tasks.isEmpty)
        #expect(broken.problems.count == 1 && broken.problems[0].contains("no complete checkpoint"))
    }

    /// Acknowledgements are written without an fsync, but only into the slot whose neighbour
    /// holds a synced copy: replaying a task's writes, after each one some slot holds a synced
    /// copy at least as new as the last change that had to survive a crash of the machine.
    @Test func unsyncedWritesNeverLeaveBothSlotsUnsynced() {
        // true: a new update (must survive); false: an acknowledgement.
        let changes = [true, false, false, false, true, false, true, true, false, false]
        var synced: UInt8 = 0
        var syncedCopyOf = [0, 0]  // per slot: the sequence of the synced copy it holds (0: none)
        var lastThatMustSurvive = 0
        var unsyncedWrites = 0
        for (index, mustSurvive) in changes.enumerated() {
            let sequence = UInt64(index + 1)
            let slot = Int(sequence % 2)
            let sync = CheckpointWriter.mustSync(changeMustSurvive: mustSurvive, sequence: sequence, syncedSlots: synced)
            if sync {
                synced |= 1 << slot
                syncedCopyOf[slot] = index + 1
            } else {
                synced &= ~(1 << slot)
                syncedCopyOf[slot] = 0
                unsyncedWrites += 1
            }
            if mustSurvive { lastThatMustSurvive = index + 1 }
            #expect(syncedCopyOf.max()! >= lastThatMustSurvive, "after write \(index + 1)")
        }
        // The first write has no synced neighbour; afterwards every other acknowledgement at least is unsynced.
        #expect(!CheckpointWriter.mustSync(changeMustSurvive: false, sequence: 2, syncedSlots: 0b10))
        #expect(CheckpointWriter.mustSync(changeMustSurvive: false, sequence: 1, syncedSlots: 0))
        #expect(unsyncedWrites >= 3)
    }

    /// An agent from before the slots left `<task>.json`: it is read, with sequence 0, until a
    /// slot is written; removal takes every file of the task.
    @Test func anOlderAgentsSingleFileIsReadUntilASlotReplacesIt() throws {
        let store = try Self.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: store.root) }
        let task = TaskInfo(name: "t", taskID: "t1", agentID: "a-S1", resources: try Resources.parse("cpus:1"))
        let running = TaskStatus(taskID: "t1", state: .running, uuid: "R")
        let directory = store.tasksDirectory + "/f1"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let legacy = TaskCheckpoint(frameworkID: "f1", task: task, latest: running, pending: [running])
        try JSONEncoder().encode(legacy).write(to: URL(fileURLWithPath: directory + "/t1.json"))
        #expect(store.loadAll().tasks.map { "\($0.sequence) \($0.checkpoint.latest.state.rawValue)" } == ["0 TASK_RUNNING"])

        let finished = TaskStatus(taskID: "t1", state: .finished, uuid: "F")
        try store.save(TaskCheckpoint(frameworkID: "f1", task: task, latest: finished, pending: [finished]), sequence: 1)
        #expect(store.loadAll().tasks.map { "\($0.sequence) \($0.checkpoint.latest.state.rawValue)" } == ["1 TASK_FINISHED"])
        store.remove(framework: "f1", task: "t1")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }

    /// Checkpoints are written with their TaskInfo's JSON spliced in; the document must hold every
    /// field the synthesized encoding has, and decode to the same values.
    @Test func aCheckpointWithItsTaskSplicedInHasEveryFieldAndReadsBack() throws {
        let store = try Self.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: store.root) }
        let running = TaskStatus(taskID: "t1", state: .running, message: "up \"quoted\"", uuid: "AAAA", healthy: true)
        let finished = TaskStatus(taskID: "t1", state: .finished, uuid: "BBBB")
        let task = TaskInfo(name: "t", taskID: "t1", agentID: "a-S1", resources: try Resources.parse("cpus:0.5;mem:64"),
                            command: CommandInfo(value: "echo hi"))
        var health = HealthState(check: HealthCheck(type: .tcp, tcp: .init(port: 80)), startedAt: 1_700_000_000)
        health.healthy = true
        let checkpoint = TaskCheckpoint(frameworkID: "f1", frameworkInfo: FrameworkInfo(user: "root", name: "fw", id: "f1"), task: task,
                                        containerID: "c1", latest: finished, pending: [running, finished], group: "g1", health: health)
        // Every optional field set, so that one added later and left out of the splice shows below.
        for child in Mirror(reflecting: checkpoint).children {
            #expect(!"\(child.value)".hasPrefix("nil"), "set \(child.label ?? "?") in this test")
        }

        let encodedTask = try store.save(checkpoint, sequence: 1)
        #expect(try JSONDecoder().decode(TaskInfo.self, from: Data(encodedTask)) == task)
        store.remove(framework: "f1", task: "t1")
        try store.save(checkpoint, sequence: 1, encodedTask: encodedTask)
        let (loaded, problems) = store.loadAll()
        #expect(problems.isEmpty)
        let reloaded = try #require(loaded.first?.checkpoint)
        #expect(reloaded.task == task && reloaded.frameworkInfo == checkpoint.frameworkInfo && reloaded.containerID == "c1")
        #expect(reloaded.latest == finished && reloaded.pending == [running, finished] && reloaded.group == "g1" && reloaded.health == health)

        let spliced = try AgentStore.checkpointJSON(checkpoint, encodedTask: encodedTask)
        let keys = { (json: [UInt8]) in try (JSONSerialization.jsonObject(with: Data(json)) as? [String: Any]).map { Set($0.keys) } }
        #expect(try keys(spliced) == keys(Array(JSONEncoder().encode(checkpoint))))
    }

    @Test func attributesParseAndBadOnesSayWhy() throws {
        #expect(try AgentConfiguration.parseAttributes("rack:a;zone:1") == [Attribute(name: "rack", value: "a"), Attribute(name: "zone", value: "1")])
        #expect(try AgentConfiguration.parseAttributes("") == [])
        #expect(throws: BerthError.self) { try AgentConfiguration.parseAttributes("rack") }
        #expect(throws: BerthError.self) { try AgentConfiguration.parseAttributes("rack:a;rack:b") }
    }

    @Test func detectedResourcesKeepSomeForTheHostAndGivenOnesWin() throws {
        #expect(HostResources.memoryMiB(meminfo: "MemTotal:        8048576 kB\nMemFree: 1 kB\n") == 7859)
        #expect(HostResources.offered(totalMiB: 8192, keepAtLeastMiB: 1024) == 7168)
        #expect(HostResources.offered(totalMiB: 1500, keepAtLeastMiB: 1024) == 750)
        let resolved = try HostResources.resolve(given: "cpus:1.5;gpus:1", workDirectory: "/")
        #expect(resolved.scalar(named: "cpus") == Scalar(parsing: "1.5"))
        #expect(resolved.scalar(named: "gpus") == Scalar(1))
        #expect(resolved.scalar(named: "mem") > .zero)
        #expect(resolved.scalar(named: "disk") > .zero)
        #expect(resolved.ranges(named: "ports") == (try Resources.parse("ports:[31000-32000]")).ranges(named: "ports"))
    }
}
