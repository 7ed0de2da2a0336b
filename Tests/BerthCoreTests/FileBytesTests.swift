import BerthCore
import Foundation
import Testing

struct FileBytesTests {
    @Test func readsAWholeFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("berth-filebytes-\(RandomUUID().string)").path
        defer { unlink(path) }
        // Larger than one read's buffer, so the loop is exercised.
        let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(try FileBytes.read(path) == bytes)
    }

    @Test func failsWithTheErrno() {
        #expect(throws: SystemError("open /nonexistent/berth/x", errno: ENOENT)) { try FileBytes.read("/nonexistent/berth/x") }
        #expect(throws: SystemError("read /", errno: EISDIR)) { try FileBytes.read("/") }
    }
}
