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
/// - `tasks/<framework>/<task>.ckpt0` and `.ckpt1`: a `TaskCheckpoint` in two slots written in
///   turn (`save`), synced before any status update in it is sent, so no update is lost when
///   the agent dies (`<task>.json`: the single file of agents before the slots, still read);
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

    /// A task's checkpoint files without their suffix: `.ckpt0` and `.ckpt1` are its two slots,
    /// `.json` the single file of agents before them, still read.
    private func checkpointBase(framework: FrameworkID, task: TaskID) -> String {
        "\(tasksDirectory)/\(Self.component(framework.value))/\(Self.component(task.value))"
    }

    /// Writes the checkpoint as number `sequence` of its task (one more than the last written;
    /// the first is 1) into slot `sequence % 2`. The slots are written in turn, in place, so the
    /// one being written never holds the only complete copy, and once both exist a write is at most
    /// one fsync: no temporary file, rename and directory sync, and no new inode, per write.
    /// `encodedTask` is the TaskInfo as an earlier save of the task returned it: a TaskInfo never
    /// changes, and encoding it was most of the cost of each write. Unless `synced`, an existing
    /// slot is overwritten without an fsync (`Agent.startWriting` says when that is safe).
    @discardableResult
    func save(_ checkpoint: TaskCheckpoint, sequence: UInt64, encodedTask: [UInt8]? = nil, synced: Bool = true) throws -> [UInt8] {
        let base = checkpointBase(framework: checkpoint.frameworkID, task: checkpoint.task.taskID)
        let directory = (base as NSString).deletingLastPathComponent
        // Most saves go to a framework directory that exists: one stat, not FileManager's walk.
        var info = stat()
        if stat(directory, &info) != 0 {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let task = try encodedTask ?? Array(Self.checkpointEncoder.encode(checkpoint.task))
        let slot = Self.slotContents(try Self.checkpointJSON(checkpoint, encodedTask: task), sequence: sequence)
        try Self.sayingWhy { try FileSystem.overwrite(slot, at: "\(base).ckpt\(sequence % 2)", synced: synced) }
        // A task's first write: a slot 0 left by an earlier task of the same ID must not outrank it.
        if sequence == 1 { unlink("\(base).ckpt0") }
        return task
    }

    /// A slot: the header line `berth-checkpoint 1 SEQUENCE LENGTH FNV1A64` and the JSON. The
    /// length and checksum tell a complete slot from one a crash cut short.
    static func slotContents(_ json: [UInt8], sequence: UInt64) -> [UInt8] {
        let header = "berth-checkpoint 1 \(sequence) \(json.count) \(String(FNV1a.hash64(json), radix: 16))\n"
        return Array(header.utf8) + json
    }

    /// The sequence and JSON of a complete slot; nil for anything else.
    static func parseSlot(_ bytes: [UInt8]) -> (sequence: UInt64, json: ArraySlice<UInt8>)? {
        guard let newline = bytes.prefix(128).firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let fields = String(decoding: bytes[..<newline], as: UTF8.self).split(separator: " ")
        guard fields.count == 5, fields[0] == "berth-checkpoint", fields[1] == "1", let sequence = UInt64(fields[2]),
              let length = Int(fields[3]), let checksum = UInt64(fields[4], radix: 16) else { return nil }
        let json = bytes[(newline + 1)...]
        guard json.count == length, FNV1a.hash64(json) == checksum else { return nil }
        return (sequence, json)
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

    /// The older slot goes first: should the agent die between the two, what is left is the
    /// task's last state, not an earlier one.
    func remove(framework: FrameworkID, task: TaskID) {
        let base = checkpointBase(framework: framework, task: task)
        let slots = [".ckpt0", ".ckpt1"].map { suffix in
            (path: base + suffix, sequence: FileManager.default.contents(atPath: base + suffix).flatMap { Self.parseSlot(Array($0))?.sequence } ?? 0)
        }
        for slot in slots.sorted(by: { $0.sequence < $1.sequence }) { unlink(slot.path) }
        for suffix in [".json", ".json.tmp"] { unlink(base + suffix) }
    }

    static let checkpointSuffixes = [".ckpt0", ".ckpt1", ".json"]

    /// Every task checkpoint on disk, from its newest complete slot, with that slot's sequence
    /// (0 for an older agent's single `.json` file); an unreadable one is reported, not fatal.
    func loadAll() -> (tasks: [(checkpoint: TaskCheckpoint, sequence: UInt64)], problems: [String]) {
        var tasks: [(checkpoint: TaskCheckpoint, sequence: UInt64)] = []
        var problems: [String] = []
        let fm = FileManager.default
        for framework in (try? fm.contentsOfDirectory(atPath: tasksDirectory)) ?? [] {
            let directory = "\(tasksDirectory)/\(framework)"
            var files: [String: [String]] = [:]
            for file in (try? fm.contentsOfDirectory(atPath: directory)) ?? [] {
                guard let suffix = Self.checkpointSuffixes.first(where: { file.hasSuffix($0) }) else { continue }
                files[String(file.dropLast(suffix.count)), default: []].append(file)
            }
            for (base, names) in files.sorted(by: { $0.key < $1.key }) {
                var newest: (sequence: UInt64, json: ArraySlice<UInt8>, file: String)?
                for name in names where !name.hasSuffix(".json") {
                    guard let bytes = fm.contents(atPath: "\(directory)/\(name)").map(Array.init),
                          let slot = Self.parseSlot(bytes), slot.sequence >= newest?.sequence ?? 0 else { continue }
                    newest = (slot.sequence, slot.json, name)
                }
                let chosen: (sequence: UInt64, json: [UInt8], file: String)
                if let newest {
                    chosen = (newest.sequence, Array(newest.json), newest.file)
                } else if names.contains("\(base).json"), let bytes = fm.contents(atPath: "\(directory)/\(base).json") {
                    chosen = (0, Array(bytes), "\(base).json")
                } else {
                    problems.append("\(directory)/\(base): no complete checkpoint in \(names.sorted().joined(separator: ", "))")
                    continue
                }
                do {
                    let checkpoint = try MesosJSON.decode(TaskCheckpoint.self, from: Data(chosen.json),
                                                          what: "task checkpoint \(directory)/\(chosen.file)")
                    tasks.append((checkpoint, chosen.sequence))
                } catch {
                    problems.append("\(directory)/\(chosen.file): \(error)")
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
        try sayingWhy { try FileSystem.write(data, to: path, mode: 0o600, durably: true) }
    }

    /// A failed system call as the step and the errno's text.
    private static func sayingWhy(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as SystemError {
            throw BerthError(.system, "\(error.step): \(String(cString: strerror(error.errno)))")
        }
    }
}
