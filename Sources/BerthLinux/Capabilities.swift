import BerthCore
import CCap
import FoundationEssentials
import Glibc

/// A set of Linux capabilities by name ("CAP_NET_ADMIN"), resolved with libcap so names the
/// running libcap knows (including ones newer than this file) work.
public struct CapabilitySet: Sendable, Hashable, CustomStringConvertible {
    public private(set) var values: Set<Int32>

    public init(values: Set<Int32> = []) { self.values = values }

    public init(names: [String]) throws {
        self.values = Set(try names.map { try Self.value(of: $0) })
    }

    /// Docker's default set of 14 capabilities.
    public static let dockerDefaultNames = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
        "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    ]

    public static func dockerDefault() throws -> CapabilitySet {
        try CapabilitySet(names: dockerDefaultNames)
    }

    /// Every capability the kernel knows (for "ALL" in --cap-add).
    public static var all: CapabilitySet {
        CapabilitySet(values: Set(0...Self.lastCapability))
    }

    /// The highest capability number this kernel supports.
    public static let lastCapability: Int32 = {
        if let text = try? String(contentsOfFile: "/proc/sys/kernel/cap_last_cap", encoding: .utf8),
           let value = Int32(text.trimmingWhitespace) {
            return value
        }
        return 40
    }()

    /// "net_admin", "NET_ADMIN" and "CAP_NET_ADMIN" name the same capability, as in Docker.
    public static func value(of name: String) throws -> Int32 {
        var canonical = name.lowercased()
        if !canonical.hasPrefix("cap_") { canonical = "cap_" + canonical }
        var value: cap_value_t = 0
        guard cap_from_name(canonical, &value) == 0 else {
            throw BerthError(.invalidArgument, "unknown capability \"\(name)\": use a name such as CAP_NET_ADMIN or NET_ADMIN (see capabilities(7))")
        }
        guard value <= lastCapability else {
            throw BerthError(.unsupported, "capability \(name) is not supported by this kernel (highest is \(Self.name(of: lastCapability)))")
        }
        return Int32(value)
    }

    public static func name(of value: Int32) -> String {
        guard let text = cap_to_name(cap_value_t(value)) else { return "cap_\(value)" }
        defer { cap_free(text) }
        return String(cString: text).uppercased()
    }

    public var names: [String] { values.sorted().map(Self.name(of:)) }

    /// The bitmask as /proc/PID/status prints it (CapEff: 00000000a80425fb).
    public var mask: UInt64 { values.reduce(0) { $0 | (1 << UInt64($1)) } }

    public var description: String { names.joined(separator: ",") }

    public func contains(_ name: String) -> Bool {
        guard let value = try? Self.value(of: name) else { return false }
        return values.contains(value)
    }

    public mutating func insert(_ other: CapabilitySet) { values.formUnion(other.values) }
    public mutating func remove(_ other: CapabilitySet) { values.subtract(other.values) }

    /// A libcap cap_t with this set effective, permitted and inheritable; free with cap_free.
    func makeCapT() throws -> cap_t {
        guard let caps = cap_init() else {
            throw BerthError(.system, "libcap cap_init: \(Errno.name(errno))")
        }
        var list = values.sorted().map { cap_value_t($0) }
        if !list.isEmpty {
            for flag in [CAP_EFFECTIVE, CAP_PERMITTED, CAP_INHERITABLE] {
                guard cap_set_flag(caps, flag, Int32(list.count), &list, CAP_SET) == 0 else {
                    cap_free(UnsafeMutableRawPointer(caps))
                    throw BerthError(.system, "libcap cap_set_flag: \(Errno.name(errno))")
                }
            }
        }
        return caps
    }
}
