import BerthCore
import BerthProtocol
import Foundation

/// Task checkpoints are written off the actor, one write at a time per task and always the
/// newest state: a write and its fsync (about a millisecond, far more on a busy disk) would
/// otherwise hold every other task's progress behind it. An update is sent only once a
/// checkpoint holding it is on disk (`isWritten`), so nothing the coordinator hears can be
/// lost in a crash; a container starts only once its ID is on disk (`checkpointWritten`).
struct CheckpointWriter {
    /// Bumped by every change that must reach the disk.
    var version = 0
    /// The version the last finished write carried.
    var written = 0
    var busy = false
    /// The wanted state is no file: the task was forgotten.
    var removal = false
    var waiters: [(version: Int, continuation: CheckedContinuation<Void, Never>)] = []
}

extension Agent {
    /// Asks for the task's checkpoint to be written as it is now; returns the version of that write.
    @discardableResult
    func checkpoint(_ key: TaskKey) -> Int {
        var writer = writers[key] ?? CheckpointWriter()
        writer.version += 1
        writer.removal = false
        writers[key] = writer
        startWriting(key)
        return writer.version
    }

    /// The task was forgotten: its checkpoint goes, after any write still under way.
    func removeCheckpoint(_ key: TaskKey) {
        var writer = writers[key] ?? CheckpointWriter()
        writer.version += 1
        writer.removal = true
        writers[key] = writer
        startWriting(key)
    }

    /// Returns once the checkpoint as it is now is on disk (or its write failed and was logged).
    func checkpointWritten(_ key: TaskKey) async {
        let version = checkpoint(key)
        guard let writer = writers[key], writer.written < version else { return }
        await withCheckedContinuation { continuation in
            writers[key]?.waiters.append((version, continuation))
        }
    }

    /// Whether the update appended at `version` of the task's checkpoint is on disk.
    func isWritten(_ key: TaskKey, version: Int?) -> Bool {
        guard let version, let writer = writers[key] else { return true }
        return writer.written >= version
    }

    /// Returns once no checkpoint write is waiting or under way: before the process exits.
    func checkpointsSettled() async {
        while writers.values.contains(where: { $0.busy || $0.written < $0.version }) {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    private func startWriting(_ key: TaskKey) {
        guard var writer = writers[key], !writer.busy, writer.written < writer.version else { return }
        let version = writer.version
        // The newest state, whatever version asked for it: older ones need no write of their own.
        let snapshot = writer.removal ? nil : tasks[key]?.checkpoint
        let encodedTask = tasks[key]?.encodedTask
        // Only a complete write advances it: after a failed one the same slot is written again,
        // never the other, which holds the last complete copy.
        let sequence = (tasks[key]?.checkpointSequence ?? 0) + 1
        writer.busy = true
        writers[key] = writer
        let store = self.store
        Task {
            let written: Result<[UInt8]?, any Error>
            do {
                written = .success(try await BlockingWork.run {
                    guard let snapshot else {
                        store.remove(framework: key.framework, task: key.task)
                        return nil
                    }
                    return try store.save(snapshot, sequence: sequence, encodedTask: encodedTask)
                })
            } catch {
                written = .failure(error)
            }
            self.finishedWriting(key, version: version, sequence: sequence, written: written)
        }
    }

    private func finishedWriting(_ key: TaskKey, version: Int, sequence: UInt64, written: Result<[UInt8]?, any Error>) {
        switch written {
        case .success(let encodedTask):
            // nil: the checkpoint was removed, not written.
            if let encodedTask {
                if tasks[key]?.encodedTask == nil { tasks[key]?.encodedTask = encodedTask }
                tasks[key]?.checkpointSequence = sequence
            }
        case .failure(let error):
            // Still sent: delivering the update beats holding it back because the disk failed.
            logger.error("checkpoint task \(key): \(error); its updates are lost if the agent dies now")
        }
        guard var writer = writers[key] else { return }
        writer.busy = false
        writer.written = version
        let ready = writer.waiters.filter { $0.version <= version }
        writer.waiters.removeAll { $0.version <= version }
        if writer.written == writer.version && writer.waiters.isEmpty && (writer.removal || tasks[key] == nil) {
            writers[key] = nil
        } else {
            writers[key] = writer
        }
        for waiter in ready { waiter.continuation.resume() }
        startWriting(key)
        flush(key)
    }
}
