import BerthCore
import BerthFramework
import BerthProtocol
import Foundation

/// The framework of `berth-bench launch`: places queued tasks on whatever offers come, as many
/// per offer as fit, acknowledges every update, and notes when each task reached each state.
actor LaunchFramework {
    private let calls: SchedulerCalls
    private var queue: [TaskInfo] = []
    private(set) var firstAccept: ContinuousClock.Instant?
    private(set) var running: [TaskID: ContinuousClock.Instant] = [:]
    private(set) var ended: [TaskID: (state: TaskState, at: ContinuousClock.Instant, message: String?)] = [:]
    private var eventLoop: Task<Void, any Error>?
    /// Set by `stop()`: offers that still arrive are left alone.
    private var stopping = false
    private var underwayCount = 0
    private var endedCount = 0

    init(calls: SchedulerCalls) {
        self.calls = calls
    }

    /// Subscribes and returns once SUBSCRIBED arrived; events are handled from then on.
    static func subscribe(coordinator url: String) async throws -> LaunchFramework {
        let client = SchedulerClient(coordinator: url)
        let stream = try await client.subscribe(FrameworkInfo(user: "root", name: "berth-bench launch", roles: ["*"]))
        let (subscribed, continuation) = AsyncStream.makeStream(of: LaunchFramework.self)
        let loop = Task {
            defer { continuation.finish() }
            var framework: LaunchFramework?
            for try await event in stream.events {
                if let framework {
                    await framework.received(event)
                } else if event.type == .subscribed, let id = event.subscribed?.frameworkID {
                    let created = LaunchFramework(calls: client.calls(for: id, streamID: stream.streamID))
                    framework = created
                    continuation.yield(created)
                }
            }
        }
        var first = subscribed.makeAsyncIterator()
        guard let framework = await first.next() else {
            try await loop.value
            throw BerthError(.invalidState, "the SUBSCRIBE stream ended before SUBSCRIBED")
        }
        await framework.keep(loop)
        return framework
    }

    private func keep(_ loop: Task<Void, any Error>) {
        eventLoop = loop
    }

    /// Queues tasks (their agent ID is filled in from the offer) and asks for offers again.
    func enqueue(_ tasks: [TaskInfo]) async throws {
        queue.append(contentsOf: tasks)
        try await calls.revive()
    }

    func kill(_ ids: [TaskID]) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for id in ids { group.addTask { try await self.calls.kill(id) } }
            try await group.waitForAll()
        }
    }

    func stop() async {
        // An offer still in flight would otherwise be declined after the TEARDOWN (a 403).
        stopping = true
        try? await calls.teardown()
        eventLoop?.cancel()
    }

    /// How many tasks are RUNNING or further, and how many have ended, of all it launched: kept
    /// as counters because the benchmark polls them every 10 ms while the agent works beside it.
    var progress: (underway: Int, ended: Int) { (underwayCount, endedCount) }

    private func received(_ event: Event) async {
        switch event.type {
        case .offers:
            for offer in event.offers?.offers ?? [] { await place(on: offer) }
        case .update:
            guard let status = event.update?.status else { return }
            let now = ContinuousClock.now
            let wasUnderway = running[status.taskID] != nil || ended[status.taskID] != nil
            if status.state == .running, running[status.taskID] == nil { running[status.taskID] = now }
            if status.state.isTerminal, ended[status.taskID] == nil {
                ended[status.taskID] = (status.state, now, status.message)
                endedCount += 1
            }
            if !wasUnderway && (running[status.taskID] != nil || ended[status.taskID] != nil) { underwayCount += 1 }
            // Not awaited in line: the next update need not wait for this one's round trip.
            let calls = self.calls
            Task { try? await calls.acknowledge(status) }
        default:
            return
        }
    }

    private func place(on offer: OfferInfo) async {
        guard !stopping else { return }
        var left = offer.resources
        var tasks: [TaskInfo] = []
        for next in queue {
            guard left.contains(next.resources) else { break }
            var task = next
            task.agentID = offer.agentID
            left = left.removing(task.resources)
            tasks.append(task)
        }
        queue.removeFirst(tasks.count)
        do {
            if tasks.isEmpty {
                try await calls.decline([offer.id], refuseSeconds: 3600)
                // Tasks queued while the DECLINE was under way: their REVIVE, on another
                // connection, may have reached the coordinator first and left this filter standing.
                if !queue.isEmpty { try await calls.revive() }
            } else {
                if firstAccept == nil { firstAccept = .now }
                try await calls.launch(tasks, on: [offer.id])
            }
        } catch {
            guard !stopping else { return }
            // The benchmark waits for every task, so a refused call shows up as a timeout with this reason logged.
            FileHandle.standardError.write(Data("berth-bench launch: \(error)\n".utf8))
        }
    }
}
