import BerthCore
import BerthOCI
import BerthTestSupport
import Foundation
import Testing
@testable import BerthImage

/// Layers built to escape the root. Each must be rejected with a message naming the image, the
/// layer and the entry, and nothing may appear or change beside the root.
struct HostileCase: CustomTestStringConvertible, Sendable {
    var testDescription: String
    var layers: @Sendable () -> [[UInt8]]
    /// The entry the message must name, and a phrase it must contain.
    var entry: String
    var phrase: String
    var compression: LayerCompression = .none
    var limits = UnpackLimits.default
}

private func layer(_ build: (inout TarBuilder) -> Void) -> [UInt8] {
    var tar = TarBuilder()
    build(&tar)
    return tar.finished()
}

@Suite(.requiresRoot) struct HostileLayerTests {
    static let cases: [HostileCase] = [
        HostileCase(testDescription: "../ traversal", layers: {
            [layer { $0.file("a/../../outside/file", "pwned") }]
        }, entry: "a/../../outside/file", phrase: "climbs out of the image root"),
        HostileCase(testDescription: "absolute name climbing", layers: {
            [layer { $0.file("/../outside/new", "pwned") }]
        }, entry: "/../outside/new", phrase: "climbs out of the image root"),
        HostileCase(testDescription: "symlink then write through it", layers: {
            [layer { tar in
                tar.symlink("evil", to: "../../outside")
                tar.file("evil/x", "pwned")
            }]
        }, entry: "evil/x", phrase: "climbs out of the image root"),
        HostileCase(testDescription: "symlink in one layer, write through it in the next", layers: {
            [layer { $0.symlink("evil", to: "../outside") }, layer { $0.file("evil/file", "pwned") }]
        }, entry: "evil/file", phrase: "climbs out of the image root"),
        HostileCase(testDescription: "symlink chain", layers: {
            [layer { tar in
                tar.directory("d/")
                tar.symlink("d/one", to: "../two")
                tar.symlink("two", to: "three/..")
                tar.symlink("three", to: "/d/../..")
                tar.file("d/one/outside/file", "pwned")
            }]
        }, entry: "d/one/outside/file", phrase: "climbs out of the image root"),
        HostileCase(testDescription: "symlink loop", layers: {
            [layer { tar in
                tar.symlink("a", to: "b")
                tar.symlink("b", to: "a")
                tar.file("a/x", "x")
            }]
        }, entry: "a/x", phrase: "more than 40 symlinks"),
        HostileCase(testDescription: "hardlink to ../../outside/file", layers: {
            [layer { $0.hardlink("h", to: "../../outside/file") }]
        }, entry: "h", phrase: "outside the image root"),
        HostileCase(testDescription: "hardlink through a symlink out of the root", layers: {
            [layer { tar in
                tar.symlink("up", to: "..")
                tar.hardlink("h", to: "up/outside/file")
            }]
        }, entry: "h", phrase: "climbs out of the image root"),
        HostileCase(testDescription: "hardlink to /etc/passwd resolves inside the root", layers: {
            [layer { $0.hardlink("passwd", to: "/etc/passwd") }]
        }, entry: "passwd", phrase: "does not exist in the image"),
        HostileCase(testDescription: "hardlink to a directory", layers: {
            [layer { tar in
                tar.directory("d/")
                tar.hardlink("h", to: "d")
            }]
        }, entry: "h", phrase: "hardlink to the directory"),
        HostileCase(testDescription: "whiteout of ..", layers: {
            [layer { $0.file("a/.wh..", "") }]
        }, entry: "a/.wh..", phrase: "whiteout of"),
        HostileCase(testDescription: "whiteout through a symlink out of the root", layers: {
            [layer { $0.symlink("evil", to: "../outside") }, layer { $0.file("evil/.wh.file", "") }]
        }, entry: "evil/.wh.file", phrase: "climbs out of the image root"),
        HostileCase(testDescription: "entry-count bomb", layers: {
            [layer { tar in for i in 0..<50 { tar.file("f\(i)") } }]
        }, entry: "", phrase: "more than 20 entries, the limit (UnpackLimits.maxEntries)",
           limits: UnpackLimits(maxEntries: 20, maxBytes: 1 << 40)),
        HostileCase(testDescription: "size bomb: gzip of zeros", layers: {
            [layer { $0.file("zeros", bytes: [UInt8](repeating: 0, count: 4 << 20)) }]
        }, entry: "", phrase: "more than 1048576 bytes uncompressed, the limit (UnpackLimits.maxBytes)",
           compression: .gzip, limits: UnpackLimits(maxEntries: 100, maxBytes: 1 << 20)),
    ]

    @Test(arguments: cases)
    func rejected(_ testCase: HostileCase) throws {
        let box = try UnpackSandbox()
        let layers = testCase.layers()
        do {
            try box.apply(layers, compression: testCase.compression, limits: testCase.limits, image: "127.0.0.1:5000/bad:1")
            Issue.record("a hostile layer was applied")
        } catch let error as BerthError {
            #expect(error.code == .imageLayer)
            #expect(error.message.hasPrefix("image 127.0.0.1:5000/bad:1, layer \(layers.count)/\(layers.count) (sha256:"), "\(error.message)")
            if !testCase.entry.isEmpty {
                #expect(error.message.contains("entry \"\(testCase.entry)\""), "\(error.message)")
            }
            #expect(error.message.contains(testCase.phrase), "\(error.message)")
        }
        #expect(box.outsideUntouched)
        #expect(!FileManager.default.fileExists(atPath: box.root + "/../outside/x"))
    }
}
