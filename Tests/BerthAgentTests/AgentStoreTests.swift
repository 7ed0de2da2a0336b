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
        try store.save(TaskCheckpoint(frameworkID: "f1", task: task, containerID: "c1", latest: status, pending: [status]))
        let (loaded, problems) = store.loadAll()
        #expect(problems.isEmpty)
        #expect(loaded.map(\.task.taskID) == ["t/1"])
        #expect(loaded.first?.pending == [status])
        store.remove(framework: "f1", task: "t/1")
        #expect(store.loadAll().tasks.isEmpty)
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

        let encodedTask = try store.save(checkpoint)
        #expect(try JSONDecoder().decode(TaskInfo.self, from: Data(encodedTask)) == task)
        store.remove(framework: "f1", task: "t1")
        try store.save(checkpoint, encodedTask: encodedTask)
        let (loaded, problems) = store.loadAll()
        #expect(problems.isEmpty)
        let reloaded = try #require(loaded.first)
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
