import Foundation

/// Collects the events of a stream as they arrive, so a test can wait for the one it expects
/// (with a deadline) or check that none came.
actor EventLog<Element: Sendable> {
    private(set) var events: [Element] = []
    /// When each event arrived, so a window can be judged by arrival rather than by when a
    /// (possibly delayed) test looks.
    private var arrivals: [ContinuousClock.Instant] = []
    private var consumed: Set<Int> = []
    private(set) var ended = false
    private(set) var failure: (any Error)?

    /// Reads `sequence` to its end in a task of its own.
    static func collecting<S: AsyncSequence & Sendable>(_ sequence: S) -> EventLog where S.Element == Element {
        let log = EventLog()
        Task {
            do {
                for try await event in sequence { await log.append(event) }
                await log.finish(nil)
            } catch {
                await log.finish(error)
            }
        }
        return log
    }

    private func append(_ event: Element) {
        events.append(event)
        arrivals.append(.now)
    }
    private func finish(_ error: (any Error)?) {
        ended = true
        failure = error
    }

    /// The first event not returned before that matches; throws when none arrives in time.
    func next(_ what: String, timeout: Duration = .seconds(10), where matches: (Element) -> Bool) async throws -> Element {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let index = events.indices.first(where: { !consumed.contains($0) && matches(events[$0]) }) {
                consumed.insert(index)
                return events[index]
            }
            guard ContinuousClock.now < deadline, !ended else {
                throw FixtureFailure("no \(what) within \(timeout)\(ended ? " (stream ended: \(String(describing: failure)))" : ""); got \(events)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Waits `duration` and fails if a matching event not yet returned arrived within it. One
    /// arriving after the window (the sleep can overrun on a loaded machine) does not count.
    func expectNone(_ what: String, for duration: Duration, where matches: (Element) -> Bool) async throws {
        let end = ContinuousClock.now + duration
        try await Task.sleep(for: duration)
        if let index = events.indices.first(where: { !consumed.contains($0) && arrivals[$0] <= end && matches(events[$0]) }) {
            throw FixtureFailure("unexpected \(what): \(events[index])")
        }
    }

    /// Waits for the stream to end; throws if it is still open at the deadline.
    func waitUntilEnded(timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !ended {
            guard ContinuousClock.now < deadline else { throw FixtureFailure("the stream is still open after \(timeout)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Marks everything so far as seen.
    func skipAll() { consumed.formUnion(events.indices) }
}
