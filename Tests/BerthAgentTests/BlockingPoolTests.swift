@testable import BerthAgent
import Foundation
import Testing

/// The agent's pool for blocking work: as many jobs at once as it has threads, no more, and
/// every job run.
struct BlockingPoolTests {
    /// What the jobs share, guarded by `condition`.
    final class Gauge: @unchecked Sendable {
        let condition = NSCondition()
        var running = 0
        var most = 0
        var done = 0
        var open = false
    }

    @Test func runsUpToItsBoundAtOnceAndEveryJobInTheEnd() throws {
        let pool = BlockingPool(maximumThreads: 3)
        let gauge = Gauge()
        for _ in 0..<10 {
            pool.submit {
                gauge.condition.lock()
                gauge.running += 1
                gauge.most = max(gauge.most, gauge.running)
                gauge.condition.broadcast()
                while !gauge.open { gauge.condition.wait() }
                gauge.running -= 1
                gauge.done += 1
                gauge.condition.broadcast()
                gauge.condition.unlock()
            }
        }
        gauge.condition.lock()
        let deadline = Date().addingTimeInterval(10)
        while gauge.running < 3 && gauge.condition.wait(until: deadline) {}
        // Give a fourth thread, if the bound did not hold, the time to show up.
        _ = gauge.condition.wait(until: Date().addingTimeInterval(0.2))
        #expect(gauge.running == 3)
        gauge.open = true
        gauge.condition.broadcast()
        while gauge.done < 10 && gauge.condition.wait(until: deadline) {}
        #expect(gauge.most == 3)
        #expect(gauge.done == 10)
        gauge.condition.unlock()
        #expect(pool.threadCounts.started == 3)
    }

    @Test func anIdlePoolHasNoThreadsAndReusesTheOneItStarted() async throws {
        let pool = BlockingPool(maximumThreads: 4)
        #expect(pool.threadCounts.started == 0)
        for value in 0..<5 {
            let result = await withCheckedContinuation { continuation in
                pool.submit { continuation.resume(returning: value * 2) }
            }
            #expect(result == value * 2)
            // The job resumed us before its thread went back to waiting.
            let deadline = ContinuousClock.now + .seconds(10)
            while pool.threadCounts.idle == 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(1)) }
        }
        #expect(pool.threadCounts == (started: 1, idle: 1))
    }
}
