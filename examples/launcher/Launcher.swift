// An example framework written with Berth's Swift SDK (BerthFramework): it launches a number of
// copies of a command, spread over whatever offers come, acknowledges every status update,
// relaunches copies that fail (up to a limit), and exits when all have finished.
//
//   swift run berth-example-launcher --coordinator 127.0.0.1:5050 --copies 3 --command 'echo hi'
//
// It speaks nothing but the Mesos v1 scheduler HTTP API: the same program works against a Mesos
// master. Read it top to bottom: subscribe, then one loop over the event stream.
import BerthCore
import BerthFramework
import BerthProtocol
import Foundation

struct Options {
    var coordinator = "127.0.0.1:5050"
    var copies = 3
    var command = "echo hello from $MESOS_TASK_ID"
    var image: String?
    var cpus = 0.1
    var mem = 32.0
    var retries = 2

    init(_ arguments: [String]) throws {
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            guard let value = rest.popFirst() else { throw UsageError("\(flag) needs a value") }
            switch flag {
            case "--coordinator": coordinator = value
            case "--copies": copies = try Self.number(value, flag)
            case "--command": command = value
            case "--image": image = value
            case "--cpus": cpus = Double(try Self.number(value, flag, allowFraction: true))
            case "--mem": mem = Double(try Self.number(value, flag, allowFraction: true))
            case "--retries": retries = try Self.number(value, flag)
            default: throw UsageError("unknown option \(flag)")
            }
        }
    }

    static func number(_ text: String, _ flag: String, allowFraction: Bool = false) throws -> Int {
        if allowFraction, let value = Double(text), value > 0 { return Int(value.rounded(.up)) }
        guard let value = Int(text), value > 0 else { throw UsageError("\(flag) \(text): expected a positive number") }
        return value
    }
}

struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// What the framework knows about each copy: how often it was tried and how it stands.
struct Copy {
    var attempts = 0
    /// The task running it now, if any.
    var taskID: TaskID?
    /// How it ended for good: TASK_FINISHED, or the last failure once retries ran out.
    var outcome: TaskState?
}

func log(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

@main
struct Launcher {
    static func main() async {
        do {
            let options = try Options(Array(CommandLine.arguments.dropFirst()))
            let failed = try await run(options)
            exit(failed == 0 ? 0 : 1)
        } catch {
            log("launcher: \(error)")
            exit(2)
        }
    }

    /// Returns how many copies did not finish successfully.
    static func run(_ options: Options) async throws -> Int {
        let url = options.coordinator.contains("://") ? options.coordinator : "http://\(options.coordinator)"
        let client = SchedulerClient(coordinator: url)
        let stream = try await client.subscribe(FrameworkInfo(user: NSUserName(), name: "example launcher", roles: ["*"]))
        var calls: SchedulerCalls?
        var copies = Array(repeating: Copy(), count: options.copies)
        let perTask = try Resources.parse("cpus:\(options.cpus);mem:\(options.mem)")

        for try await event in stream.events {
            switch event.type {
            case .subscribed:
                guard let id = event.subscribed?.frameworkID else { continue }
                calls = client.calls(for: id, streamID: stream.streamID)
                log("subscribed as framework \(id)")

            case .offers:
                guard let calls, let offers = event.offers?.offers else { continue }
                for offer in offers {
                    // Fill each offer with as many waiting copies as it has room for.
                    var left = offer.resources
                    var tasks: [TaskInfo] = []
                    for index in copies.indices where copies[index].taskID == nil && copies[index].outcome == nil && left.contains(perTask) {
                        copies[index].attempts += 1
                        let id = TaskID("copy-\(index)-try-\(copies[index].attempts)")
                        copies[index].taskID = id
                        var task = TaskInfo(name: "copy \(index)", taskID: id, agentID: offer.agentID, resources: perTask,
                                            command: CommandInfo(value: options.command, shell: true))
                        if let image = options.image {
                            task.container = .object(["type": .string("MESOS"), "mesos": .object(["image": .object([
                                "type": .string("DOCKER"), "docker": .object(["name": .string(image)])])])])
                        }
                        tasks.append(task)
                        left = left.removing(perTask)
                    }
                    if tasks.isEmpty {
                        try await calls.decline([offer.id], refuseSeconds: 5)
                    } else {
                        log("launching \(tasks.map(\.taskID.value).joined(separator: ", ")) on \(offer.hostname)")
                        try await calls.launch(tasks, on: [offer.id])
                    }
                }
                // Nothing left to place: stop receiving offers until something needs one.
                if copies.allSatisfy({ $0.taskID != nil || $0.outcome != nil }) { try await calls.suppress() }

            case .update:
                guard let calls, let status = event.update?.status else { continue }
                // Every update with a uuid must be acknowledged, or the agent sends it again.
                try await calls.acknowledge(status)
                log("\(status.taskID): \(status.state.rawValue)\(status.message.map { " (\($0))" } ?? "")")
                guard status.state.isTerminal, let index = copies.firstIndex(where: { $0.taskID == status.taskID }) else { continue }
                copies[index].taskID = nil
                if status.state == .finished || copies[index].attempts > options.retries {
                    copies[index].outcome = status.state
                } else {
                    try await calls.revive()
                }
                if copies.allSatisfy({ $0.outcome != nil }) {
                    try await calls.teardown()
                    return copies.filter { $0.outcome != .finished }.count
                }

            case .error:
                throw UsageError("the coordinator ended the framework: \(event.error?.message ?? "")")

            default:
                continue
            }
        }
        throw UsageError("the event stream ended")
    }
}
