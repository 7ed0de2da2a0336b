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
    /// The last version whose change must survive a crash of the machine, not only of the
    /// agent: a new update does, an acknowledgement does not (a lost one only repeats an update).
    var syncedVersion = 0
    /// The version the last finished write carried.
    var written = 0
    var busy = false
    /// The wanted state is no file: the task was forgotten.
    var removal = false
    var waiters: [(version: Int, continuation: CheckedContinuation<Void, Never>)] = []
}

extension CheckpointWriter {
    /// Whether write number `sequence` (into slot `sequence % 2`) must be synced: when a change
    /// it carries must survive a crash of the machine, and also whenever the other slot holds no
    /// copy known to be synced, so that a crash cuts short at most this write and never loses
    /// the last synced state. `syncedSlots`: bit n for slot n.
    static func mustSync(changeMustSurvive: Bool, sequence: UInt64, syncedSlots: UInt8) -> Bool {
        let other = UInt8(1 - sequence % 2)
        return changeMustSurvive || syncedSlots & (1 << other) == 0
    }
}

extension Agent {
    /// Asks for the task's checkpoint to be written as it is now; returns the version of that
    /// write. `synced: false` for a change whose loss in a crash of the machine costs nothing
    /// but a repeated update.
    @discardableResult
    func checkpoint(_ key: TaskKey, synced: Bool = true) -> Int {
        var writer = writers[key] ?? CheckpointWriter()
        writer.version += 1
        if synced { writer.syncedVersion = writer.version }
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

    /// Returns once the checkpoint as it was at `version` (or, without one, as it is now) is on
    /// disk, or its write failed and was logged.
    func checkpointWritten(_ key: TaskKey, version: Int? = nil) async {
        let version = version ?? checkpoint(key)
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
        let synced = CheckpointWriter.mustSync(changeMustSurvive: writer.syncedVersion > writer.written, sequence: sequence,
                                               syncedSlots: tasks[key]?.syncedSlots ?? 0)
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
                    return try store.save(snapshot, sequence: sequence, encodedTask: encodedTask, synced: synced)
                })
            } catch {
                written = .failure(error)
            }
            self.finishedWriting(key, version: version, sequence: sequence, synced: synced, written: written)
        }
    }

    private func finishedWriting(_ key: TaskKey, version: Int, sequence: UInt64, synced: Bool, written: Result<[UInt8]?, any Error>) {
        let slot = UInt8(sequence % 2)
        switch written {
        case .success(let encodedTask):
            // nil: the checkpoint was removed, not written.
            if let encodedTask {
                if tasks[key]?.encodedTask == nil { tasks[key]?.encodedTask = encodedTask }
                tasks[key]?.checkpointSequence = sequence
                if synced { tasks[key]?.syncedSlots |= 1 << slot } else { tasks[key]?.syncedSlots &= ~(1 << slot) }
            }
        case .failure(let error):
            // The slot may be cut short; the next write goes to it again.
            tasks[key]?.syncedSlots &= ~(1 << slot)
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
