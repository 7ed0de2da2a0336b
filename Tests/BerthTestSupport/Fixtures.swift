import BerthCore
import Foundation

/// Moved to BerthCore, where the image store also runs host commands.
public typealias CommandResult = BerthCore.CommandResult
public typealias SpawnedCommand = BerthCore.SpawnedCommand

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

