import BerthCore
import CSeccomp
import FoundationEssentials
import Glibc
import Synchronization

/// What the kernel does when a system call matches a rule (or no rule, for the default action).
public enum SeccompAction: Sendable, Hashable {
    case allow
    /// Fail the call with this errno (0...4095; the kernel caps the value at MAX_ERRNO).
    case errno(Int32)
    case killThread
    case killProcess
    /// Send SIGSYS.
    case trap
    /// Notify a ptrace tracer with this message (0...0xffff).
    case trace(Int32)
    /// Allow, and log the call.
    case log
}

/// One comparison of a system call argument, as in libseccomp's `struct scmp_arg_cmp`.
public struct SeccompArgument: Sendable, Hashable {
    public enum Op: Sendable, Hashable {
        case notEqual, lessThan, lessOrEqual, equalTo, greaterOrEqual, greaterThan
        /// `(argument & value) == valueTwo`.
        case maskedEqual
    }

    /// Which argument, 0 to 5.
    public var index: UInt32
    public var value: UInt64
    /// Only used by `maskedEqual`: the value the masked argument must equal.
    public var valueTwo: UInt64
    public var op: Op

    public init(index: UInt32, value: UInt64, valueTwo: UInt64 = 0, op: Op) {
        self.index = index
        self.value = value
        self.valueTwo = valueTwo
        self.op = op
    }
}

/// `action` for every system call in `names` whose arguments all match `arguments`.
/// libseccomp takes one comparison per argument index; several rules for the same call are ORed.
public struct SeccompRule: Sendable, Hashable {
    public var names: [String]
    public var action: SeccompAction
    public var arguments: [SeccompArgument]

    public init(names: [String], action: SeccompAction, arguments: [SeccompArgument] = []) {
        self.names = names
        self.action = action
        self.arguments = arguments
    }
}

/// A flat, already resolved filter: what the compiler turns into BPF. Capability and architecture
/// conditions of a profile are resolved before this (see BerthRuntime's SeccompProfile).
public struct SeccompFilterSpec: Sendable, Hashable {
    public var defaultAction: SeccompAction
    /// libseccomp/OCI names ("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"). The native
    /// architecture is always included; empty means native only.
    public var architectures: [String]
    public var rules: [SeccompRule]

    public init(defaultAction: SeccompAction, architectures: [String] = [], rules: [SeccompRule]) {
        self.defaultAction = defaultAction
        self.architectures = architectures
        self.rules = rules
    }
}

/// A compiled filter: the `struct sock_filter` array exactly as `seccomp_export_bpf` wrote it, ready
/// to be handed to `seccomp(SECCOMP_SET_MODE_FILTER)` in the container's child process.
public struct SeccompProgram: Sendable, Hashable {
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// `struct sock_filter` is 8 bytes: u16 code, u8 jt, u8 jf, u32 k.
    public var instructionCount: Int { bytes.count / 8 }
}

public enum SeccompCompiler {
    /// The libseccomp this process loaded, "2.5.4": a compiled program depends on it (syscall
    /// tables, code generation), so on-disk caches key on it.
    public static var libseccompVersion: String {
        guard let version = seccomp_version() else { return "unknown" }
        return "\(version.pointee.major).\(version.pointee.minor).\(version.pointee.micro)"
    }

    /// libseccomp's token for the architecture this process runs on.
    public static var nativeArchitecture: UInt32 { seccomp_arch_native() }

    /// Compiles `spec` to BPF with libseccomp. Names this libseccomp does not know are skipped, as
    /// Docker does, so one profile serves kernels and libseccomp versions of different ages.
    public static func compile(_ spec: SeccompFilterSpec) throws -> SeccompProgram {
        let defaultAction = try actionValue(spec.defaultAction, context: "default action")
        guard let context = seccomp_init(defaultAction) else {
            throw BerthError(.seccomp, "seccomp_init failed for default action \(spec.defaultAction)")
        }
        defer { seccomp_release(context) }

        // The launcher sets no_new_privs itself, in its place in the setup order.
        try check(seccomp_attr_set(context, SCMP_FLTATR_CTL_NNP, 0), "turn off no_new_privs on load")
        // Syscalls sorted into a binary tree rather than tested one after another. At attach the
        // kernel runs the filter for every syscall number to find the always-allowed ones, so a
        // linear filter costs (syscalls × rules) per container: Docker's profile took 1.6 ms to
        // attach here, the tree 0.7 ms (docs/benchmarks.md). Same decisions; libseccomp < 2.5
        // lacks the attribute and gets the linear filter.
        _ = seccomp_attr_set(context, SCMP_FLTATR_CTL_OPTIMIZE, 2)

        let native = seccomp_arch_native()
        for name in spec.architectures {
            let token = try architectureToken(name)
            if token == native { continue }
            let rc = seccomp_arch_add(context, token)
            if rc == -EEXIST { continue }  // listed twice
            try check(rc, "add architecture \(name)")
        }

        for rule in spec.rules {
            // libseccomp refuses a rule that repeats the default action; it changes nothing anyway.
            if rule.action == spec.defaultAction { continue }
            let action = try actionValue(rule.action, context: "rule for \(rule.names.joined(separator: ", "))")
            let comparisons = try comparisons(of: rule)
            for name in rule.names {
                let number = seccomp_syscall_resolve_name(name)
                if number == __NR_SCMP_ERROR { continue }  // unknown to this libseccomp
                let rc = comparisons.withUnsafeBufferPointer { buffer in
                    seccomp_rule_add_array(context, action, number, UInt32(buffer.count), buffer.baseAddress)
                }
                try check(rc, "add rule for \(name) (\(rule.action))")
            }
        }

        return SeccompProgram(bytes: try export(context))
    }

    // MARK: - libseccomp values

    // The function-like macros of seccomp.h (SCMP_ACT_ERRNO(x), SCMP_ACT_TRACE(x)) do not import
    // into Swift; these are their definitions.
    static func actionValue(_ action: SeccompAction, context: String) throws -> UInt32 {
        switch action {
        case .allow: return 0x7fff_0000
        case .killThread: return 0x0000_0000
        case .killProcess: return 0x8000_0000
        case .trap: return 0x0003_0000
        case .log: return 0x7ffc_0000
        case .errno(let value):
            guard (0...4095).contains(value) else {
                throw BerthError(.seccomp, "\(context): errno \(value) is out of range; use 0 to 4095")
            }
            return 0x0005_0000 | UInt32(value)
        case .trace(let value):
            guard (0...0xffff).contains(value) else {
                throw BerthError(.seccomp, "\(context): trace message \(value) is out of range; use 0 to 65535")
            }
            return 0x7ff0_0000 | UInt32(value)
        }
    }

    static func comparisons(of rule: SeccompRule) throws -> [scmp_arg_cmp] {
        var seen = Set<UInt32>()
        return try rule.arguments.map { argument in
            let names = rule.names.joined(separator: ", ")
            guard argument.index <= 5 else {
                throw BerthError(
                    .seccomp, "rule for \(names): argument index \(argument.index) is out of range; a system call has arguments 0 to 5")
            }
            guard seen.insert(argument.index).inserted else {
                throw BerthError(
                    .seccomp,
                    "rule for \(names) compares argument \(argument.index) twice; libseccomp takes one comparison per argument, "
                        + "so write one rule per comparison")
            }
            return scmp_arg_cmp(arg: argument.index, op: operatorValue(argument.op), datum_a: argument.value, datum_b: argument.valueTwo)
        }
    }

    static func operatorValue(_ op: SeccompArgument.Op) -> scmp_compare {
        switch op {
        case .notEqual: return SCMP_CMP_NE
        case .lessThan: return SCMP_CMP_LT
        case .lessOrEqual: return SCMP_CMP_LE
        case .equalTo: return SCMP_CMP_EQ
        case .greaterOrEqual: return SCMP_CMP_GE
        case .greaterThan: return SCMP_CMP_GT
        case .maskedEqual: return SCMP_CMP_MASKED_EQ
        }
    }

    /// "SCMP_ARCH_X86_64" → libseccomp's token; libseccomp spells the same names in lower case
    /// without the prefix ("x86_64", "aarch64", "mipsel64n32").
    static func architectureToken(_ name: String) throws -> UInt32 {
        let prefix = "SCMP_ARCH_"
        guard name.hasPrefix(prefix), name.count > prefix.count else {
            throw BerthError(.seccomp, "architecture \"\(name)\" is not a libseccomp name like SCMP_ARCH_X86_64")
        }
        let token = seccomp_arch_resolve_name(String(name.dropFirst(prefix.count)).lowercased())
        guard token != 0 else {
            throw BerthError(.seccomp, "architecture \"\(name)\" is unknown to the libseccomp on this host")
        }
        return token
    }

    // MARK: - Export

    /// libseccomp 2.5 exports only to a file descriptor. An anonymous temporary file, unlike a pipe,
    /// cannot fill up and block the export. (Glibc's Swift module lacks memfd_create.)
    static func export(_ context: scmp_filter_ctx) throws -> [UInt8] {
        guard let file = tmpfile() else {
            throw BerthError(.seccomp, "create a temporary file for the seccomp export: \(Errno.name(errno))")
        }
        defer { fclose(file) }
        let fd = fileno(file)

        try check(seccomp_export_bpf(context, fd), "export the filter as BPF")

        let size = lseek(fd, 0, SEEK_END)
        guard size >= 0, lseek(fd, 0, SEEK_SET) == 0 else {
            throw BerthError(.seccomp, "seek in the exported seccomp filter: \(Errno.name(errno))")
        }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { buffer in
                read(fd, buffer.baseAddress.map { $0 + done }, buffer.count - done)
            }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw BerthError(.seccomp, "read the exported seccomp filter: \(n == 0 ? "short read" : Errno.name(errno))")
            }
            done += n
        }
        guard bytes.count % 8 == 0 else {
            throw BerthError(.seccomp, "exported seccomp filter is \(bytes.count) bytes, not a whole number of 8-byte instructions")
        }
        return bytes
    }

    /// libseccomp returns 0 or a negated errno.
    static func check(_ rc: Int32, _ step: String) throws {
        guard rc < 0 else { return }
        throw BerthError(.seccomp, "seccomp: \(step): \(Errno.name(-rc)) (\(Errno.message(-rc)))")
    }
}

/// Compiled filters by spec, so a profile is compiled once per agent, not once per launch.
/// Two threads missing the same spec at once may both compile it; the result is the same bytes.
public final class SeccompProgramCache: Sendable {
    private let programs = Mutex<[SeccompFilterSpec: SeccompProgram]>([:])

    public init() {}

    /// The cached program for `spec`, compiling it on the first request.
    public func program(for spec: SeccompFilterSpec) throws -> SeccompProgram {
        if let cached = cached(spec) { return cached }
        // Compile outside the lock: a few milliseconds during which other specs stay readable.
        let program = try SeccompCompiler.compile(spec)
        return programs.withLock { programs in
            if let raced = programs[spec] { return raced }
            programs[spec] = program
            return program
        }
    }

    /// Adds a program compiled elsewhere (read from a disk cache) for `spec`.
    public func insert(_ program: SeccompProgram, for spec: SeccompFilterSpec) {
        programs.withLock { $0[spec] = program }
    }

    public func cached(_ spec: SeccompFilterSpec) -> SeccompProgram? {
        programs.withLock { $0[spec] }
    }

    public var count: Int {
        programs.withLock { $0.count }
    }

    public func removeAll() {
        programs.withLock { $0.removeAll() }
    }
}

extension SeccompFilterSpec {
    /// Every field in a fixed, unambiguous byte form (lengths before strings, tags before
    /// values): stable across processes and builds, unlike `hashValue`, so a digest of it can name
    /// a compiled program on disk.
    public var canonicalBytes: [UInt8] {
        var out: [UInt8] = Array("berth-seccomp-spec-1\n".utf8)
        func append(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) } }
        func append(_ string: String) {
            append(UInt64(string.utf8.count))
            out.append(contentsOf: string.utf8)
        }
        func append(_ action: SeccompAction) {
            switch action {
            case .allow: append(1)
            case .errno(let code): append(2); append(UInt64(UInt32(bitPattern: code)))
            case .killThread: append(3)
            case .killProcess: append(4)
            case .trap: append(5)
            case .trace(let message): append(6); append(UInt64(UInt32(bitPattern: message)))
            case .log: append(7)
            }
        }
        append(defaultAction)
        append(UInt64(architectures.count))
        architectures.forEach(append)
        append(UInt64(rules.count))
        for rule in rules {
            append(UInt64(rule.names.count))
            rule.names.forEach(append)
            append(rule.action)
            append(UInt64(rule.arguments.count))
            for argument in rule.arguments {
                append(UInt64(argument.index))
                append(argument.value)
                append(argument.valueTwo)
                let op: UInt64 = switch argument.op {
                case .notEqual: 1
                case .lessThan: 2
                case .lessOrEqual: 3
                case .equalTo: 4
                case .greaterOrEqual: 5
                case .greaterThan: 6
                case .maskedEqual: 7
                }
                append(op)
            }
        }
        return out
    }
}
