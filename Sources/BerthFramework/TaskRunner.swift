import AsyncHTTPClient
import BerthCore
import BerthProtocol
import Foundation
import NIOCore

/// One task to run to its end.
public struct TaskRequest: Sendable {
    public var name: String
    public var taskID: TaskID
    public var command: CommandInfo
    /// A Docker/OCI image reference for a Mesos container (`ContainerInfo` type MESOS); nil runs
    /// the command on the agent's host filesystem.
    public var image: String?
    public var cpus: Double
    /// MiB, as Mesos' `mem`.
    public var memory: Double
    /// Run by the agent; its results arrive as TASK_RUNNING updates with `healthy`.
    public var healthCheck: HealthCheck?
    public var killGracePeriod: Double?

    public init(name: String, taskID: TaskID, command: CommandInfo, image: String? = nil, cpus: Double, memory: Double,
                healthCheck: HealthCheck? = nil, killGracePeriod: Double? = nil) {
        self.name = name
        self.taskID = taskID
        self.command = command
        self.image = image
        self.cpus = cpus
        self.memory = memory
        self.healthCheck = healthCheck
        self.killGracePeriod = killGracePeriod
    }

    var resources: Resources {
        get throws { try Resources.parse("cpus:\(cpus);mem:\(memory)") }
    }

    func taskInfo(on agent: AgentID) throws -> TaskInfo {
        var container: JSONValue?
        if let image {
            container = .object(["type": .string("MESOS"),
                                 "mesos": .object(["image": .object(["type": .string("DOCKER"), "docker": .object(["name": .string(image)])])])])
        }
        var info = TaskInfo(name: name, taskID: taskID, agentID: agent, resources: try resources, command: command, container: container,
                            killPolicy: killGracePeriod.map { KillPolicy(gracePeriod: DurationInfo(nanoseconds: Int64($0 * 1e9))) })
        info.healthCheck = healthCheck
        return info
    }
}

/// What happens while a task runs, for a caller that shows progress.
public enum TaskRunProgress: Sendable {
    case subscribed(FrameworkID)
    case launched(agent: AgentID, hostname: String)
    case status(TaskStatus)
}

/// How a task ended, with the exit status a shell would see: the command's own, 128+N for a
/// signal, 125 when the task never ran (as `docker run`).
public struct TaskOutcome: Sendable {
    public var status: TaskStatus
    public var exitCode: Int32

    public init(status: TaskStatus) {
        self.status = status
        self.exitCode = Self.exitCode(of: status)
    }

    /// Agents (Berth's and Mesos' command executor) say "exited with status N" or "signal N" in
    /// the message; Mesos has no field for it.
    static func exitCode(of status: TaskStatus) -> Int32 {
        let message = status.message ?? ""
        if let code = number(after: "exited with status ", in: message) { return code }
        if let signal = number(after: "signal ", in: message) { return 128 + signal }
        switch status.state {
        case .finished: return 0
        case .failed: return 1
        case .killed: return 128 + 9
        default: return 125
        }
    }

    private static func number(after prefix: String, in text: String) -> Int32? {
        guard let range = text.range(of: prefix) else { return nil }
        return Int32(text[range.upperBound...].prefix { $0.isNumber })
    }
}

/// Runs one task through a coordinator as a throwaway framework: subscribe, take the first
/// offer that fits, launch, acknowledge updates until the task ends, tear the framework down.
/// What `berth task run` does; also the smallest complete example of the SDK.
public struct TaskRunner: Sendable {
    public let client: SchedulerClient

    public init(client: SchedulerClient) { self.client = client }

    /// - Parameters:
    ///   - offerWait: how long to wait for an offer that fits before giving up with the
    ///     coordinator's reasons.
    ///   - stop: yields when the caller wants the task killed (SIGINT); the run then waits for
    ///     the task to end.
    public func run(_ request: TaskRequest, offerWait: Duration, stop: AsyncStream<Void>,
                    progress: @escaping @Sendable (TaskRunProgress) -> Void) async throws -> TaskOutcome {
        let needed = try request.resources
        let stream = try await client.subscribe(FrameworkInfo(user: NSUserName(), name: "berth task run: \(request.name)", roles: ["*"]))
        let (inputs, input) = AsyncStream.makeStream(of: Input.self)
        let readers = Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        for try await event in stream.events { input.yield(.event(event)) }
                        input.yield(.ended(nil))
                    } catch {
                        input.yield(.ended(error))
                    }
                }
                group.addTask {
                    for await _ in stop { input.yield(.stop) }
                }
                group.addTask {
                    try? await Task.sleep(for: offerWait)
                    input.yield(.offerWaitOver)
                }
                await group.next()
                group.cancelAll()
            }
        }
        defer { readers.cancel() }
        var calls: SchedulerCalls?
        var launched = false
        var stopping = false
        for await next in inputs {
            switch next {
            case .event(let event):
                switch event.type {
                case .subscribed:
                    guard let id = event.subscribed?.frameworkID else { continue }
                    calls = client.calls(for: id, streamID: stream.streamID)
                    progress(.subscribed(id))
                case .offers:
                    guard let calls, let offers = event.offers?.offers else { continue }
                    if launched || stopping {
                        try await calls.decline(offers.map(\.id), refuseSeconds: 3600)
                        continue
                    }
                    if let offer = offers.first(where: { $0.resources.contains(needed) }) {
                        try await calls.launch([try request.taskInfo(on: offer.agentID)], on: [offer.id], refuseSeconds: 3600)
                        launched = true
                        progress(.launched(agent: offer.agentID, hostname: offer.hostname))
                        let others = offers.filter { $0.id != offer.id }.map(\.id)
                        if !others.isEmpty { try await calls.decline(others, refuseSeconds: 3600) }
                    } else {
                        try await calls.decline(offers.map(\.id), refuseSeconds: 1)
                    }
                case .update:
                    guard let calls, let status = event.update?.status, status.taskID == request.taskID else { continue }
                    try await calls.acknowledge(status)
                    progress(.status(status))
                    if status.state.isTerminal {
                        try? await calls.teardown()
                        return TaskOutcome(status: status)
                    }
                case .error:
                    throw BerthError(.invalidState, "the coordinator ended the framework: \(event.error?.message ?? "no reason given")")
                default:
                    continue
                }
            case .stop:
                guard let calls else { continue }
                stopping = true
                if launched {
                    try await calls.kill(request.taskID)
                } else {
                    try? await calls.teardown()
                    throw BerthError(.invalidState, "stopped before the task was launched")
                }
            case .offerWaitOver:
                guard !launched, let calls else { continue }
                let reasons = await offerBlockers(calls.frameworkID)
                try? await calls.teardown()
                throw BerthError(.notFound, "no offer with \(needed) came within \(offerWait)"
                                 + (reasons.isEmpty ? "" : ": " + reasons.joined(separator: "; ")))
            case .ended(let error):
                throw BerthError(.invalidState, "the coordinator closed the event stream" + (error.map { ": \($0)" } ?? ""))
            }
        }
        throw BerthError(.invalidState, "the run ended without a final task state")
    }

    enum Input: Sendable {
        case event(Event)
        case stop
        case offerWaitOver
        case ended((any Error)?)
    }

    /// The coordinator's explanation of why offers do not come (Berth's offer-status endpoint);
    /// empty against a coordinator without it.
    func offerBlockers(_ framework: FrameworkID) async -> [String] {
        let url = client.coordinator + "/api/v1/frameworks/\(framework.value)/offer-status"
        guard let response = try? await client.http.execute(HTTPClientRequest(url: url), timeout: .seconds(5)), response.status == .ok,
              let body = try? await response.body.collect(upTo: 1 << 20),
              let document = try? MesosJSON.decode(OfferStatusDocument.self, from: Data(body.readableBytesView), what: "offer status")
        else { return [] }
        return document.blockers.map(\.message)
    }
}
