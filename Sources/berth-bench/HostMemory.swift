import BerthCore
import Foundation

/// Memory figures of the host and of single processes, from /proc, for `berth-bench launch`.
enum HostMemory {
    /// The fields of /proc/meminfo that the launch benchmark compares, in KiB.
    struct Snapshot {
        var used: Int
        /// Kernel memory that grows with namespaces, mounts, cgroups and processes.
        var kernel: Int

        static func now() -> Snapshot {
            let fields = meminfo()
            let used = (fields["MemTotal"] ?? 0) - (fields["MemAvailable"] ?? 0)
            let kernel = ["Slab", "KernelStack", "PageTables", "Percpu"].reduce(0) { $0 + (fields[$1] ?? 0) }
            return Snapshot(used: used, kernel: kernel)
        }
    }

    static func meminfo() -> [String: Int] {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return [:] }
        var fields: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count >= 2, let value = Int(parts[1]) else { continue }
            fields[String(parts[0].dropLast())] = value
        }
        return fields
    }

    /// A field of /proc/PID/status in KiB (VmRSS, VmHWM), nil when the process is gone.
    static func status(_ pid: Int32, _ field: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            return line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) }
        }
        return nil
    }

    /// The proportional set size in KiB: a process's share of the pages it maps, so that pages
    /// shared by many processes (a binary's text) are counted once over all of them.
    static func pss(_ pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/smaps_rollup", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("Pss:") {
            return line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) }
        }
        return nil
    }

    /// User + system CPU time in milliseconds of a process (fields 14 and 15 of /proc/PID/stat)
    /// and of its children it has reaped (16 and 17).
    static func cpuMilliseconds(_ pid: Int32) -> (own: Double, children: Double)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        // Fields after the command name, which may itself hold spaces; state is field 3.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 14, let user = Double(fields[11]), let system = Double(fields[12]),
              let childUser = Double(fields[13]), let childSystem = Double(fields[14]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return ((user + system) * 1000 / ticks, (childUser + childSystem) * 1000 / ticks)
    }

    /// Every process: its PID, command name and cgroup lines.
    static func processes() -> [(pid: Int32, comm: String, cgroup: String)] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { entry in
            guard let pid = Int32(entry),
                  let comm = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8),
                  let cgroup = try? String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8) else { return nil }
            return (pid, comm.trimmingWhitespace(), cgroup)
        }
    }
}
