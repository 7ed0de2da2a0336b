import ArgumentParser
import AsyncHTTPClient
import BerthAgent
import BerthCoordinator
import BerthProtocol
import BerthRunCLI
import Foundation
import NIOCore

/// `berth task logs [-f] [--stderr] [--tail N] ID`: a task's stdout (or stderr) read from its
/// agent's sandbox through Mesos' files API, found through the coordinator's /state (which
/// agent, at what address) and the agent's /state (which directory).
struct TaskLogs: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Print a task's output (stdout, or --stderr) from its agent's sandbox.",
        discussion: """
            Works for running tasks and for ended ones whose sandbox the agent still keeps (until \
            its garbage collection). -f follows the output until the task ends, like docker logs -f. \
            Output rotated away by the agent's --log-max-size is in stdout.1, stdout.2, ... beside it.
            """)

    @Option(help: ArgumentHelp("The coordinator (default: $BERTH_COORDINATOR, else localhost:5050).", valueName: "host:port"))
    var coordinator: String?

    @Option(help: ArgumentHelp("The task's framework, when two frameworks have tasks of that ID.", valueName: "id"))
    var framework: String?

    @Flag(name: .shortAndLong, help: "Follow the output until the task ends.")
    var follow = false

    @Flag(help: "Print the task's stderr instead of its stdout.")
    var stderr = false

    @Option(help: ArgumentHelp("Print only the last N lines (then follow with -f).", valueName: "N"))
    var tail: Int?

    @Argument(help: "The task's ID (berth task ls --all shows them).")
    var taskID: String

    func validate() throws {
        if let tail, tail < 0 { throw ValidationError("--tail \(tail): give a number of lines from 0") }
    }

    func run() throws {
        let address = CoordinatorAddress(coordinator)
        let state = try address.state().document
        // Also frameworks that have gone away (`berth task run` tears its own down at the end).
        let matches = (state.completedFrameworks + state.frameworks).flatMap { $0.tasks + $0.completedTasks }
            .filter { $0.id == taskID && (framework == nil || $0.frameworkID == framework) }
        guard let task = matches.last else {
            throw fail("the coordinator at \(address.url) knows no task \(taskID)\(framework.map { " of framework \($0)" } ?? ""); `berth task ls --all` lists the tasks it knows")
        }
        if Set(matches.map(\.frameworkID)).count > 1 {
            throw fail("frameworks \(matches.map(\.frameworkID).sorted().joined(separator: ", ")) each have a task \(taskID): choose one with --framework")
        }
        guard let agent = state.slaves.first(where: { $0.id == task.slaveID }) else {
            throw fail("task \(taskID) ran on agent \(task.slaveID), which the coordinator no longer knows: its logs are in that host's HOME/agent/sandboxes")
        }
        guard let agentURL = agent.url else {
            throw fail("agent \(agent.id) (\(agent.hostname)) did not advertise an HTTP endpoint (started without --listen, or an older berth): its logs are in that host's HOME/agent/sandboxes")
        }
        let reader = LogFollower(agentURL: agentURL, agentName: "\(agent.id) (\(agent.hostname))", frameworkID: task.frameworkID, taskID: taskID,
                                 file: stderr ? "stderr" : "stdout", tail: tail, follow: follow,
                                 launching: !(BerthProtocol.TaskState(rawValue: task.state)?.isTerminal ?? true))
        do {
            try Blocking.run { try await reader.run() }
        } catch let error as LogFollower.Failure {
            throw fail(error.message)
        }
    }

    /// Says why on stderr; the command then ends with status 1.
    private func fail(_ message: String) -> ExitStatusError {
        Terminal.error(message)
        return ExitStatusError(code: 1)
    }
}

/// Reads one sandbox file of one task from its agent, in chunks, and follows it when asked.
struct LogFollower: Sendable {
    let agentURL: String
    let agentName: String
    let frameworkID: String
    let taskID: String
    let file: String
    let tail: Int?
    let follow: Bool
    /// The coordinator has the task live: an agent that does not know it yet is about to.
    let launching: Bool

    struct Failure: Error {
        let message: String
        /// The file is not there (yet: a task still starting has no output files).
        var missing = false
    }

    private struct Chunk: Decodable {
        var data: String
        var offset: Int
        var length: Int?
    }

    private enum Where {
        case live(directory: String, ended: Bool)
        case completed(directory: String)
        case gone
    }

    func run() async throws {
        var configuration = HTTPClient.Configuration()
        // A stopped agent should be said at once, not retried until a deadline.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(5)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            try await stream(client)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    private func stream(_ client: HTTPClient) async throws {
        var place = try await locate(client)
        // Just launched: the LAUNCH may not have reached the agent yet.
        let deadline = ContinuousClock.now + .seconds(30)
        while follow, launching, case .gone = place, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(300))
            place = try await locate(client)
        }
        let directory: String
        switch place {
        case .live(let found, _), .completed(let found): directory = found
        case .gone:
            throw Failure(message: "the sandbox of task \(taskID) is no longer on agent \(agentName): the task ended and its sandbox was removed by garbage collection (see the agent's --gc-delay)")
        }
        let path = directory + "/" + file
        var offset = 0
        var started = false
        while true {
            do {
                if !started { offset = try await startOffset(client, path: path) }
                started = true
                offset = try await copy(client, path: path, from: offset)
            } catch let failure as Failure where failure.missing {
                // A task that is still starting has no sandbox files yet: wait for them.
                guard follow, case .live(_, ended: false) = place else { throw failure }
            }
            guard follow, case .live(_, ended: false) = place else { return }
            try await Task.sleep(for: .milliseconds(300))
            place = try await locate(client)
            if case .live(_, ended: false) = place { continue }
            // The task ended: what it wrote last is in the file by now (the supervisor drains
            // its pipes before it records the exit).
            if !started { offset = try await startOffset(client, path: path) }
            _ = try await copy(client, path: path, from: offset)
            return
        }
    }

    /// Where reading starts: 0, or the beginning of the last --tail lines.
    private func startOffset(_ client: HTTPClient, path: String) async throws -> Int {
        let size = try await read(client, path: path, offset: -1, length: nil).offset
        guard let tail else { return 0 }
        var window = 64 << 10
        while true {
            let from = max(0, size - window)
            let bytes = try await readBytes(client, path: path, from: from, to: size)
            if let start = LogTail.start(of: bytes, lines: tail, isWholeFile: from == 0) { return from + start }
            window *= 4
        }
    }

    private func readBytes(_ client: HTTPClient, path: String, from: Int, to end: Int) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        var offset = from
        while offset < end {
            let chunk = try await read(client, path: path, offset: offset, length: end - offset)
            let length = chunk.length ?? chunk.data.utf8.count
            guard length > 0 else { break }
            bytes += Array(chunk.data.utf8)
            offset += length
        }
        return bytes
    }

    /// Prints everything from `offset` to the file's current end; returns the new offset. A
    /// file shorter than `offset` was rotated: the rest of it is in `FILE.1`.
    private func copy(_ client: HTTPClient, path: String, from start: Int) async throws -> Int {
        var offset = start
        let size = try await read(client, path: path, offset: -1, length: nil).offset
        if size < offset {
            _ = try? await drain(client, path: path + ".1", from: offset)
            offset = 0
        }
        return try await drain(client, path: path, from: offset)
    }

    private func drain(_ client: HTTPClient, path: String, from start: Int) async throws -> Int {
        var offset = start
        while true {
            let chunk = try await read(client, path: path, offset: offset, length: nil)
            let length = chunk.length ?? chunk.data.utf8.count
            if length == 0 { return offset }
            FileHandle.standardOutput.write(Data(chunk.data.utf8))
            offset += length
        }
    }

    private func read(_ client: HTTPClient, path: String, offset: Int, length: Int?) async throws -> Chunk {
        var query = URLComponents()
        query.queryItems = [URLQueryItem(name: "path", value: path), URLQueryItem(name: "offset", value: String(offset))]
            + (length.map { [URLQueryItem(name: "length", value: String($0))] } ?? [])
        let (status, body) = try await get(client, "/files/read?" + (query.percentEncodedQuery ?? ""))
        switch status {
        case 200:
            do { return try JSONDecoder().decode(Chunk.self, from: body) } catch {
                throw Failure(message: "agent \(agentName) answered /files/read with something other than a file chunk: \(error)")
            }
        case 404:
            throw Failure(message: "\(file) of task \(taskID) is not on agent \(agentName): \(String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))",
                          missing: true)
        default:
            throw Failure(message: "agent \(agentName) refused to read \(path): HTTP \(status): \(String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }

    /// Whether the agent runs the task (and whether it ended), or keeps its sandbox.
    private func locate(_ client: HTTPClient) async throws -> Where {
        let (status, body) = try await get(client, "/state")
        guard status == 200, let state = try? JSONDecoder().decode(AgentStateDocument.self, from: body) else {
            throw Failure(message: "agent \(agentName) at \(agentURL) did not answer GET /state with its state (HTTP \(status))")
        }
        if let task = state.tasks.first(where: { $0.taskID.value == taskID && $0.frameworkID.value == frameworkID }) {
            return .live(directory: task.directory, ended: task.state.isTerminal)
        }
        if let sandbox = state.completedSandboxes.first(where: { $0.taskID.value == taskID && $0.frameworkID.value == frameworkID }) {
            return .completed(directory: sandbox.directory)
        }
        return .gone
    }

    private func get(_ client: HTTPClient, _ pathAndQuery: String) async throws -> (Int, Data) {
        do {
            let response = try await client.execute(HTTPClientRequest(url: agentURL + pathAndQuery), timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 8 << 20)
            return (Int(response.status.code), Data(body.readableBytesView))
        } catch {
            let text = CoordinatorOptions.oneLine(error)
            let reason = text.contains("Connection refused") ? "connection refused" : text
            throw Failure(message: "cannot reach agent \(agentName) at \(agentURL): \(reason); is it running, and is its --listen address reachable from here?")
        }
    }
}
