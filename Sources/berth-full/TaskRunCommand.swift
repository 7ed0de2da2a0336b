import ArgumentParser
import AsyncHTTPClient
import BerthCore
import BerthFramework
import BerthProtocol
import BerthRunCLI
import Foundation
import NIOCore
import NIOHTTP1

/// `berth task run`: one task through the coordinator, followed to its end, exiting with its status.
struct TaskRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a task on the cluster and follow it to its end.",
        discussion: """
            Acts as a small framework: subscribes to the coordinator, launches the task on the \
            first offer with enough cpus and mem, prints each state change on stderr, and exits \
            with the task's exit status (128+N when killed by signal N; 125 when it could not \
            run, with the reason). Ctrl-C kills the task (TASK_KILLING, then TASK_KILLED) and \
            waits for it to end. Its output is in the task's sandbox on the agent.
            """)

    @Option(help: ArgumentHelp("The coordinator (default: $BERTH_COORDINATOR, else localhost:5050).", valueName: "host:port"))
    var coordinator: String?

    @Option(help: ArgumentHelp("Image to run the command in (a Mesos container with this image); without it the command runs on the agent's host filesystem.", valueName: "image"))
    var image: String?

    @Option(help: "CPUs for the task (also its CPU limit).")
    var cpus = 0.1

    @Option(help: ArgumentHelp("Memory for the task in MiB (also its memory limit).", valueName: "mib"))
    var mem = 128.0

    @Option(name: .customLong("env"), help: ArgumentHelp("An environment variable for the task (repeatable).", valueName: "K=V"))
    var environment: [String] = []

    @Option(help: "A name for the task; its ID is the name and a random suffix.")
    var name = "task"

    @Option(help: ArgumentHelp("A command health check, run under /bin/sh -c in the task's container; exit 0 is healthy.", valueName: "command"))
    var healthCmd: String?

    @Option(help: ArgumentHelp("An HTTP health check: GET http://127.0.0.1:PORT/PATH on the agent; 200-399 is healthy.", valueName: "port[/path]"))
    var healthHttp: String?

    @Option(help: ArgumentHelp("A TCP health check: a connection to 127.0.0.1:PORT on the agent is healthy.", valueName: "port"))
    var healthTcp: Int?

    @Option(help: ArgumentHelp("Time between health checks (default 10s).", valueName: "duration"))
    var healthInterval: String?

    @Option(help: ArgumentHelp("How long one health check may take (default 20s).", valueName: "duration"))
    var healthTimeout: String?

    @Option(help: ArgumentHelp("Failed health checks in a row that kill the task (default 3).", valueName: "n"))
    var healthRetries: Int?

    @Option(help: ArgumentHelp("Failures are ignored this long after the start, until the first success (default 10s).", valueName: "duration"))
    var healthStartPeriod: String?

    @Option(help: ArgumentHelp("Wait before the first health check (default 15s).", valueName: "duration"))
    var healthDelay: String?

    @Option(help: ArgumentHelp("Seconds between SIGTERM and SIGKILL when the task is killed.", valueName: "seconds"))
    var killGracePeriod: Double?

    @Option(help: ArgumentHelp("How long to wait for an offer that fits, e.g. 30s.", valueName: "duration"))
    var offerWait = "30s"

    @Argument(parsing: .captureForPassthrough, help: "The command: one argument runs under /bin/sh -c, several run as they are.")
    var command: [String] = []

    func validate() throws {
        guard cpus > 0, mem > 0 else { throw ValidationError("--cpus and --mem must be positive") }
        guard image != nil || !command.isEmpty else { throw ValidationError("give a command after --, or an --image whose own command runs") }
        for variable in environment where !variable.contains("=") {
            throw ValidationError("--env \(variable): expected NAME=VALUE")
        }
        _ = try healthCheck()
    }

    /// The Mesos health check the --health-* options describe; nil without one.
    func healthCheck() throws -> HealthCheck? {
        let kinds = [healthCmd != nil, healthHttp != nil, healthTcp != nil].filter { $0 }.count
        guard kinds <= 1 else { throw ValidationError("give one of --health-cmd, --health-http and --health-tcp") }
        var check: HealthCheck
        if let healthCmd {
            guard !healthCmd.isEmpty else { throw ValidationError("--health-cmd is empty: give the command that exits 0 when the task is healthy") }
            check = HealthCheck(type: .command, command: CommandInfo(value: healthCmd, shell: true))
        } else if let healthHttp {
            let parts = healthHttp.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            guard let port = Int(parts[0]), (1...65535).contains(port) else {
                throw ValidationError("--health-http \(healthHttp): expected PORT or PORT/PATH, such as 8080/health")
            }
            check = HealthCheck(type: .http, http: .init(port: port, path: "/" + (parts.count > 1 ? parts[1] : "")))
        } else if let healthTcp {
            guard (1...65535).contains(healthTcp) else { throw ValidationError("--health-tcp \(healthTcp): expected a port, 1-65535") }
            check = HealthCheck(type: .tcp, tcp: .init(port: healthTcp))
        } else {
            let given = [("--health-interval", healthInterval != nil), ("--health-timeout", healthTimeout != nil), ("--health-retries", healthRetries != nil),
                         ("--health-start-period", healthStartPeriod != nil), ("--health-delay", healthDelay != nil)].filter(\.1).map(\.0)
            if let first = given.first { throw ValidationError("\(first) needs a health check: give --health-cmd, --health-http or --health-tcp") }
            return nil
        }
        func seconds(_ text: String?, _ option: String, zeroAllowed: Bool) throws -> Double? {
            guard let text else { return nil }
            if zeroAllowed, ["0", "0s", "0ms"].contains(text) { return 0 }
            let duration = try CoordinatorCommand.parseDuration(text, option: option)
            return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }
        check.intervalSeconds = try seconds(healthInterval, "--health-interval", zeroAllowed: false)
        check.timeoutSeconds = try seconds(healthTimeout, "--health-timeout", zeroAllowed: false)
        check.gracePeriodSeconds = try seconds(healthStartPeriod, "--health-start-period", zeroAllowed: true)
        check.delaySeconds = try seconds(healthDelay, "--health-delay", zeroAllowed: true)
        if let healthRetries {
            guard healthRetries >= 1 else { throw ValidationError("--health-retries \(healthRetries): give how many failures in a row kill the task, 1 or more") }
            check.consecutiveFailures = healthRetries
        }
        return check
    }

    func run() throws {
        let words = command.first == "--" ? Array(command.dropFirst()) : command
        var commandInfo: CommandInfo
        switch words.count {
        case 0: commandInfo = CommandInfo(shell: false)
        case 1: commandInfo = CommandInfo(value: words[0], shell: true)
        default: commandInfo = CommandInfo(value: words[0], shell: false, arguments: words)
        }
        if !environment.isEmpty {
            commandInfo.environment = CommandInfo.Environment(variables: environment.map { variable in
                let parts = variable.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                return .init(name: String(parts[0]), value: parts.count > 1 ? String(parts[1]) : "")
            })
        }
        let taskID = TaskID("\(name)-\(UUID().uuidString.prefix(8).lowercased())")
        let request = TaskRequest(name: name, taskID: taskID, command: commandInfo, image: image, cpus: cpus, memory: mem,
                                  healthCheck: try healthCheck(),
                                  killGracePeriod: killGracePeriod)
        let wait = try CoordinatorCommand.parseDuration(offerWait, option: "--offer-wait")
        let address = CoordinatorAddress(coordinator)
        let (stops, stop) = AsyncStream.makeStream(of: Void.self)
        // Ctrl-C and SIGTERM kill the task; the run then waits for its final state.
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let sources = [SIGINT, SIGTERM].map { number in
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler { stop.yield() }
            source.resume()
            return source
        }
        defer { sources.forEach { $0.cancel() } }
        let outcome: TaskOutcome
        do {
            outcome = try Blocking.run {
                try await TaskRunner(client: SchedulerClient(coordinator: address.url)).run(request, offerWait: wait, stop: stops) { progress in
                    Self.show(progress, task: taskID)
                }
            }
        } catch let error as BerthError {
            Terminal.error(error.message)
            throw ExitStatusError(code: 125)
        } catch {
            Terminal.error("cannot run the task through the coordinator at \(address.url): \(error); start one with `berth up` or `berth coordinator`, or point --coordinator at it")
            throw ExitStatusError(code: 125)
        }
        throw ExitStatusError(code: outcome.exitCode)
    }

    static func show(_ progress: TaskRunProgress, task: TaskID) {
        let line: String
        switch progress {
        case .subscribed: return
        case .launched(let agent, let hostname): line = "task \(task): launching on \(hostname) (agent \(agent))"
        case .status(let status):
            var text = "task \(task): \(status.state.rawValue)"
            if let healthy = status.healthy { text += healthy ? " (healthy)" : " (unhealthy)" }
            if let message = status.message, !message.isEmpty { text += ": \(message)" }
            if let reason = status.reason { text += " [\(reason.rawValue)]" }
            line = text
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// `berth task kill`: asks the coordinator to kill a task, whichever framework runs it.
struct TaskKill: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kill",
        abstract: "Kill a task: SIGTERM, then SIGKILL after its kill grace period.",
        discussion: "The task's framework sees TASK_KILLING and TASK_KILLED as if it had asked.")

    @Option(help: ArgumentHelp("The coordinator (default: $BERTH_COORDINATOR, else localhost:5050).", valueName: "host:port"))
    var coordinator: String?

    @Option(help: ArgumentHelp("The task's framework, when two frameworks have tasks of that ID.", valueName: "id"))
    var framework: String?

    @Argument(help: "The task's ID (berth task ls shows them).")
    var taskID: String

    func run() throws {
        let address = CoordinatorAddress(coordinator)
        var url = address.url + "/api/v1/tasks/\(taskID.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? taskID)/kill"
        if let framework { url += "?framework_id=\(framework.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? framework)" }
        let (status, body) = try address.send(url: url, method: .POST)
        guard status == 202 else {
            Terminal.error(body.isEmpty ? "the coordinator answered HTTP \(status)" : body)
            throw ExitStatusError(code: 1)
        }
        FileHandle.standardError.write(Data("killing task \(taskID)\n".utf8))
    }
}

/// Where the coordinator is: `--coordinator`, else $BERTH_COORDINATOR, else localhost:5050.
struct CoordinatorAddress {
    let url: String

    init(_ option: String?) {
        let address = option ?? ProcessInfo.processInfo.environment["BERTH_COORDINATOR"].flatMap { $0.isEmpty ? nil : $0 } ?? "localhost:5050"
        let url = address.contains("://") ? address : "http://" + address
        self.url = url.hasSuffix("/") ? String(url.dropLast()) : url
    }

    /// One request; the status and the body as text. An unreachable coordinator is said in one line.
    func send(url: String, method: HTTPMethod) throws -> (Int, String) {
        do {
            return try Blocking.run {
                var request = HTTPClientRequest(url: url)
                request.method = method
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                let body = try await response.body.collect(upTo: 1 << 20)
                return (Int(response.status.code), String(buffer: body).trimmingCharacters(in: .whitespacesAndNewlines))
            }
        } catch {
            Terminal.error("cannot reach the coordinator at \(self.url): \(error); start one with `berth up` or `berth coordinator`, or point --coordinator (or BERTH_COORDINATOR) at it")
            throw ExitStatusError(code: 1)
        }
    }
}
