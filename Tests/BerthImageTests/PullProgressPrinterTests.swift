import BerthImage
import BerthOCI
import Foundation
import Testing

@Suite("Pull progress printer")
struct PullProgressPrinterTests {
    static let a = Digest.sha256(of: Data("a".utf8))
    static let b = Digest.sha256(of: Data("b".utf8))
    static let events: [PullProgressEvent] = [
        .resolved(manifest: Digest.sha256(of: Data("m".utf8)), layers: [
            Descriptor(mediaType: MediaType.ociLayerGzip, digest: a, size: 2048),
            Descriptor(mediaType: MediaType.ociLayerGzip, digest: b, size: 10),
        ]),
        .layerSkipped(b, size: 10),
        .layerStarted(a, size: 2048, resumedFrom: 1024),
        .layerBytes(a, received: 1536, size: 2048),
        .layerBytes(a, received: 2048, size: 2048),
        .layerDone(a, size: 2048),
    ]

    func render(isTTY: Bool) throws -> String {
        let path = NSTemporaryDirectory() + "berth-progress-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let handle = try #require(FileHandle(forWritingAtPath: path))
        let printer = PullProgressPrinter(output: handle, isTTY: isTTY)
        Self.events.forEach(printer.handler)
        try handle.close()
        return try String(contentsOfFile: path, encoding: .utf8)
    }

    @Test func plainLinesWithoutByteUpdates() throws {
        #expect(try render(isTTY: false) == """
            manifest \(Digest.sha256(of: Data("m".utf8)).short): 2 layers
            \(Self.b.short): already present
            \(Self.a.short): downloading 2 KiB, resuming at 1 KiB
            \(Self.a.short): done (2 KiB)

            """)
    }

    @Test func terminalRedrawsOneLinePerLayer() throws {
        let text = try render(isTTY: true)
        #expect(text.contains("\u{1B}[2A"), "moves up over the two layer lines to redraw them")
        let screen = text.components(separatedBy: "\u{1B}[2A").last ?? ""
        #expect(screen.contains("\(Self.a.short): done 2 KiB"))
        #expect(screen.contains("\(Self.b.short): already present"))
    }
}
