import BerthCore
import Foundation
import Testing

@Suite("Directories.create")
struct DirectoriesTests {
    static func temporary() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("berth-directories-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        return path
    }

    @Test func makesMissingAncestorsAndAcceptsAnExistingDirectory() throws {
        let root = try Self.temporary()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let deep = root + "/a/b/c"
        try Directories.create(deep, mode: 0o700)
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: deep, isDirectory: &isDirectory) && isDirectory.boolValue)
        let mode = try #require(FileManager.default.attributesOfItem(atPath: root + "/a")[.posixPermissions] as? Int)
        #expect(mode == 0o700)
        try Directories.create(deep)  // already there: fine
        try Directories.create(root + "/a/b/d/")  // a trailing slash too
        #expect(FileManager.default.fileExists(atPath: root + "/a/b/d"))
    }

    @Test func aFileInTheWayIsNamedInTheError() throws {
        let root = try Self.temporary()
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(FileManager.default.createFile(atPath: root + "/file", contents: Data()))
        #expect(throws: SystemError("create directory \(root)/file", errno: ENOTDIR)) { try Directories.create(root + "/file") }
        #expect(throws: SystemError("create directory \(root)/file/below", errno: ENOTDIR)) { try Directories.create(root + "/file/below") }
    }
}
