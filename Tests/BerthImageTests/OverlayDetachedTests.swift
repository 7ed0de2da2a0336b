import BerthCore
import BerthTestSupport
import Foundation
import Glibc
import Testing
@testable import BerthImage

/// The agent's overlays are mounted detached (fsopen, fsconfig, fsmount). fsconfig takes a
/// string of at most 256 bytes, so an image's list of layers must not go in as one string.
@Suite(.requiresRoot) struct OverlayDetachedTests {
    /// "lowerdir+" came with Linux 6.8.
    static var kernelHasLowerdirPlus: Bool {
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: name.release) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        let parts = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        return parts.count == 2 && (parts[0], parts[1]) >= (6, 8)
    }

    @Test(arguments: [1, 12]) func everyLayerIsThereWithTheTopmostWinning(layers: Int) throws {
        let base = FileManager.default.temporaryDirectory.path + "/berth-overlay-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: base) }
        // Paths as long as the store's (a 64-hex chain ID each): 12 of them are over 1,000 bytes.
        let lower = (0..<layers).map { "\(base)/snapshots/\(String(repeating: "c", count: 62))\(String(format: "%02d", $0))/fs" }
        for (index, directory) in lower.enumerated() {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try Data("layer \(index)\n".utf8).write(to: URL(fileURLWithPath: "\(directory)/only-\(index)"))
            try Data("layer \(index)\n".utf8).write(to: URL(fileURLWithPath: "\(directory)/shared"))
        }
        for directory in ["upper", "work"] { try FileManager.default.createDirectory(atPath: "\(base)/\(directory)", withIntermediateDirectories: true) }
        // Topmost first, as ContainerRootfs passes them.
        let detached = try Overlay.mountDetached(lower: lower, upper: base + "/upper", work: base + "/work")
        guard Self.kernelHasLowerdirPlus || layers == 1 else {
            #expect(detached == nil, "a list over 255 bytes without lowerdir+ is left to a host mount")
            return
        }
        let mount = try #require(detached)
        defer { close(mount) }
        let root = "/proc/self/fd/\(mount)"
        #expect(try String(contentsOfFile: root + "/shared", encoding: .utf8) == "layer 0\n")
        for index in 0..<layers {
            #expect(try String(contentsOfFile: "\(root)/only-\(index)", encoding: .utf8) == "layer \(index)\n")
        }
    }
}
