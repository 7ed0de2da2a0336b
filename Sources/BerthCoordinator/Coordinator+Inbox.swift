import Synchronization

/// Work handed to the coordinator from outside Swift concurrency (the agent connections' event
/// loops), run on the actor in arrival order by one task that takes everything queued each time.
///
/// Why not a task per call: when 10,000 agents register at once after a restart, making a task
/// for each, scheduling it and waking a thread to run it was a tenth of the coordinator's CPU
/// (futex wake-ups and context switches). Queued calls share one task and one wake-up; with
/// nothing else queued a call still starts its task at once.
final class CoordinatorInbox: Sendable {
    typealias Work = @Sendable (isolated Coordinator) -> Void

    private struct Queue {
        var items: [Work] = []
        var draining = false
    }

    private let queue = Mutex(Queue())

    /// Queues `work`; true when no task is taking the queue, and the caller must start one.
    func add(_ work: @escaping Work) -> Bool {
        queue.withLock { queue in
            queue.items.append(work)
            guard !queue.draining else { return false }
            queue.draining = true
            return true
        }
    }

    /// Everything queued, oldest first; empty (and the queue marked idle) when there is nothing.
    func take() -> [Work] {
        queue.withLock { queue in
            if queue.items.isEmpty { queue.draining = false }
            var taken: [Work] = []
            swap(&taken, &queue.items)
            return taken
        }
    }
}

extension Coordinator {
    /// Runs `work` on the coordinator, after everything submitted before it.
    nonisolated func submit(_ work: @escaping CoordinatorInbox.Work) {
        guard inbox.add(work) else { return }
        Task { await self.drainInbox() }
    }

    private func drainInbox() async {
        while true {
            let batch = inbox.take()
            if batch.isEmpty { return }
            for work in batch { work(self) }
            // Lets the allocator and API calls waiting for the actor in between batches.
            await Task.yield()
        }
    }
}
