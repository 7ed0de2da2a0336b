import BerthCore
import BerthLinux
import Glibc
import Logging

/// Ends the process with a given status after the command has said why on stderr.
public struct ExitStatusError: Error {
    public var code: Int32

    public init(code: Int32) { self.code = code }
}

/// Options that do not fit together or cannot be read: the command line is at fault, not the
/// host. The full CLI turns it into ArgumentParser's ValidationError, which adds the usage.
public struct UsageError: Error, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

public enum Terminal {
    /// One line on stderr, prefixed with "berth: ". A plain write(2): FileHandle is outside
    /// FoundationEssentials, which is all that `berth run`'s executable links.
    public static func error(_ message: String) {
        _ = FileSystem.writeAll("berth: \(message)\n".utf8, to: 2)
    }
}

public enum Logs {
    /// swift-log to stderr; BERTH_LOG_LEVEL or --log-level choose the level.
    public static func bootstrap(level: String?) -> Logger {
        let name = level ?? getenv("BERTH_LOG_LEVEL").map { String(cString: $0) } ?? "warning"
        let parsed = Logger.Level(rawValue: name.lowercased()) ?? .warning
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = parsed
            return handler
        }
        return Logger(label: "berth")
    }
}
