import BerthCore
import Glibc

/// One finished child process, as wait4 reported it.
struct ChildRun {
    /// From just before posix_spawn to just after wait4 returned, on the monotonic clock.
    var wallNanoseconds: UInt64
    /// The raw wait status.
    var status: Int32
    /// User + system CPU time of the child and its reaped descendants. (Not ru_maxrss: see
    /// PeakRSS for why that needs a helper process.)
    var cpuNanoseconds: UInt64

    var exitedCleanly: Bool { status & 0x7f == 0 && (status >> 8) & 0xff == 0 }

    var statusDescription: String {
        let signal = status & 0x7f
        return signal == 0 ? "exit status \((status >> 8) & 0xff)" : "killed by signal \(signal)"
    }

    var wallMilliseconds: Double { Double(wallNanoseconds) / 1e6 }
    var cpuMilliseconds: Double { Double(cpuNanoseconds) / 1e6 }
}

/// Spawns commands with posix_spawn and reaps them with wait4, because Foundation's Process
/// does not expose the child's rusage and adds its own threads to what is being timed.
/// stdin and stdout go to /dev/null; stderr goes to a file, kept for the error message when a
/// run fails.
final class ChildRunner {
    private let devNull: Int32
    private let stderrFD: Int32
    let stderrPath: String

    init(stderrPath: String) throws {
        devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
        guard devNull >= 0 else { throw SystemError("open /dev/null", errno: errno) }
        stderrFD = open(stderrPath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard stderrFD >= 0 else {
            let err = errno
            close(devNull)
            throw SystemError("open \(stderrPath)", errno: err)
        }
        self.stderrPath = stderrPath
    }

    deinit {
        close(devNull)
        close(stderrFD)
    }

    /// Runs `argv` (argv[0] an absolute path) to completion.
    func run(_ argv: [String]) throws -> ChildRun {
        guard let path = argv.first else { throw BerthError(.invalidArgument, "no command to run") }
        // Empty the stderr file before the clock starts, so each run's message stands alone.
        guard ftruncate(stderrFD, 0) == 0, lseek(stderrFD, 0, SEEK_SET) == 0 else {
            throw SystemError("truncate \(stderrPath)", errno: errno)
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, devNull, 0)
        posix_spawn_file_actions_adddup2(&actions, devNull, 1)
        posix_spawn_file_actions_adddup2(&actions, stderrFD, 2)

        // The Swift runtime ignores SIGPIPE; the children should start with the default.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let cStrings = argv.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        guard !cStrings.contains(where: { $0 == nil }) else { throw SystemError("copy arguments", errno: ENOMEM) }
        let cArgv = cStrings + [nil]

        var pid: pid_t = 0
        let start = Self.monotonicNanoseconds()
        let rc = posix_spawn(&pid, path, &actions, &attributes, cArgv, environ)
        guard rc == 0 else { throw SystemError("spawn \(path)", errno: rc) }

        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 {
            if errno == EINTR { continue }
            throw SystemError("wait for \(path) (pid \(pid))", errno: errno)
        }
        let end = Self.monotonicNanoseconds()

        let cpu = Self.nanoseconds(usage.ru_utime) + Self.nanoseconds(usage.ru_stime)
        return ChildRun(wallNanoseconds: end - start, status: status, cpuNanoseconds: cpu)
    }

    /// The last run's stderr, trimmed, for an error message.
    func lastStderr(limit: Int = 2000) -> String {
        guard lseek(stderrFD, 0, SEEK_SET) == 0 else { return "" }
        var bytes = [UInt8](repeating: 0, count: limit)
        let n = bytes.withUnsafeMutableBytes { read(stderrFD, $0.baseAddress, limit) }
        guard n > 0 else { return "" }
        return String(decoding: bytes.prefix(n), as: UTF8.self).trimmingWhitespace()
    }

    static func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    static func nanoseconds(_ value: timeval) -> UInt64 {
        UInt64(value.tv_sec) * 1_000_000_000 + UInt64(value.tv_usec) * 1000
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0.isWhitespace }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
