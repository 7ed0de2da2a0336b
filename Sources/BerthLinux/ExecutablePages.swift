import FoundationEssentials
import Glibc

/// Hands back to the kernel the pages of this program's own executable that it has touched so
/// far (`madvise(MADV_PAGEOUT)`, Linux 5.4), as Android does for cached apps. A long-running
/// daemon touches much of its code once, at start (argument parsing, recovery, the first
/// connection), and the kernel maps code in 64 KiB or larger blocks around each page touched:
/// most of an idle agent's RSS was such file-backed, clean pages (30 of 33 MiB). They are
/// dropped from this process's page tables, and from the page cache when nothing else maps
/// them; whatever runs again faults back in.
public enum ExecutablePages {
    /// MADV_PAGEOUT of <linux/mman.h>; Glibc's module map leaves it out.
    static let pageOut: Int32 = 21

    /// The bytes of mappings advised: read-only or executable mappings of /proc/self/exe.
    /// 0 when there is nothing to do or the kernel refuses (older than 5.4: EINVAL).
    @discardableResult
    public static func release() -> Int {
        guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"),
              let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8) else { return 0 }
        var advised = 0
        for line in maps.split(separator: "\n") {
            // "start-end perms offset dev inode path"
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            // The path is padded with spaces, which the last split keeps.
            guard fields.count == 6, fields[5].drop(while: { $0 == " " }) == executable, !fields[1].contains("w") else { continue }
            let range = fields[0].split(separator: "-")
            guard range.count == 2, let start = UInt(range[0], radix: 16), let end = UInt(range[1], radix: 16), end > start,
                  let address = UnsafeMutableRawPointer(bitPattern: start) else { continue }
            if madvise(address, Int(end - start), pageOut) == 0 { advised += Int(end - start) }
        }
        return advised
    }
}
