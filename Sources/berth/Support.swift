import BerthCore
import Foundation
import Logging

/// Ends the process with a given status after the command has said why on stderr.
struct ExitStatusError: Error {
    var code: Int32
}

enum Terminal {
    /// One line on stderr, prefixed with "berth: ".
    static func error(_ message: String) {
        FileHandle.standardError.write(Data("berth: \(message)\n".utf8))
    }
}

enum Logs {
    /// swift-log to stderr; BERTH_LOG_LEVEL or --log-level choose the level.
    static func bootstrap(level: String?) -> Logger {
        let name = level ?? ProcessInfo.processInfo.environment["BERTH_LOG_LEVEL"] ?? "warning"
        let parsed = Logger.Level(rawValue: name.lowercased()) ?? .warning
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = parsed
            return handler
        }
        return Logger(label: "berth")
    }
}
