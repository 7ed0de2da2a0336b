import BerthCore
import Testing
@testable import BerthProtocol

@Suite struct RecordIOTests {
    static let records = [#"{"type":"HEARTBEAT"}"#, MesosSamples.subscribed, "", "é ünïcode ✓"].map { Array($0.utf8) }
    static let stream = records.flatMap { RecordIO.frame($0) }

    @Test func frameIsLengthNewlineRecord() {
        #expect(String(decoding: RecordIO.frame(Array(#"{"type":"HEARTBEAT"}"#.utf8)), as: UTF8.self) == "20\n{\"type\":\"HEARTBEAT\"}")
    }

    /// Every split of the stream into two chunks yields the same records.
    @Test(arguments: 0...stream.count)
    func splitAtEveryByteBoundary(at split: Int) throws {
        var decoder = RecordIODecoder()
        var out = try decoder.feed(Self.stream[..<split])
        out += try decoder.feed(Self.stream[split...])
        #expect(out == Self.records)
        #expect(decoder.isAtRecordBoundary)
    }

    @Test func oneByteAtATime() throws {
        var decoder = RecordIODecoder()
        var out: [[UInt8]] = []
        for byte in Self.stream { out += try decoder.feed([byte]) }
        #expect(out == Self.records)
    }

    @Test func partialRecordIsNotABoundary() throws {
        var decoder = RecordIODecoder()
        #expect(try decoder.feed(Array("5\nab".utf8)).isEmpty)
        #expect(!decoder.isAtRecordBoundary)
    }

    @Test(arguments: ["x\n{}", "-1\n", "\n", "123456789012345678901234", "9999999999\n"])
    func malformedStreamsThrow(text: String) {
        var decoder = RecordIODecoder(maximumRecordSize: 1 << 20)
        #expect(throws: BerthError.self) { _ = try decoder.feed(Array(text.utf8)) }
    }
}
