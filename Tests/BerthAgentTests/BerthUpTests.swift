import BerthCore
import BerthTestSupport
import Foundation
import Testing

/// `berth up` as a user runs it: one process with a coordinator and an agent, an imported
/// image, a task through `berth task run`, and a clean stop on SIGTERM.
@Suite(.serialized, .requiresRoot, .requiresRegistry) struct BerthUpTests {
    @Test func aSingleNodeClusterRunsATaskFromAnImportedImage() throws {
        let layout = try ImageFixtures.layout()
        let home = try TestRegistry.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let up = try SpawnedCommand([TestHost.berthBinary, "up", "--home", home, "--listen", "127.0.0.1:0", "--agent-listen", "127.0.0.1:0",
                                     "--import", "local/fixture=\(layout)"])
        up.waitForOutput("berth up: ready")
        let output = up.outputSoFar
        guard let address = output.split(separator: "\n").first(where: { $0.contains("ready:") })?
            .split(separator: " ").first(where: { $0.hasPrefix("127.0.0.1:") }).map(String.init) else {
            kill(up.pid, SIGKILL)
            throw FixtureError("no coordinator address in berth up's output: \(output)")
        }
        #expect(output.contains("imported docker.io/local/fixture:single"), "\(output)")

        let run = try Fixtures.berth(["task", "run", "--coordinator", address, "--image", "local/fixture:single", "--mem", "64",
                                      "--", "/bin/sh", "-c", "echo task $MESOS_TASK_ID; exit 4"])
        #expect(run.status == 4, "\(run)")
        #expect(run.stderr.contains("TASK_RUNNING"), "\(run)")
        #expect(run.stderr.contains("Command exited with status 4"), "\(run)")
        // The walk-through of the README: the task's ID from `berth task ls`, then its output.
        let list = try Fixtures.berth(["task", "ls", "--all", "--coordinator", address])
        let taskID = list.stdout.split(separator: "\n").dropFirst().first.flatMap { $0.split(separator: " ").first }.map(String.init) ?? ""
        let logs = try Fixtures.berth(["task", "logs", "--coordinator", address, taskID])
        #expect(logs.status == 0 && logs.stdout == "task \(taskID)\n", "\(list)\n\(logs)")
        let agents = try Fixtures.berth(["agent", "ls", "--coordinator", address])
        #expect(agents.stdout.split(separator: "\n").filter { $0.contains("active") }.count == 1, "\(agents)")

        kill(up.pid, SIGTERM)
        let stopped = try up.finish()
        #expect(stopped.status == 0, "\(stopped)")
    }
}
