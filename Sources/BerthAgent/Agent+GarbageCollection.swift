import BerthCore
import BerthImage
import Foundation
import Glibc

/// Which forgotten sandboxes to remove, as Mesos' agent decides: each is kept `--gc-delay` after
/// its task was last active, shortened as the disk fills, to nothing when the disk is within the
/// headroom of full. Pure, so it is tested without a disk.
public enum SandboxCollection {
    /// Mesos' `Slave::age`: `gc_delay * max(0, 1 - gc_disk_headroom - usage)`.
    public static func maximumAge(delay: Duration, diskUsage: Double, headroom: Double) -> Duration {
        delay * max(0, 1 - headroom - diskUsage)
    }

    /// The directories whose last activity is at least `maximumAge` before `now`.
    public static func expired(_ sandboxes: [(directory: String, lastActive: Date)], now: Date, maximumAge: Duration) -> [String] {
        let seconds = Double(maximumAge.components.seconds) + Double(maximumAge.components.attoseconds) / 1e18
        return sandboxes.filter { now.timeIntervalSince($0.lastActive) >= seconds }.map(\.directory)
    }
}

extension Agent {
    /// Runs the collection every `garbageCollection.interval` (Mesos' `--disk_watch_interval`).
    func garbageCollectionLoop() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: configuration.garbageCollection.interval) } catch { return }
            await collectGarbage()
        }
    }

    /// Removes the sandboxes of forgotten tasks that are old enough at the current disk usage,
    /// then the images the prune policy picks (never one a running or launching task uses).
    /// Logs what went and why.
    func collectGarbage(now: Date = Date()) async {
        let settings = configuration.garbageCollection
        let usage = images.diskUsage().map { $0.totalBytes > 0 ? 1 - Double($0.freeBytes) / Double($0.totalBytes) : 0 } ?? 0
        let maximumAge = SandboxCollection.maximumAge(delay: settings.sandboxDelay, diskUsage: usage, headroom: settings.diskHeadroom)
        let forgotten = store.sandboxes().filter { tasks[TaskKey(framework: $0.framework, task: $0.task)] == nil }
        let candidates = forgotten.map { (directory: $0.directory, lastActive: Self.lastActive($0.directory)) }
        let expired = Set(SandboxCollection.expired(candidates, now: now, maximumAge: maximumAge))
        for sandbox in forgotten where expired.contains(sandbox.directory) {
            do {
                try FileManager.default.removeItem(atPath: sandbox.directory)
                counters.sandboxesCollected += 1
                logger.info("removed the sandbox of ended task \(sandbox.framework)/\(sandbox.task)",
                            metadata: ["directory": "\(sandbox.directory)", "kept_at_most": "\(maximumAge)",
                                       "disk_used": "\(Int((usage * 100).rounded()))%", "gc_delay": "\(settings.sandboxDelay)"])
            } catch {
                logger.warning("could not remove the sandbox \(sandbox.directory): \(error)")
            }
            // The framework's directory goes with its last sandbox (rmdir fails while it has others).
            rmdir((sandbox.directory as NSString).deletingLastPathComponent)
        }
        await pruneImages(now: now)
    }

    private func pruneImages(now: Date) async {
        let settings = configuration.garbageCollection
        guard settings.imageUnusedFor != nil || settings.imageMinimumFree != nil else { return }
        let unusedFor = settings.imageUnusedFor.map { Double($0.components.seconds) }
        let policy = ImagePrunePolicy(unusedFor: unusedFor, minimumFreeFraction: settings.imageMinimumFree)
        // The image store tells a live container by the lock on its rootfs. A supervised
        // container's supervisor holds it, but one started by an agent from before that held the
        // lock itself, and it went with that agent process: its image, layers and rootfs would
        // look unused. Wait until adopted containers have ended.
        let adopted = tasks.values.filter { task in
            if case .exited = task.phase { return false }
            return task.adopted
        }.count
        guard adopted == 0 else {
            logger.debug("image garbage collection waits for \(adopted) adopted container(s) to end")
            return
        }
        let images = self.images
        // Images of tasks still launching (being pulled, or their rootfs being made) have no
        // container yet to protect them.
        let launching = Set(tasks.values.compactMap { task -> String? in
            guard case .launching = task.phase, let name = task.image else { return nil }
            return (try? images.find(name))?.name
        })
        do {
            let (removed, report) = try await BlockingWork.run { try images.prune(policy, now: now, alsoInUse: launching) }
            counters.imagesCollected += UInt64(removed.count)
            for image in removed {
                let old = unusedFor.map { now.timeIntervalSince(image.lastActive) >= $0 } ?? false
                let why = old ? "unused since \(image.lastActive) (--image-gc-unused-for \(settings.imageUnusedFor.map { "\($0)" } ?? ""))"
                    : "disk pressure: less than \(Int(((settings.imageMinimumFree ?? 0) * 100).rounded()))% of the disk free (--image-gc-min-free)"
                logger.info("removed image \(image.name)", metadata: ["why": "\(why)", "bytes": "\(image.size)"])
            }
            if !removed.isEmpty || report.bytes > 0 {
                logger.info("image garbage collection freed \(ByteSize.format(report.bytes))",
                            metadata: ["blobs": "\(report.blobs)", "snapshots": "\(report.snapshots)", "containers": "\(report.containers)"])
            }
        } catch {
            logger.warning("image garbage collection failed: \(error)")
        }
    }

    /// When the task last wrote into its sandbox or the sandbox last changed, whichever is later.
    static func lastActive(_ directory: String) -> Date {
        var latest = modified(directory) ?? Date()
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            if let date = modified(directory + "/" + name), date > latest { latest = date }
        }
        return latest
    }

    private static func modified(_ path: String) -> Date? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return Date(timeIntervalSince1970: Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9)
    }
}
