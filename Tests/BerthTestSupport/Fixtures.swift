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


extension SpawnedCommand {
    /// Waits for the child off the cooperative pool, which a coordinator or agent running in the
    /// test process needs.
    public func finishOffPool() async throws -> CommandResult {
        let box = UncheckedBox(self)
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try box.value.finish() }) }
        }
    }
}

/// The child is only touched by the one queue that waits for it.
private struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
