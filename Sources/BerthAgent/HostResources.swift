import BerthCore
import Foundation

/// What an agent offers when `--resources` does not say: the CPUs it may run on, memory and the
/// disk of its work directory less what Mesos keeps back for the host, and ports 31000-32000.
public enum HostResources {
    public static let defaultPorts = "[31000-32000]"

    /// The detected resources, with each resource named in `given` (the `--resources` text)
    /// replacing the detected one of that name.
    public static func resolve(given: String?, workDirectory: String) throws -> Resources {
        let explicit = try given.map { try Resources.parse($0) } ?? Resources()
        let detected = try detect(workDirectory: workDirectory)
        return Resources(detected.items.filter { !explicit.names.contains($0.name) } + explicit.items)
    }

    public static func detect(workDirectory: String) throws -> Resources {
        var parts = ["cpus:\(ProcessInfo.processInfo.activeProcessorCount)"]
        let meminfo = try String(contentsOfFile: "/proc/meminfo", encoding: .utf8)
        guard let memory = memoryMiB(meminfo: meminfo) else {
            throw BerthError(.system, "cannot read MemTotal from /proc/meminfo: give the memory with --resources \"mem:MiB\"")
        }
        parts.append("mem:\(offered(totalMiB: memory, keepAtLeastMiB: 1024))")
        var stats = statvfs()
        guard statvfs(workDirectory, &stats) == 0 else {
            throw BerthError(.system, "statvfs \(workDirectory): \(String(cString: strerror(errno))); give the disk with --resources \"disk:MiB\"")
        }
        let diskMiB = Int64(stats.f_blocks) * Int64(stats.f_frsize) / (1 << 20)
        parts.append("disk:\(offered(totalMiB: diskMiB, keepAtLeastMiB: 5 * 1024))")
        parts.append("ports:\(defaultPorts)")
        return try Resources.parse(parts.joined(separator: ";"))
    }

    /// MemTotal of /proc/meminfo in MiB.
    static func memoryMiB(meminfo: String) -> Int64? {
        for line in meminfo.split(separator: "\n") where line.hasPrefix("MemTotal:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let kib = Int64(fields[1]) else { return nil }
            return kib / 1024
        }
        return nil
    }

    /// Mesos' rule: keep `keepAtLeastMiB` for the host, or half when the total is under twice that.
    static func offered(totalMiB: Int64, keepAtLeastMiB: Int64) -> Int64 {
        totalMiB >= 2 * keepAtLeastMiB ? totalMiB - keepAtLeastMiB : totalMiB / 2
    }
}
