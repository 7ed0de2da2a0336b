import BerthCore
import BerthLinux
import BerthProtocol
import Foundation
import Glibc

/// A task as the agent knows it: which framework, what it was asked to run, which container
/// runs it, and its status updates not yet acknowledged (the head is the one in flight).
struct TaskCheckpoint: Codable, Sendable {
    var frameworkID: FrameworkID
    var frameworkInfo: FrameworkInfo?
    var task: TaskInfo
    /// Set just before the container starts, so a restarted agent can adopt (or clean up) it.
    var containerID: String?
    /// The latest state the agent reported (acknowledged or not).
    var latest: TaskStatus
    var pending: [TaskStatus]
    /// The LAUNCH_GROUP it came in (its executor's ID): the tasks of a group start together and
    /// end together when one of them fails.
    var group: String?
    /// The health checker's state, so a restarted agent resumes it without reporting again.
    var health: HealthState?
}

/// A checkpoint's fields but its task, under TaskCheckpoint's own keys (`AgentStore.checkpointJSON`).
private struct CheckpointWithoutTask: Encodable {
    let checkpoint: TaskCheckpoint

    func encode(to encoder: any Encoder) throws {
        try checkpoint.encodeAllButTask(to: encoder)
    }
}

extension TaskCheckpoint {
    /// Every field but `task`: one added to TaskCheckpoint goes here too (AgentStoreTests
    /// compares the keys with those of the synthesized encoding).
    fileprivate func encodeAllButTask(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(frameworkID, forKey: .frameworkID)
        try container.encodeIfPresent(frameworkInfo, forKey: .frameworkInfo)
        try container.encodeIfPresent(containerID, forKey: .containerID)
        try container.encode(latest, forKey: .latest)
        try container.encode(pending, forKey: .pending)
        try container.encodeIfPresent(group, forKey: .group)
        try container.encodeIfPresent(health, forKey: .health)
    }
}

/// The agent's files under `<home>/agent`:
/// - `agent_id`: the ID the coordinator gave at the first registration;
/// - `tasks/<framework>/<task>.json`: a `TaskCheckpoint`, rewritten (atomically, synced) before
///   any status update in it is sent, so no update is lost when the agent dies;
/// - `sandboxes/<framework>/<task>/`: the task's `stdout` and `stderr`, kept after it ends until
///   garbage collection (`Agent.collectGarbage`).
struct AgentStore: Sendable {
    let root: String

    var agentIDFile: String { root + "/agent_id" }
    var tasksDirectory: String { root + "/tasks" }

    func create() throws {
        for directory in [root, tasksDirectory, root + "/sandboxes"] {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw BerthError(.system, "create the agent directory \(directory): \(error.localizedDescription); is --home writable?")
            }
        }
    }

    func loadAgentID() throws -> AgentID? {
        guard FileManager.default.fileExists(atPath: agentIDFile) else { return nil }
        let text = try String(contentsOfFile: agentIDFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : AgentID(text)
    }

    func saveAgentID(_ id: AgentID) throws {
        try Self.writeDurably(Data((id.value + "\n").utf8), to: agentIDFile)
    }

    func sandbox(framework: FrameworkID, task: TaskID) -> String {
        "\(root)/sandboxes/\(Self.component(framework.value))/\(Self.component(task.value))"
    }

    var sandboxesDirectory: String { root + "/sandboxes" }

    /// Every sandbox on disk, with the IDs its path encodes.
    func sandboxes() -> [(framework: FrameworkID, task: TaskID, directory: String)] {
        let fm = FileManager.default
        var found: [(framework: FrameworkID, task: TaskID, directory: String)] = []
        for framework in (try? fm.contentsOfDirectory(atPath: sandboxesDirectory)) ?? [] {
            guard let frameworkID = Self.decode(framework) else { continue }
            for task in (try? fm.contentsOfDirectory(atPath: "\(sandboxesDirectory)/\(framework)")) ?? [] {
                guard let taskID = Self.decode(task) else { continue }
                found.append((FrameworkID(frameworkID), TaskID(taskID), "\(sandboxesDirectory)/\(framework)/\(task)"))
            }
        }
        return found
    }

    /// The inverse of `component`; nil for a name it cannot have made.
    static func decode(_ component: String) -> String? {
        if component == "%" { return "" }
        var bytes: [UInt8] = []
        var utf8 = component.utf8[...]
        while let byte = utf8.popFirst() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard utf8.count >= 2, let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) else { return nil }
            bytes.append(value)
            utf8 = utf8.dropFirst(2)
        }
        return String(bytes: bytes, encoding: .utf8)
    }

    private func checkpointFile(framework: FrameworkID, task: TaskID) -> String {
        "\(tasksDirectory)/\(Self.component(framework.value))/\(Self.component(task.value)).json"
    }

    /// Writes the checkpoint. `encodedTask` is its TaskInfo as an earlier save of the same task
    /// returned it: a TaskInfo never changes, and encoding it was most of the cost of each of a
    /// task's checkpoint writes.
    @discardableResult
    func save(_ checkpoint: TaskCheckpoint, encodedTask: [UInt8]? = nil) throws -> [UInt8] {
        let file = checkpointFile(framework: checkpoint.frameworkID, task: checkpoint.task.taskID)
        let directory = (file as NSString).deletingLastPathComponent
        // Most saves go to a framework directory that exists: one stat, not FileManager's walk.
        var info = stat()
        if stat(directory, &info) != 0 {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let task = try encodedTask ?? Array(Self.checkpointEncoder.encode(checkpoint.task))
        try Self.writeDurably(Self.checkpointJSON(checkpoint, encodedTask: task), to: file)
        return task
    }

    /// The document `JSONEncoder` writes for the checkpoint, with the task's JSON spliced in as
    /// bytes: the same fields, in another order, which decoding does not care about.
    static func checkpointJSON(_ checkpoint: TaskCheckpoint, encodedTask: [UInt8]) throws -> [UInt8] {
        // `{...}` with frameworkID and latest at least: never empty.
        let rest = try checkpointEncoder.encode(CheckpointWithoutTask(checkpoint: checkpoint))
        var json = Array(#"{"task":"#.utf8)
        json.reserveCapacity(json.count + encodedTask.count + rest.count)
        json += encodedTask
        json.append(UInt8(ascii: ","))
        json += rest.dropFirst()
        return json
    }

    /// MesosJSON's field names without its sorted keys: sorting every object is a tenth of the
    /// encoding's cost, and a checkpoint is read back by this code only.
    private static var checkpointEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }

    func remove(framework: FrameworkID, task: TaskID) {
        try? FileManager.default.removeItem(atPath: checkpointFile(framework: framework, task: task))
    }

    /// Every task checkpoint on disk; an unreadable one is reported, not fatal.
    func loadAll() -> (tasks: [TaskCheckpoint], problems: [String]) {
        var tasks: [TaskCheckpoint] = []
        var problems: [String] = []
        let fm = FileManager.default
        for framework in (try? fm.contentsOfDirectory(atPath: tasksDirectory)) ?? [] {
            let directory = "\(tasksDirectory)/\(framework)"
            for file in (try? fm.contentsOfDirectory(atPath: directory)) ?? [] where file.hasSuffix(".json") {
                do {
                    let data = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(file)"))
                    tasks.append(try MesosJSON.decode(TaskCheckpoint.self, from: data, what: "task checkpoint \(directory)/\(file)"))
                } catch {
                    problems.append("\(directory)/\(file): \(error)")
                }
            }
        }
        return (tasks, problems)
    }

    /// IDs are chosen by frameworks: anything but letters, digits, "-", "_" and inner "." is
    /// percent-encoded, so an ID can never name a path outside its directory.
    static func component(_ id: String) -> String {
        var out = ""
        for (index, byte) in id.utf8.enumerated() {
            let c = Character(Unicode.Scalar(byte))
            if c.isASCII, c.isLetter || c.isNumber || c == "-" || c == "_" || (c == "." && index > 0) {
                out.append(c)
            } else {
                out += String(format: "%%%02X", byte)
            }
        }
        return out.isEmpty ? "%" : out
    }

    /// Temporary file, fsync, rename, fsync of the directory: after it returns the content
    /// survives a crash of the agent or of the machine, and a reader never sees half a file.
    static func writeDurably(_ data: some Collection<UInt8>, to path: String) throws {
        do {
            try FileSystem.write(data, to: path, mode: 0o600, durably: true)
        } catch let error as SystemError {
            throw BerthError(.system, "\(error.step): \(String(cString: strerror(error.errno)))")
        }
    }
}
