import BerthCore
import Foundation

/// A real `berth agent` as a child process of the benchmark: its own process, so that its
/// memory and CPU can be read apart from the coordinator's and the framework's.
final class AgentProcess: @unchecked Sendable {
    let process = Process()
    let stderrPath: String
    /// `http://127.0.0.1:PORT`, the agent's own endpoint.
    private(set) var url = ""

    var pid: Int32 { process.processIdentifier }

    init(berth: String, arguments: [String], stderrPath: String) throws {
        self.stderrPath = stderrPath
        process.executableURL = URL(fileURLWithPath: berth)
        process.arguments = ["agent"] + arguments + ["--listen", "127.0.0.1:0"]
        guard FileManager.default.createFile(atPath: stderrPath, contents: nil),
              let log = FileHandle(forWritingAtPath: stderrPath) else {
            throw BerthError(.system, "cannot create \(stderrPath) for the agent's log")
        }
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        let pipe = Pipe()
        process.standardOutput = pipe
        do {
            try process.run()
        } catch {
            throw BerthError(.launch, "start \(berth) agent: \(error.localizedDescription)")
        }
        url = try Self.listeningURL(pipe.fileHandleForReading, stderrPath: stderrPath)
    }

    /// The agent prints "berth agent listening on http://HOST:PORT" on stdout once it listens.
    private static func listeningURL(_ output: FileHandle, stderrPath: String) throws -> String {
        var buffer = ""
        while true {
            let data = output.availableData
            guard !data.isEmpty else {
                let log = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
                throw BerthError(.launch, "berth agent exited before listening: \(log.suffix(2000))")
            }
            buffer += String(decoding: data, as: UTF8.self)
            if let range = buffer.range(of: "listening on "), let end = buffer[range.upperBound...].firstIndex(of: "\n") {
                return String(buffer[range.upperBound..<end])
            }
        }
    }

    /// SIGTERM, then SIGKILL after `grace`; waits for the exit.
    func stop(grace: Duration = .seconds(20)) async {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = ContinuousClock.now + grace
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// The agent's own cgroup in the memory hierarchy (v1) or the unified one (v2): container
    /// cgroups are created beneath it.
    func cgroupDirectory() -> String? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8) else { return nil }
        var unified: String?
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            if parts[1].split(separator: ",").contains("memory") { return "/sys/fs/cgroup/memory" + parts[2] }
            if parts[0] == "0" { unified = "/sys/fs/cgroup" + parts[2] }
        }
        return unified
    }
}
