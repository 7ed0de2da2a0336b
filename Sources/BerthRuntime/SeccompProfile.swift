import BerthCore
import BerthLinux
import FoundationEssentials
import Glibc

/// A seccomp profile in Docker's JSON format, which is also the OCI runtime spec's `linux.seccomp`
/// object plus Docker's `archMap` and per-rule `includes`/`excludes`. A profile is resolved against
/// the container's capabilities and architecture with `filterSpec(...)`, then compiled by BerthLinux.
///
/// "unconfined" is not a profile: callers run such a container without a filter.
public struct SeccompProfile: Codable, Sendable, Hashable {
    public enum Action: String, Codable, Sendable, Hashable, CaseIterable {
        case allow = "SCMP_ACT_ALLOW"
        case errno = "SCMP_ACT_ERRNO"
        case kill = "SCMP_ACT_KILL"
        case killThread = "SCMP_ACT_KILL_THREAD"
        case killProcess = "SCMP_ACT_KILL_PROCESS"
        case trap = "SCMP_ACT_TRAP"
        case trace = "SCMP_ACT_TRACE"
        case log = "SCMP_ACT_LOG"
    }

    public enum Operator: String, Codable, Sendable, Hashable, CaseIterable {
        case notEqual = "SCMP_CMP_NE"
        case lessThan = "SCMP_CMP_LT"
        case lessOrEqual = "SCMP_CMP_LE"
        case equalTo = "SCMP_CMP_EQ"
        case greaterOrEqual = "SCMP_CMP_GE"
        case greaterThan = "SCMP_CMP_GT"
        case maskedEqual = "SCMP_CMP_MASKED_EQ"
    }

    public struct Argument: Codable, Sendable, Hashable {
        public var index: UInt32
        public var value: UInt64
        public var valueTwo: UInt64
        public var op: Operator

        public init(index: UInt32, value: UInt64, valueTwo: UInt64 = 0, op: Operator) {
            self.index = index
            self.value = value
            self.valueTwo = valueTwo
            self.op = op
        }
    }

    /// Docker's conditions on a rule. `includes`: every listed capability is granted, the
    /// architecture is listed, the kernel is at least `minKernel`. `excludes`: any listed
    /// capability is granted, or the architecture is listed.
    public struct Condition: Codable, Sendable, Hashable {
        public var caps: [String]
        public var arches: [String]
        /// "4.8"; only meaningful in `includes`.
        public var minKernel: KernelVersion?

        public init(caps: [String] = [], arches: [String] = [], minKernel: KernelVersion? = nil) {
            self.caps = caps
            self.arches = arches
            self.minKernel = minKernel
        }

        public var isEmpty: Bool { caps.isEmpty && arches.isEmpty && minKernel == nil }
    }

    public struct Syscall: Codable, Sendable, Hashable {
        public var names: [String]
        public var action: Action
        /// The errno for SCMP_ACT_ERRNO (EPERM when absent) or the message for SCMP_ACT_TRACE.
        public var errnoRet: UInt32?
        public var args: [Argument]
        public var includes: Condition
        public var excludes: Condition
        public var comment: String?

        public init(
            names: [String], action: Action, errnoRet: UInt32? = nil, args: [Argument] = [],
            includes: Condition = .init(), excludes: Condition = .init(), comment: String? = nil
        ) {
            self.names = names
            self.action = action
            self.errnoRet = errnoRet
            self.args = args
            self.includes = includes
            self.excludes = excludes
            self.comment = comment
        }
    }

    /// Docker's `archMap`: on a host whose native architecture is `architecture`, the filter also
    /// covers `subArchitectures` (the 32-bit ABIs the CPU can run).
    public struct ArchitectureMap: Codable, Sendable, Hashable {
        public var architecture: String
        public var subArchitectures: [String]

        public init(architecture: String, subArchitectures: [String] = []) {
            self.architecture = architecture
            self.subArchitectures = subArchitectures
        }
    }

    public var defaultAction: Action
    /// The errno of the default action when it is SCMP_ACT_ERRNO (EPERM when absent).
    public var defaultErrnoRet: UInt32?
    /// OCI form: the architectures the filter covers ("SCMP_ARCH_X86_64"). Exclusive with `archMap`.
    public var architectures: [String]
    public var archMap: [ArchitectureMap]
    /// OCI `flags` ("SECCOMP_FILTER_FLAG_LOG", ...), passed through for the launcher.
    public var flags: [String]
    public var syscalls: [Syscall]

    public init(
        defaultAction: Action, defaultErrnoRet: UInt32? = nil, architectures: [String] = [],
        archMap: [ArchitectureMap] = [], flags: [String] = [], syscalls: [Syscall]
    ) {
        self.defaultAction = defaultAction
        self.defaultErrnoRet = defaultErrnoRet
        self.architectures = architectures
        self.archMap = archMap
        self.flags = flags
        self.syscalls = syscalls
    }
}

// MARK: - Loading

extension SeccompProfile {
    public static func load(path: String) throws -> SeccompProfile {
        let bytes: [UInt8]
        do {
            bytes = try FileBytes.read(path)
        } catch let error as SystemError {
            throw BerthError(.invalidArgument, "cannot read seccomp profile \(path): \(error.errnoName) (\(Errno.message(error.errno)))", underlying: error)
        }
        return try parse(Data(bytes), source: path)
    }

    /// Parses a Docker profile or an OCI `linux.seccomp` object. `source` names the input in errors
    /// ("/etc/berth/seccomp.json: syscalls[3].action: unknown action ...").
    public static func parse(_ data: Data, source: String) throws -> SeccompProfile {
        // JSONDecoder says only "not valid JSON"; this says where.
        if let detail = JSONSyntax.firstError(in: Array(data)) {
            throw BerthError(.invalidArgument, "\(source): not valid JSON: \(detail)")
        }
        do {
            return try JSONDecoder().decode(SeccompProfile.self, from: data)
        } catch let error as DecodingError {
            throw BerthError(.invalidArgument, "\(source): \(describe(error))", underlying: error)
        } catch {
            throw BerthError(.invalidArgument, "\(source): \(error)", underlying: error)
        }
    }

    /// "syscalls[3].args[0].op: unknown operator ..." from Foundation's decoding errors.
    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            var text = ""
            for key in keys {
                if let index = key.intValue {
                    text += "[\(index)]"
                } else {
                    text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
                }
            }
            return text
        }
        func located(_ keys: [any CodingKey], _ message: String) -> String {
            let location = path(keys)
            return location.isEmpty ? message : "\(location): \(message)"
        }
        switch error {
        case .dataCorrupted(let context):
            return located(context.codingPath, context.debugDescription)
        case .keyNotFound(let key, let context):
            return located(context.codingPath + [key], "missing")
        case .typeMismatch(let type, let context):
            return located(context.codingPath, "expected \(typeName(type))")
        case .valueNotFound(let type, let context):
            return located(context.codingPath, "expected \(typeName(type)), found null")
        @unknown default:
            return "\(error)"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is UInt32.Type, is UInt64.Type: return "a non-negative integer"
        case is [Any].Type: return "an array"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") || name.contains("KeyedDecodingContainer") { return "an object" }
            return name
        }
    }
}

// MARK: - Codable, with the checks Docker and runc make

extension SeccompProfile {
    enum CodingKeys: String, CodingKey {
        case defaultAction, defaultErrnoRet, architectures, archMap, flags, syscalls
        case listenerPath
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        defaultAction = try Self.decodeAction(container, .defaultAction)
        defaultErrnoRet = try Self.decodeErrno(container, .defaultErrnoRet)
        if defaultErrnoRet != nil, defaultAction != .errno, defaultAction != .trace {
            throw DecodingError.dataCorruptedError(
                forKey: .defaultErrnoRet, in: container,
                debugDescription: "only used with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, but defaultAction is \(defaultAction.rawValue)")
        }
        architectures = try container.decodeIfPresent([String].self, forKey: .architectures) ?? []
        archMap = try container.decodeIfPresent([ArchitectureMap].self, forKey: .archMap) ?? []
        if !architectures.isEmpty, !archMap.isEmpty {
            throw DecodingError.dataCorruptedError(
                forKey: .archMap, in: container, debugDescription: "use either architectures or archMap, not both")
        }
        for (index, name) in architectures.enumerated() where SeccompArchitecture(named: name)?.libseccompName != name {
            throw DecodingError.dataCorrupted(.init(
                codingPath: container.codingPath + [CodingKeys.architectures, SeccompIndexKey(index)],
                debugDescription: SeccompArchitecture.unknownMessage(name)))
        }
        flags = try container.decodeIfPresent([String].self, forKey: .flags) ?? []
        for (index, flag) in flags.enumerated() where !Self.knownFlags.contains(flag) {
            throw DecodingError.dataCorrupted(.init(
                codingPath: container.codingPath + [CodingKeys.flags, SeccompIndexKey(index)],
                debugDescription: "unknown flag \"\(flag)\"; accepted: \(Self.knownFlags.joined(separator: ", "))"))
        }
        if try container.decodeIfPresent(String.self, forKey: .listenerPath).map({ !$0.isEmpty }) == true {
            throw DecodingError.dataCorruptedError(
                forKey: .listenerPath, in: container,
                debugDescription: "seccomp user notification (SCMP_ACT_NOTIFY) is not supported by Berth")
        }
        syscalls = try container.decodeIfPresent([Syscall].self, forKey: .syscalls) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(defaultAction, forKey: .defaultAction)
        try container.encodeIfPresent(defaultErrnoRet, forKey: .defaultErrnoRet)
        if !architectures.isEmpty { try container.encode(architectures, forKey: .architectures) }
        if !archMap.isEmpty { try container.encode(archMap, forKey: .archMap) }
        if !flags.isEmpty { try container.encode(flags, forKey: .flags) }
        try container.encode(syscalls, forKey: .syscalls)
    }

    /// The flags of the OCI runtime spec.
    static let knownFlags = [
        "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
    ]

    static func decodeAction<K: CodingKey>(_ container: KeyedDecodingContainer<K>, _ key: K) throws -> Action {
        let text = try container.decode(String.self, forKey: key)
        if let action = Action(rawValue: text) { return action }
        let hint = text == "SCMP_ACT_NOTIFY" ? " (user notification is not supported by Berth)" : ""
        throw DecodingError.dataCorruptedError(
            forKey: key, in: container,
            debugDescription: "unknown action \"\(text)\"\(hint); accepted: \(Action.allCases.map(\.rawValue).joined(separator: ", "))")
    }

    /// Foundation reports a number that does not fit (-1 for a UInt64) with an internal error that
    /// later becomes "not valid JSON" with no location; this names the field instead.
    static func decodeInteger<T: FixedWidthInteger & Decodable, K: CodingKey>(
        _ type: T.Type, _ container: KeyedDecodingContainer<K>, _ key: K
    ) throws -> T? {
        do {
            return try container.decodeIfPresent(T.self, forKey: key)
        } catch let error as DecodingError {
            guard case .dataCorrupted(let context) = error, context.codingPath.isEmpty else { throw error }
            throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "expected an integer from 0 to \(T.max)")
        } catch {
            throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "expected an integer from 0 to \(T.max)")
        }
    }

    static func requireInteger<T: FixedWidthInteger & Decodable, K: CodingKey>(
        _ type: T.Type, _ container: KeyedDecodingContainer<K>, _ key: K
    ) throws -> T {
        guard let value = try decodeInteger(T.self, container, key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: container.codingPath, debugDescription: "missing"))
        }
        return value
    }

    static func decodeErrno<K: CodingKey>(_ container: KeyedDecodingContainer<K>, _ key: K) throws -> UInt32? {
        guard let value = try decodeInteger(UInt32.self, container, key) else { return nil }
        // The kernel keeps 16 bits and caps an errno at MAX_ERRNO (4095).
        guard value <= 4095 else {
            throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "\(value) is out of range; use 0 to 4095")
        }
        return value
    }
}

struct SeccompIndexKey: CodingKey {
    var intValue: Int?
    var stringValue: String { "Index \(intValue ?? 0)" }
    init(_ index: Int) { intValue = index }
    init?(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { nil }
}

extension SeccompProfile.Syscall {
    enum CodingKeys: String, CodingKey {
        case names, name, action, errnoRet, args, includes, excludes, comment
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let many = try container.decodeIfPresent([String].self, forKey: .names) ?? []
        let one = try container.decodeIfPresent(String.self, forKey: .name)
        switch (one, many.isEmpty) {
        case (.some, false):
            throw DecodingError.dataCorruptedError(forKey: .name, in: container, debugDescription: "use either name or names, not both")
        case (.some(let name), true):
            names = [name]
        case (nil, false):
            names = many
        case (nil, true):
            throw DecodingError.dataCorruptedError(
                forKey: .names, in: container, debugDescription: "no system call names; give names: [\"...\"]")
        }
        action = try SeccompProfile.decodeAction(container, .action)
        errnoRet = try SeccompProfile.decodeErrno(container, .errnoRet)
        if errnoRet != nil, action != .errno, action != .trace {
            throw DecodingError.dataCorruptedError(
                forKey: .errnoRet, in: container,
                debugDescription: "only used with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, but the action is \(action.rawValue)")
        }
        args = try container.decodeIfPresent([SeccompProfile.Argument].self, forKey: .args) ?? []
        includes = try container.decodeIfPresent(SeccompProfile.Condition.self, forKey: .includes) ?? .init()
        excludes = try container.decodeIfPresent(SeccompProfile.Condition.self, forKey: .excludes) ?? .init()
        if excludes.minKernel != nil {
            throw DecodingError.dataCorruptedError(
                forKey: .excludes, in: container, debugDescription: "minKernel is only supported in includes")
        }
        comment = try container.decodeIfPresent(String.self, forKey: .comment)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(names, forKey: .names)
        try container.encode(action.rawValue, forKey: .action)
        try container.encodeIfPresent(errnoRet, forKey: .errnoRet)
        if !args.isEmpty { try container.encode(args, forKey: .args) }
        try container.encodeIfPresent(comment, forKey: .comment)
        if !includes.isEmpty { try container.encode(includes, forKey: .includes) }
        if !excludes.isEmpty { try container.encode(excludes, forKey: .excludes) }
    }
}

extension SeccompProfile.Argument {
    enum CodingKeys: String, CodingKey { case index, value, valueTwo, op }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        index = try SeccompProfile.requireInteger(UInt32.self, container, .index)
        guard index <= 5 else {
            throw DecodingError.dataCorruptedError(
                forKey: .index, in: container, debugDescription: "\(index) is out of range; a system call has arguments 0 to 5")
        }
        value = try SeccompProfile.requireInteger(UInt64.self, container, .value)
        valueTwo = try SeccompProfile.decodeInteger(UInt64.self, container, .valueTwo) ?? 0
        let text = try container.decode(String.self, forKey: .op)
        guard let op = SeccompProfile.Operator(rawValue: text) else {
            let accepted = SeccompProfile.Operator.allCases.map(\.rawValue).joined(separator: ", ")
            throw DecodingError.dataCorruptedError(
                forKey: .op, in: container, debugDescription: "unknown operator \"\(text)\"; accepted: \(accepted)")
        }
        self.op = op
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(index, forKey: .index)
        try container.encode(value, forKey: .value)
        if valueTwo != 0 { try container.encode(valueTwo, forKey: .valueTwo) }
        try container.encode(op.rawValue, forKey: .op)
    }
}

extension SeccompProfile.Condition {
    enum CodingKeys: String, CodingKey { case caps, arches, minKernel }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        caps = try container.decodeIfPresent([String].self, forKey: .caps) ?? []
        arches = try container.decodeIfPresent([String].self, forKey: .arches) ?? []
        if let text = try container.decodeIfPresent(String.self, forKey: .minKernel), !text.isEmpty {
            guard let version = KernelVersion(text) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .minKernel, in: container, debugDescription: "\"\(text)\" is not a kernel version like \"4.8\"")
            }
            minKernel = version
        } else {
            minKernel = nil
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        if !caps.isEmpty { try container.encode(caps, forKey: .caps) }
        if !arches.isEmpty { try container.encode(arches, forKey: .arches) }
        try container.encodeIfPresent(minKernel?.description, forKey: .minKernel)
    }
}

extension SeccompProfile.ArchitectureMap {
    enum CodingKeys: String, CodingKey { case architecture, subArchitectures }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        architecture = try container.decode(String.self, forKey: .architecture)
        guard SeccompArchitecture(named: architecture)?.libseccompName == architecture else {
            throw DecodingError.dataCorruptedError(
                forKey: .architecture, in: container, debugDescription: SeccompArchitecture.unknownMessage(architecture))
        }
        // Docker writes `"subArchitectures": null` for architectures without any.
        subArchitectures = try container.decodeIfPresent([String].self, forKey: .subArchitectures) ?? []
        for (index, name) in subArchitectures.enumerated() where SeccompArchitecture(named: name)?.libseccompName != name {
            throw DecodingError.dataCorrupted(.init(
                codingPath: container.codingPath + [CodingKeys.subArchitectures, SeccompIndexKey(index)],
                debugDescription: SeccompArchitecture.unknownMessage(name)))
        }
    }
}

// MARK: - Resolving a profile for one container

extension SeccompProfile {
    /// The flat filter for a container with `capabilities` ("CAP_SYS_ADMIN" or "SYS_ADMIN") on
    /// `architecture` ("amd64", "x86_64" or "SCMP_ARCH_X86_64") and `kernel`, with Docker's rules:
    /// a rule is dropped when its `excludes` match or its `includes` do not.
    ///
    /// Arguments compared twice at the same index become one rule per comparison (ORed), as runc
    /// does, because libseccomp takes one comparison per argument in a rule.
    public func filterSpec(
        capabilities: Set<String>,
        architecture: String = SeccompArchitecture.native.goName,
        kernel: KernelVersion? = KernelVersion.running
    ) -> SeccompFilterSpec {
        let granted = Set(capabilities.map(Self.canonicalCapability))
        let arch = SeccompArchitecture(named: architecture)
        let archName = arch?.goName ?? architecture.lowercased()

        func matchesArch(_ names: [String]) -> Bool {
            names.contains { (SeccompArchitecture(named: $0)?.goName ?? $0.lowercased()) == archName }
        }

        func isGranted(_ name: String) -> Bool { granted.contains(Self.canonicalCapability(name)) }

        var rules: [SeccompRule] = []
        for call in syscalls {
            if call.excludes.caps.contains(where: isGranted) { continue }
            if !call.excludes.arches.isEmpty, matchesArch(call.excludes.arches) { continue }
            if !call.includes.caps.allSatisfy(isGranted) { continue }
            if !call.includes.arches.isEmpty, !matchesArch(call.includes.arches) { continue }
            if let minimum = call.includes.minKernel {
                // An unknown kernel cannot be shown to be new enough: leave the rule out.
                guard let kernel, kernel >= minimum else { continue }
            }
            let action = Self.filterAction(call.action, errno: call.errnoRet)
            let arguments = call.args.map {
                SeccompArgument(index: $0.index, value: $0.value, valueTwo: $0.valueTwo, op: Self.filterOperator($0.op))
            }
            if Set(arguments.map(\.index)).count == arguments.count {
                rules.append(SeccompRule(names: call.names, action: action, arguments: arguments))
            } else {
                for argument in arguments {
                    rules.append(SeccompRule(names: call.names, action: action, arguments: [argument]))
                }
            }
        }

        return SeccompFilterSpec(
            defaultAction: Self.filterAction(defaultAction, errno: defaultErrnoRet),
            architectures: resolvedArchitectures(native: arch),
            rules: rules)
    }

    /// `architectures` as given, or the `archMap` entry of the native architecture with its
    /// sub-architectures; empty (native only) when neither names it.
    func resolvedArchitectures(native: SeccompArchitecture?) -> [String] {
        if !architectures.isEmpty { return architectures }
        guard let native, let entry = archMap.first(where: { $0.architecture == native.libseccompName }) else { return [] }
        return [entry.architecture] + entry.subArchitectures
    }

    static func canonicalCapability(_ name: String) -> String {
        let upper = name.uppercased()
        return upper.hasPrefix("CAP_") ? upper : "CAP_" + upper
    }

    /// runc's reading: errnoRet defaults to EPERM for both SCMP_ACT_ERRNO and SCMP_ACT_TRACE.
    static func filterAction(_ action: Action, errno: UInt32?) -> SeccompAction {
        let code = Int32(errno ?? 1)
        switch action {
        case .allow: return .allow
        case .errno: return .errno(code)
        case .kill, .killThread: return .killThread
        case .killProcess: return .killProcess
        case .trap: return .trap
        case .trace: return .trace(code)
        case .log: return .log
        }
    }

    static func filterOperator(_ op: Operator) -> SeccompArgument.Op {
        switch op {
        case .notEqual: return .notEqual
        case .lessThan: return .lessThan
        case .lessOrEqual: return .lessOrEqual
        case .equalTo: return .equalTo
        case .greaterOrEqual: return .greaterOrEqual
        case .greaterThan: return .greaterThan
        case .maskedEqual: return .maskedEqual
        }
    }
}

// MARK: - Architectures and kernel versions

/// One CPU architecture under the three names profiles use for it: Go's and OCI image platforms'
/// ("amd64", in Docker's `includes.arches`), libseccomp's ("SCMP_ARCH_X86_64", in `architectures`
/// and `archMap`) and the kernel's (`uname -m`, "x86_64").
public struct SeccompArchitecture: Sendable, Hashable {
    public let goName: String
    public let libseccompName: String
    public let aliases: [String]

    static let all: [SeccompArchitecture] = [
        .init(goName: "amd64", libseccompName: "SCMP_ARCH_X86_64", aliases: ["x86_64"]),
        .init(goName: "x86", libseccompName: "SCMP_ARCH_X86", aliases: ["386", "i386", "i686"]),
        .init(goName: "x32", libseccompName: "SCMP_ARCH_X32", aliases: []),
        .init(goName: "arm64", libseccompName: "SCMP_ARCH_AARCH64", aliases: ["aarch64"]),
        .init(goName: "arm", libseccompName: "SCMP_ARCH_ARM", aliases: ["armv7l", "armv6l"]),
        .init(goName: "mips", libseccompName: "SCMP_ARCH_MIPS", aliases: []),
        .init(goName: "mipsle", libseccompName: "SCMP_ARCH_MIPSEL", aliases: ["mipsel"]),
        .init(goName: "mips64", libseccompName: "SCMP_ARCH_MIPS64", aliases: []),
        .init(goName: "mips64le", libseccompName: "SCMP_ARCH_MIPSEL64", aliases: ["mipsel64"]),
        .init(goName: "mips64n32", libseccompName: "SCMP_ARCH_MIPS64N32", aliases: []),
        .init(goName: "mipsel64n32", libseccompName: "SCMP_ARCH_MIPSEL64N32", aliases: ["mips64len32"]),
        .init(goName: "ppc", libseccompName: "SCMP_ARCH_PPC", aliases: []),
        .init(goName: "ppc64", libseccompName: "SCMP_ARCH_PPC64", aliases: []),
        .init(goName: "ppc64le", libseccompName: "SCMP_ARCH_PPC64LE", aliases: []),
        .init(goName: "s390", libseccompName: "SCMP_ARCH_S390", aliases: []),
        .init(goName: "s390x", libseccompName: "SCMP_ARCH_S390X", aliases: []),
        .init(goName: "parisc", libseccompName: "SCMP_ARCH_PARISC", aliases: []),
        .init(goName: "parisc64", libseccompName: "SCMP_ARCH_PARISC64", aliases: []),
        .init(goName: "riscv64", libseccompName: "SCMP_ARCH_RISCV64", aliases: []),
        .init(goName: "loong64", libseccompName: "SCMP_ARCH_LOONGARCH64", aliases: ["loongarch64"]),
    ]

    /// Any of the three names, case-insensitively.
    public init?(named name: String) {
        let lower = name.lowercased()
        guard let found = Self.all.first(where: {
            $0.goName == lower || $0.libseccompName.lowercased() == lower || $0.aliases.contains(lower)
        }) else { return nil }
        self = found
    }

    private init(goName: String, libseccompName: String, aliases: [String]) {
        self.goName = goName
        self.libseccompName = libseccompName
        self.aliases = aliases
    }

    /// The architecture this binary was built for.
    public static let native: SeccompArchitecture = {
        #if arch(x86_64)
        let name = "amd64"
        #elseif arch(arm64)
        let name = "arm64"
        #elseif arch(s390x)
        let name = "s390x"
        #elseif arch(powerpc64le)
        let name = "ppc64le"
        #elseif arch(riscv64)
        let name = "riscv64"
        #elseif arch(arm)
        let name = "arm"
        #elseif arch(i386)
        let name = "x86"
        #else
        #error("add this architecture to SeccompArchitecture")
        #endif
        return all.first { $0.goName == name } ?? SeccompArchitecture(goName: name, libseccompName: "SCMP_ARCH_NATIVE", aliases: [])
    }()

    static func unknownMessage(_ name: String) -> String {
        "unknown architecture \"\(name)\"; accepted: \(all.map(\.libseccompName).joined(separator: ", "))"
    }
}

/// A kernel release as "major.minor", ordered, for Docker's `includes.minKernel`.
public struct KernelVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// "4.8", or a full release such as "6.1.0-18-amd64" (only major and minor count).
    public init?(_ text: String) {
        let parts = text.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, let major = Int(parts[0]) else { return nil }
        let minorDigits = parts[1].prefix(while: \.isNumber)
        guard !minorDigits.isEmpty, let minor = Int(minorDigits) else { return nil }
        self.init(major: major, minor: minor)
    }

    /// The running kernel, from uname(2); nil if its release string does not parse.
    public static let running: KernelVersion? = {
        var name = utsname()
        guard uname(&name) == 0 else { return nil }
        let release = withUnsafeBytes(of: &name.release) { buffer in
            String(decoding: buffer.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        return KernelVersion(release)
    }()

    public static func < (lhs: KernelVersion, rhs: KernelVersion) -> Bool {
        (lhs.major, lhs.minor) < (rhs.major, rhs.minor)
    }

    public var description: String { "\(major).\(minor)" }
}
