import AsyncHTTPClient
import BerthAgent
import BerthCore
import BerthImage
import BerthProtocol
import BerthTestSupport
import Dispatch
import Foundation
import Testing

/// `berth task logs` against a real coordinator and agent, stdout/stderr rotation by the
/// supervisor, and garbage collection of ended sandboxes. Serialized, and on its own in
/// scripts/test.sh: the leftover checks look at the whole host.
@Suite("task logs end to end", .serialized, .requiresRoot)
struct TaskLogsEndToEndTests {
    /// `berth ARGS...` off the cooperative pool, which the in-process agent and coordinator need.
    static func berth(_ arguments: [String]) async throws -> CommandResult {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try Fixtures.berth(arguments) }) }
        }
    }

    static func coordinator(_ cluster: Cluster) -> String { String(cluster.coordinator.url.dropFirst("http://".count)) }

    @Test(arguments: [false, true]) func logsShowAFinishedTasksOutput(supervised: Bool) async throws {
        try await withCluster(supervised: supervised) { cluster in
            let task = try await cluster.launch("talker", command: CommandInfo(value: "for i in 1 2 3 4 5; do echo line $i; done; echo oops >&2"))
            _ = try await cluster.scheduler.update(task, .finished)
            let address = Self.coordinator(cluster)
            let stdout = try await Self.berth(["task", "logs", "--coordinator", address, "talker"])
            #expect(stdout.status == 0, "\(stdout)")
            #expect(stdout.stdout == "line 1\nline 2\nline 3\nline 4\nline 5\n", "\(stdout)")
            let stderr = try await Self.berth(["task", "logs", "--coordinator", address, "--stderr", "talker"])
            #expect(stderr.stdout == "oops\n", "\(stderr)")
            let tail = try await Self.berth(["task", "logs", "--coordinator", address, "--tail", "2", "talker"])
            #expect(tail.stdout == "line 4\nline 5\n", "\(tail)")
            let unknown = try await Self.berth(["task", "logs", "--coordinator", address, "nosuch"])
            #expect(unknown.status == 1 && unknown.stderr.contains("knows no task nosuch"), "\(unknown)")
            // The files API refuses what is not in a sandbox, with a status and a reason.
            for (path, status) in [("/etc/passwd", 403), ("etc/passwd", 400), (cluster.sandbox(task) + "/../../x", 400), (cluster.sandbox(task) + "/none", 404)] {
                let url = cluster.agentURL + "/files/read?offset=0&path=" + (path.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? path)
                let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
                let body = String(buffer: try await response.body.collect(upTo: 1 << 16))
                #expect(Int(response.status.code) == status && !body.isEmpty, "\(path): \(response.status) \(body)")
            }
        }
    }

    @Test func followPrintsARunningTasksOutputUntilItEnds() async throws {
        try await withCluster(supervised: true) { cluster in
            // Followed from the launch on: before the agent has the task or its sandbox files.
            let task = try await cluster.launch("slow", command: CommandInfo(value: "echo first; sleep 2; echo second; exit 3"))
            let started = ContinuousClock.now
            let result = try await Self.berth(["task", "logs", "-f", "--coordinator", Self.coordinator(cluster), "slow"])
            // It waited for the task's second line, two seconds after its first.
            #expect(ContinuousClock.now - started > .seconds(1), "\(result)")
            #expect(result.status == 0, "\(result)")
            #expect(result.stdout == "first\nsecond\n", "\(result)")
            #expect(await cluster.scheduler.states(task).last == .failed)
        }
    }

    @Test func anAgentThatDoesNotAnswerIsSaidSo() async throws {
        try await withCluster(supervised: false) { cluster in
            let task = try await cluster.launch("quiet", command: CommandInfo(value: "echo hi"))
            _ = try await cluster.scheduler.update(task, .finished)
            await cluster.agentGroup.triggerGracefulShutdown()
            try await cluster.agentRunning.value
            let logs = try await Self.berth(["task", "logs", "--coordinator", Self.coordinator(cluster), "quiet"])
            #expect(logs.status == 1 && logs.stderr.contains("cannot reach agent") && logs.stderr.contains("connection refused"), "\(logs)")
        }
    }

    @Test func rotationKeepsTheLogFilesBounded() async throws {
        try await withCluster(supervised: true, configure: { $0.logRotation = .init(maxSize: 1000, keep: 2) }) { cluster in
            // 300 lines of 10 bytes: 3000 bytes through a 1000-byte limit.
            let task = try await cluster.launch("chatty", command: CommandInfo(value: "i=0; while [ $i -lt 300 ]; do printf 'line %04d\\n' $i; i=$((i+1)); done"))
            _ = try await cluster.scheduler.update(task, .finished)
            let sandbox = cluster.sandbox(task)
            let files = try FileManager.default.contentsOfDirectory(atPath: sandbox).filter { $0.hasPrefix("stdout") }.sorted()
            #expect(files == ["stdout", "stdout.1", "stdout.2"])
            for file in files {
                let size = try FileManager.default.attributesOfItem(atPath: sandbox + "/" + file)[.size] as? Int ?? -1
                #expect(size <= 1000 && size > 0, "\(file): \(size) bytes")
            }
            let newest = try String(contentsOfFile: sandbox + "/stdout", encoding: .utf8)
            #expect(newest.hasSuffix("line 0299\n"), "\(newest)")
            let logs = try await Self.berth(["task", "logs", "--coordinator", Self.coordinator(cluster), "chatty"])
            #expect(logs.stdout == newest, "\(logs)")
        }
    }

    @Test func aFinishedSandboxIsCollectedWhenItsDelayIsOver() async throws {
        try await withCluster(supervised: false, configure: {
            $0.garbageCollection.sandboxDelay = .milliseconds(500)
            $0.garbageCollection.interval = .milliseconds(200)
        }) { cluster in
            let task = try await cluster.launch("brief", command: CommandInfo(value: "echo bye"))
            _ = try await cluster.scheduler.update(task, .finished)
            let sandbox = cluster.sandbox(task)
            let deadline = ContinuousClock.now + .seconds(15)
            while FileManager.default.fileExists(atPath: sandbox), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(!FileManager.default.fileExists(atPath: sandbox), "the sandbox is still there after 15 s")
            #expect(await cluster.agent.metricsSnapshot().values["berth/agent/sandboxes_collected"] == 1)
            let logs = try await Self.berth(["task", "logs", "--coordinator", Self.coordinator(cluster), "brief"])
            #expect(logs.status == 1 && logs.stderr.contains("removed by garbage collection"), "\(logs)")
        }
    }

    @Test(.requiresRegistry) func unusedImagesAreCollectedButNotOneATaskRunsFrom() async throws {
        try await withCluster(supervised: false, configure: {
            $0.garbageCollection.imageUnusedFor = .seconds(3)
            $0.garbageCollection.interval = .milliseconds(200)
        }) { cluster in
            let layout = try ImageFixtures.layout()
            for name in ["local/fixture", "local/other"] {
                let imported = try await Self.berth(["image", "import", "--home", cluster.home, "--name", name, layout])
                #expect(imported.status == 0, "\(imported)")
            }
            let container: JSONValue = .object(["type": .string("MESOS"), "mesos": .object(["image": .object([
                "type": .string("DOCKER"), "docker": .object(["name": .string("local/fixture:multi")])])])])
            let task = try await cluster.launch("keeper", command: CommandInfo(value: "exec sleep 30"), container: container,
                                                killPolicy: KillPolicy(gracePeriod: DurationInfo(nanoseconds: 100_000_000)))
            _ = try await cluster.scheduler.update(task, .running)
            let images = try LocalImages(home: BerthHome(root: cluster.home), logger: Cluster.logger)
            let deadline = ContinuousClock.now + .seconds(20)
            while try images.find("local/other:multi") != nil, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(try images.find("local/other:multi") == nil, "the unused image is still there after 20 s")
            #expect(try images.find("local/fixture:multi") != nil, "the image of a running task was removed")
        }
    }
}
