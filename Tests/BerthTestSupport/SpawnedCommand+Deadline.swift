import BerthCore
import Foundation
import Synchronization

extension SpawnedCommand {
    /// `finish()` for a command expected to end by itself: one still running after `seconds` is
    /// killed, so the test fails on its output instead of hanging.
    public func finish(killingAfter seconds: Double) throws -> CommandResult {
        let pid = self.pid
        let ended = Mutex(false)
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
            // Never a reused PID: only while this command has not been waited for.
            ended.withLock { ended in if !ended { kill(pid, SIGKILL) } }
        }
        defer { ended.withLock { $0 = true } }
        return try finish()
    }
}
