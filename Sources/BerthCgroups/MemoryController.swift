import BerthCore
import Glibc

/// memory: limit without swap, usage, peak, OOM kills.
enum MemoryController {
    // v2: memory.max, memory.swap.max; memory.events counts oom_kill.
    static func applyV2(_ bytes: Int64?, in dir: String) throws {
        if let bytes {
            try CgroupFiles.write(dir + "/memory.max", "\(bytes)")
            // No swap, so the limit means what it says. Absent on kernels without swap accounting.
            try CgroupFiles.writeIfPresent(dir + "/memory.swap.max", "0")
        } else {
            try CgroupFiles.writeIfPresent(dir + "/memory.max", "max")
            try CgroupFiles.writeIfPresent(dir + "/memory.swap.max", "max")
        }
    }

    static func readV2(_ dir: String, into stats: inout CgroupStats) throws {
        stats.memoryCurrentBytes = CgroupValues.number(try CgroupFiles.readIfPresent(dir + "/memory.current")) ?? 0
        stats.memoryPeakBytes = CgroupValues.number(try CgroupFiles.readIfPresent(dir + "/memory.peak"))
        stats.memoryLimitBytes = CgroupValues.number(try CgroupFiles.readIfPresent(dir + "/memory.max"))
        stats.oomKills = try oomKillsV2(dir)
    }

    static func oomKillsV2(_ dir: String) throws -> UInt64 {
        CgroupValues.keyed(try CgroupFiles.readIfPresent(dir + "/memory.events"))["oom_kill"] ?? 0
    }

    // v1: memory.limit_in_bytes, then memory.memsw.limit_in_bytes (memory + swap) at the same value.
    static func applyV1(_ bytes: Int64?, in dir: String) throws {
        let limit = dir + "/memory.limit_in_bytes"
        let memsw = dir + "/memory.memsw.limit_in_bytes"
        let value = bytes.map { "\($0)" } ?? "-1"
        do {
            try CgroupFiles.write(limit, value)
        } catch let error as SystemError where error.errno == EINVAL && CgroupFiles.exists(memsw) {
            // The kernel keeps memsw >= limit, so raising the limit above an old memsw needs memsw first.
            try CgroupFiles.write(memsw, value)
            try CgroupFiles.write(limit, value)
            return
        }
        // Absent without swap accounting (swapaccount=0), where there is no swap to forbid.
        try CgroupFiles.writeIfPresent(memsw, value)
    }

    static func readV1(_ dir: String, into stats: inout CgroupStats) throws {
        stats.memoryCurrentBytes = CgroupValues.number(try CgroupFiles.readIfPresent(dir + "/memory.usage_in_bytes")) ?? 0
        stats.memoryPeakBytes = CgroupValues.number(try CgroupFiles.readIfPresent(dir + "/memory.max_usage_in_bytes"))
        let limit = CgroupValues.number(try CgroupFiles.readIfPresent(dir + "/memory.limit_in_bytes"))
        // v1 shows "unlimited" as PAGE_COUNTER_MAX pages in bytes, about 2^63.
        stats.memoryLimitBytes = limit.flatMap { $0 >= unlimitedV1 ? nil : $0 }
        stats.oomKills = try oomKillsV1(dir)
    }

    static let unlimitedV1: UInt64 = 1 << 62

    /// The oom_kill line of memory.oom_control exists from Linux 4.13; 0 before.
    static func oomKillsV1(_ dir: String) throws -> UInt64 {
        CgroupValues.keyed(try CgroupFiles.readIfPresent(dir + "/memory.oom_control"))["oom_kill"] ?? 0
    }
}
