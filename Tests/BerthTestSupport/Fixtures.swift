import Foundation

/// The output of a command the tests ran.
public struct CommandResult: Sendable, CustomStringConvertible {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }

    /// `key=value` lines of stdout, as the probe prints them.
    public var values: [String: String] {
        var result: [String: String] = [:]
        for line in stdout.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            result[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        return result
    }

    public var description: String { "status \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
}

public enum Fixtures {
    /// The busybox + probe root filesystem from rootfs/build.sh, built once per test run.
    public static func busyboxRootfs() throws -> String {
        try rootfsLock.withLock {
            if let built = builtRootfs { return built }
            let result = try run("/bin/bash", [TestHost.packageRoot.appendingPathComponent("rootfs/build.sh").path])
            guard result.status == 0, let path = result.stdout.split(separator: "\n").last.map(String.init) else {
                throw FixtureError("rootfs/build.sh failed: \(result)")
            }
            builtRootfs = path
            return path
        }
    }

    nonisolated(unsafe) private static var builtRootfs: String?
    private static let rootfsLock = NSLock()

    /// Runs a program to completion and captures its output.
    public static func run(_ executable: String, _ arguments: [String], stdin: String? = nil) throws -> CommandResult {
        let child = try SpawnedCommand([executable] + arguments, stdin: stdin)
        return try child.finish()
    }

    /// `berth ARGS...`, from the products built beside the tests.
    public static func berth(_ arguments: [String], stdin: String? = nil) throws -> CommandResult {
        try run(TestHost.berthBinary, arguments, stdin: stdin)
    }
}

public struct FixtureError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

