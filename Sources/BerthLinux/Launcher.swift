import BerthCore
import CBerthShim
import CCap
import Glibc

/// One step of the container setup the child performs before exec, in order. Built by pure Swift
/// (the container plan) and executed by the C launcher, so the plan is testable without root.
public struct SetupOp: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Int32, Sendable {
        case mount = 1, mkdir, touch, symlink, mask, readOnly, pivotRoot, setHostname, loopbackUp, chdir
        /// Attaches the detached mount (fsmount) open as descriptor `mode` at `target`.
        case moveMount
        /// Creates the file `target` (it must not exist) with `mode`, holding `data`.
        case writeFile
        /// Removes the file `target`.
        case unlink
    }

    public var kind: Kind
    public var label: String
    public var source: String?
    public var target: String?
    public var fstype: String?
    public var data: String?
    public var mountFlags: UInt
    public var mode: UInt32
    /// A missing path (ENOENT) is skipped rather than failing the launch.
    public var optional: Bool

    public init(_ kind: Kind, label: String, source: String? = nil, target: String? = nil, fstype: String? = nil,
                data: String? = nil, mountFlags: UInt = 0, mode: UInt32 = 0, optional: Bool = false) {
        self.kind = kind
        self.label = label
        self.source = source
        self.target = target
        self.fstype = fstype
        self.data = data
        self.mountFlags = mountFlags
        self.mode = mode
        self.optional = optional
    }

    public var description: String { label }

    /// The detached mount open as `descriptor` in the launching process, attached at `target`.
    public static func moveMount(_ label: String, descriptor: Int32, target: String) -> SetupOp {
        SetupOp(.moveMount, label: label, target: target, mode: UInt32(bitPattern: descriptor))
    }

    public static func mount(_ label: String, source: String?, target: String, fstype: String? = nil,
                             flags: UInt, data: String? = nil, optional: Bool = false) -> SetupOp {
        SetupOp(.mount, label: label, source: source, target: target, fstype: fstype, data: data, mountFlags: flags, optional: optional)
    }
}

public struct Namespaces: OptionSet, Sendable, Hashable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    // The CLONE_NEW* values of <linux/sched.h>; Glibc's module map does not export them.
    public static let mount = Namespaces(rawValue: 0x0002_0000)
    public static let uts = Namespaces(rawValue: 0x0400_0000)
    public static let ipc = Namespaces(rawValue: 0x0800_0000)
    public static let pid = Namespaces(rawValue: 0x2000_0000)
    public static let network = Namespaces(rawValue: 0x4000_0000)
    /// Entered once the child is in its cgroup, so that cgroup is its root.
    public static let cgroup = Namespaces(rawValue: 0x0200_0000)
}

/// Everything the child needs, decided before the clone.
public struct LaunchSpec: Sendable {
    public var namespaces: Namespaces = [.mount, .uts, .ipc, .pid, .cgroup]
    public var ops: [SetupOp] = []
    public var argv: [String] = []
    public var env: [String] = []
    /// PATH inside the container, for finding argv[0].
    public var searchPath: String = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    public var uid: UInt32 = 0
    public var gid: UInt32 = 0
    public var groups: [UInt32] = []
    /// Effective, permitted and inheritable set; nil leaves the capabilities as they are.
    public var capabilities: CapabilitySet?
    /// The bounding set; nil leaves it as it is.
    public var boundingSet: CapabilitySet?
    public var noNewPrivileges = true
    public var seccomp: SeccompProgram?
    /// Descriptors to place on 0, 1, 2 in the child; nil inherits the caller's.
    public var stdio: [Int32?] = [nil, nil, nil]
    public var newSession = true
    /// Signal sent to the child when the launching thread dies; 0 for none.
    public var parentDeathSignal: Int32 = 0

    public init() {}
}

/// A setup step in the child failed: which, with what errno, and which exit status docker run
/// would give (125 setup, 126 found but cannot run, 127 not found).
public struct LaunchFailure: Error, Sendable, CustomStringConvertible {
    public var step: String
    public var errno: Int32
    public var exitStatus: Int32

    public init(step: String, errno: Int32, exitStatus: Int32) {
        self.step = step
        self.errno = errno
        self.exitStatus = exitStatus
    }

    public var description: String { "\(step): \(Errno.name(errno))" }

    /// What the C launcher's child reported before it exited.
    init(_ report: berth_child_error) {
        let step = withUnsafeBytes(of: report.step) { raw in String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self) }
        self.init(step: step, errno: report.err, exitStatus: report.exit_hint == 0 ? 125 : report.exit_hint)
    }
}

public enum ExitStatus: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    /// A wait status as waitpid(2) gives it (or berth-supervise records it).
    public init(waitStatus status: Int32) {
        let signal = status & 0x7f
        self = signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
    }

    /// The shell convention: the exit code, or 128+N when killed by signal N.
    public var code: Int32 {
        switch self {
        case .exited(let code): return code
        case .signaled(let signal): return 128 + signal
        }
    }

    public var description: String {
        switch self {
        case .exited(let code): return "exited with status \(code)"
        case .signaled(let signal): return "killed by signal \(signal) (\(Signals.name(signal)))"
        }
    }
}

public enum Signals {
    public static func name(_ signal: Int32) -> String {
        let names: [Int32: String] = [
            SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGABRT: "SIGABRT",
            SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGUSR1: "SIGUSR1", SIGSEGV: "SIGSEGV",
            SIGUSR2: "SIGUSR2", SIGPIPE: "SIGPIPE", SIGALRM: "SIGALRM", SIGTERM: "SIGTERM", SIGXCPU: "SIGXCPU",
        ]
        return names[signal] ?? "signal \(signal)"
    }
}

/// A child cloned from a LaunchSpec, parked before its setup until `release()`.
public final class SpawnedProcess: @unchecked Sendable {
    public let pid: Int32
    /// A pidfd for the child: pollable for its exit and safe to signal (no pid reuse race).
    public let pidfd: Int32
    /// The clone put it into its cgroup (clone3 with CLONE_INTO_CGROUP), rather than the child
    /// joining it through its join files.
    public let startedInCgroup: Bool
    private var releaseFD: Int32
    private var errorFD: Int32
    private var reaped = false

    init(pid: Int32, pidfd: Int32, startedInCgroup: Bool, releaseFD: Int32, errorFD: Int32) {
        self.pid = pid
        self.pidfd = pidfd
        self.startedInCgroup = startedInCgroup
        self.releaseFD = releaseFD
        self.errorFD = errorFD
    }

    deinit {
        if releaseFD >= 0 { close(releaseFD) }
        if errorFD >= 0 { close(errorFD) }
        if pidfd >= 0 { close(pidfd) }
    }

    /// Lets the child run its setup; until then the launch can still be given up (the child
    /// exits at its release point when the process is dropped). EPIPE when the child has
    /// already exited, as after a failed setup step (its cgroup join): `awaitExec()` then says which.
    public func release() throws {
        guard releaseFD >= 0 else { throw SystemError("release the container process", errno: EBADF) }
        let result = berth_release(releaseFD)
        let err = errno
        close(releaseFD)
        releaseFD = -1
        // EPIPE: the child has ended already, having failed a step it takes before it waits to
        // be released (joining its cgroup); `awaitExec` reads its report of that step.
        if result != 0 && err != EPIPE { throw SystemError("release the container process", errno: err) }
    }

    /// Waits until the child has exec'd its command or failed a setup step.
    public func awaitExec() throws {
        defer { close(errorFD); errorFD = -1 }
        var report = berth_child_error()
        let size = MemoryLayout<berth_child_error>.size
        var got = 0
        while got < size {
            let n = withUnsafeMutableBytes(of: &report) { bytes in
                guard let base = bytes.baseAddress else { return -1 }
                return read(errorFD, base + got, size - got)
            }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            got += n
        }
        if got == 0 { return } // EOF: the pipe closed on exec
        guard got == size else {
            throw LaunchFailure(step: "container setup (truncated error report)", errno: EIO, exitStatus: 125)
        }
        throw LaunchFailure(report)
    }

    public func signal(_ sig: Int32) {
        guard !reaped else { return }
        if berth_pidfd_send_signal(pidfd, sig) != 0 { kill(pid, sig) }
    }

    /// Blocks until the child exits and reaps it.
    public func wait() throws -> ExitStatus {
        let status = try Self.reap(pid)
        reaped = true
        return ExitStatus(waitStatus: status)
    }

    /// waitpid until `pid` has exited (through EINTR); its wait status.
    static func reap(_ pid: Int32) throws -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno == EINTR { continue }
            throw SystemError("wait for pid \(pid)", errno: errno)
        }
        return status
    }

    /// Reaps the child if it has exited, without blocking.
    public func poll() throws -> ExitStatus? {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == 0 { return nil }
        if result < 0 { throw SystemError("wait for pid \(pid)", errno: errno) }
        reaped = true
        return ExitStatus(waitStatus: status)
    }
}

public enum Launcher {
    /// Clones the child described by `spec`. It stays parked before its setup until `release()`.
    /// With `cgroupDirectory` (cgroup v2), the kernel starts it in that cgroup when it can
    /// (`startedInCgroup`); otherwise the child, first thing, writes "0" into each of `joinFiles`
    /// (the cgroup's `selfJoinFiles`) and reports a failure as a setup step.
    public static func spawn(_ spec: LaunchSpec, cgroupDirectory: String? = nil, joinFiles: [String] = []) throws -> SpawnedProcess {
        guard let first = spec.argv.first, !first.isEmpty else {
            throw BerthError(.invalidArgument, "no command given: say what to run after --")
        }
        // Opened only for the clone; an fd that fails to open just means the child joins instead.
        let cgroupFD = cgroupDirectory.map { open($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) } ?? -1
        defer { if cgroupFD >= 0 { close(cgroupFD) } }
        var joinFDs: [Int32] = []
        defer { joinFDs.forEach { close($0) } }
        var paths = CStringArena()
        defer { paths.free() }
        var joinPaths: [UnsafePointer<CChar>?] = []
        for file in joinFiles {
            let fd = open(file, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { throw SystemError("open \(file) to join the container's cgroup", errno: errno) }
            joinFDs.append(fd)
            joinPaths.append(UnsafePointer(try paths.add(file) as UnsafeMutablePointer<CChar>))
        }
        var inCgroup: Int32 = 0
        var release: Int32 = -1
        var errors: Int32 = -1
        // errno is taken at once: freeing the configuration may change it.
        let (pid, err) = try withConfiguration(spec, cgroupFD: cgroupFD) { config in
            joinFDs.withUnsafeBufferPointer { fds in
                joinPaths.withUnsafeBufferPointer { names in
                    config.cgroup_join_fds = fds.baseAddress
                    config.cgroup_join_paths = names.baseAddress
                    config.cgroup_join_count = fds.count
                    return (berth_spawn(&config, &release, &errors, &inCgroup), errno)
                }
            }
        }
        guard pid > 0 else { throw SystemError("clone the container process", errno: err) }
        let pidfd = berth_pidfd_open(pid)
        return SpawnedProcess(pid: pid, pidfd: pidfd, startedInCgroup: inCgroup != 0, releaseFD: release, errorFD: errors)
    }

    /// The C form of `spec`, valid only inside `body` (it points into buffers freed after it).
    static func withConfiguration<T>(_ spec: LaunchSpec, cgroupFD: Int32, _ body: (inout berth_spawn_config) -> T) throws -> T {
        var strings = CStringArena()
        defer { strings.free() }

        var ops = try spec.ops.map { op in
            berth_op(kind: op.kind.rawValue, flags: op.optional ? BERTH_OP_OPTIONAL : 0,
                     label: try strings.add(op.label) as UnsafeMutablePointer<CChar>, source: try strings.add(op.source),
                     target: try strings.add(op.target), fstype: try strings.add(op.fstype), data: try strings.add(op.data),
                     mount_flags: op.mountFlags, mode: op.mode)
        }
        var argv: [UnsafePointer<CChar>?] = try spec.argv.map { UnsafePointer(try strings.add($0) as UnsafeMutablePointer<CChar>) } + [nil]
        var envp: [UnsafePointer<CChar>?] = try spec.env.map { UnsafePointer(try strings.add($0) as UnsafeMutablePointer<CChar>) } + [nil]
        let searchPath = try strings.add(spec.searchPath) as UnsafeMutablePointer<CChar>
        var groups = spec.groups.map { gid_t($0) }
        var caps: cap_t?
        if let set = spec.capabilities { caps = try set.makeCapT() }
        defer { if let caps { cap_free(UnsafeMutableRawPointer(caps)) } }
        var boundingKeep: [UInt8] = []
        if let bounding = spec.boundingSet {
            boundingKeep = (0...CapabilitySet.lastCapability).map { bounding.values.contains($0) ? 1 : 0 }
        }
        let filter = spec.seccomp?.bytes ?? []
        return ops.withUnsafeMutableBufferPointer { opsBuffer in
            argv.withUnsafeMutableBufferPointer { argvBuffer in
                envp.withUnsafeMutableBufferPointer { envBuffer in
                    groups.withUnsafeMutableBufferPointer { groupBuffer in
                        boundingKeep.withUnsafeBufferPointer { keepBuffer in
                            filter.withUnsafeBytes { filterBytes in
                                var config = berth_spawn_config()
                                config.clone_flags = spec.namespaces.subtracting(.cgroup).rawValue
                                config.unshare_cgroup = spec.namespaces.contains(.cgroup) ? 1 : 0
                                config.cgroup_fd = cgroupFD
                                config.new_session = spec.newSession ? 1 : 0
                                config.parent_death_signal = spec.parentDeathSignal
                                config.stdio = (spec.stdio[0] ?? -1, spec.stdio[1] ?? -1, spec.stdio[2] ?? -1)
                                config.ops = UnsafePointer(opsBuffer.baseAddress)
                                config.op_count = opsBuffer.count
                                config.argv = UnsafePointer(argvBuffer.baseAddress)
                                config.envp = UnsafePointer(envBuffer.baseAddress)
                                config.path = UnsafePointer(searchPath)
                                config.uid = spec.uid
                                config.gid = spec.gid
                                config.groups = UnsafePointer(groupBuffer.baseAddress)
                                config.group_count = groupBuffer.count
                                config.capabilities = caps.map { UnsafeMutableRawPointer($0) }
                                config.bounding_keep = keepBuffer.isEmpty ? nil : keepBuffer.baseAddress
                                config.cap_last = keepBuffer.isEmpty ? -1 : CapabilitySet.lastCapability
                                config.no_new_privs = spec.noNewPrivileges ? 1 : 0
                                config.seccomp_filter = filter.isEmpty ? nil : filterBytes.baseAddress
                                config.seccomp_filter_len = filter.count / 8
                                return body(&config)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// C strings that must outlive the clone call; freed together afterwards.
struct CStringArena {
    private var pointers: [UnsafeMutablePointer<CChar>] = []

    mutating func add(_ string: String) throws -> UnsafeMutablePointer<CChar> {
        guard let copy = strdup(string) else { throw SystemError("copy launch arguments", errno: ENOMEM) }
        pointers.append(copy)
        return copy
    }

    mutating func add(_ string: String?) throws -> UnsafeMutablePointer<CChar>? {
        guard let string else { return nil }
        return try add(string) as UnsafeMutablePointer<CChar>
    }

    func free() { pointers.forEach { Glibc.free($0) } }
}
