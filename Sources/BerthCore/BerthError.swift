#if canImport(Glibc)
import Glibc
#endif

/// The one public error type: a code a program can switch on, a message a person can act on,
/// and the underlying cause when there is one.
public struct BerthError: Error, CustomStringConvertible, Sendable {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let invalidArgument = Code(rawValue: "invalidArgument")
        public static let notFound = Code(rawValue: "notFound")
        public static let unsupported = Code(rawValue: "unsupported")
        public static let system = Code(rawValue: "system")
        public static let invalidState = Code(rawValue: "invalidState")
        public static let cgroup = Code(rawValue: "cgroup")
        public static let seccomp = Code(rawValue: "seccomp")
        public static let launch = Code(rawValue: "launch")
        /// A layer that cannot be applied: malformed, hostile, over a limit, or the disk is full.
        public static let imageLayer = Code(rawValue: "imageLayer")
        /// A registry answered with an error, or with something that is not a valid image.
        public static let registry = Code(rawValue: "registry")
        /// A registry refused the credentials, or asked for some and none were known.
        public static let unauthorized = Code(rawValue: "unauthorized")
        /// Content did not hash to the digest it was fetched or stored under.
        public static let digestMismatch = Code(rawValue: "digestMismatch")
    }

    public var code: Code
    public var message: String
    public var underlying: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String { message }
}

/// A failed system call: the step it belongs to and the errno, printed as "mount /proc: EPERM".
public struct SystemError: Error, CustomStringConvertible, Sendable, Equatable {
    public var step: String
    public var errno: Int32

    public init(_ step: String, errno: Int32) {
        self.step = step
        self.errno = errno
    }

    public var errnoName: String { Errno.name(errno) }
    public var description: String { "\(step): \(errnoName) (\(Errno.message(errno)))" }
}

public enum Errno {
    /// The symbolic name of an errno value ("EINVAL"), as people search for it.
    public static func name(_ value: Int32) -> String {
        names[value] ?? "errno \(value)"
    }

    public static func message(_ value: Int32) -> String {
        #if canImport(Glibc)
        if let text = strerror(value) { return String(cString: text) }
        #endif
        return "errno \(value)"
    }

    public static func value(named name: String) -> Int32? {
        values[name.uppercased()]
    }

    private static let values: [String: Int32] = Dictionary(names.map { ($0.value, $0.key) }, uniquingKeysWith: { a, _ in a })

    // Linux x86_64/generic numbering; the ones a container runtime actually meets.
    private static let names: [Int32: String] = [
        1: "EPERM", 2: "ENOENT", 3: "ESRCH", 4: "EINTR", 5: "EIO", 6: "ENXIO", 7: "E2BIG",
        8: "ENOEXEC", 9: "EBADF", 10: "ECHILD", 11: "EAGAIN", 12: "ENOMEM", 13: "EACCES",
        14: "EFAULT", 15: "ENOTBLK", 16: "EBUSY", 17: "EEXIST", 18: "EXDEV", 19: "ENODEV",
        20: "ENOTDIR", 21: "EISDIR", 22: "EINVAL", 23: "ENFILE", 24: "EMFILE", 25: "ENOTTY",
        26: "ETXTBSY", 27: "EFBIG", 28: "ENOSPC", 29: "ESPIPE", 30: "EROFS", 31: "EMLINK",
        32: "EPIPE", 33: "EDOM", 34: "ERANGE", 35: "EDEADLK", 36: "ENAMETOOLONG", 37: "ENOLCK",
        38: "ENOSYS", 39: "ENOTEMPTY", 40: "ELOOP", 61: "ENODATA", 75: "EOVERFLOW",
        95: "EOPNOTSUPP", 98: "EADDRINUSE", 99: "EADDRNOTAVAIL", 110: "ETIMEDOUT",
        111: "ECONNREFUSED", 122: "EDQUOT",
    ]
}
