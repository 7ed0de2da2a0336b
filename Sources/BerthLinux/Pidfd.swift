import BerthCore
import CBerthShim
import FoundationEssentials
import Glibc

/// pidfds of processes that are not this process's children (a container supervisor after an
/// agent restart): pollable for their exit, and no PID reuse race once opened.
public enum Pidfd {
    /// A pidfd for `pid`, or nil when no such process exists (ESRCH).
    public static func open(_ pid: Int32) throws -> Int32? {
        let fd = berth_pidfd_open(pid)
        if fd >= 0 { return fd }
        if errno == ESRCH { return nil }
        throw SystemError("pidfd_open \(pid)", errno: errno)
    }

    /// The process's start time in clock ticks since boot (field 22 of /proc/PID/stat): with the
    /// PID, it names one process even after the PID has been reused.
    public static func startTime(of pid: Int32) -> UInt64? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        // Fields after the command name (which may hold spaces), from field 3 on.
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? UInt64(fields[19]) : nil
    }
}
