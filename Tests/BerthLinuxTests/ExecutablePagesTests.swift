import BerthLinux
import Foundation
import Testing

/// The test runner's own executable stands in for the agent's.
struct ExecutablePagesTests {
    static func residentFileKiB() throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("RssFile:") })
        return try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
    }

    @Test func releasingTheExecutablesPagesShrinksTheResidentSet() throws {
        let before = try Self.residentFileKiB()
        let advised = ExecutablePages.release()
        let after = try Self.residentFileKiB()
        #expect(advised > 0, "no mapping of /proc/self/exe was advised")
        #expect(after < before, "RssFile \(before) KiB before, \(after) KiB after")
    }
}
