@testable import BerthCoordinator
import NIOCore
import NIOEmbedded
import Testing

/// The coordinator's HTTP connections merge the flushes queued in one event-loop turn, so a
/// streaming response's head and first event leave in one send (FlushCoalescingHandler).
struct FlushCoalescingTests {
    static func write(_ text: String, to channel: EmbeddedChannel) {
        channel.write(ByteBuffer(string: text), promise: nil)
        channel.flush()
    }

    static func sent(_ channel: EmbeddedChannel) throws -> [String] {
        var parts: [String] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { parts.append(String(buffer: buffer)) }
        return parts
    }

    @Test func flushesInOneTurnGoOutTogetherAndInOrder() throws {
        let channel = EmbeddedChannel(handler: FlushCoalescingHandler())
        Self.write("head", to: channel)
        Self.write("event", to: channel)
        #expect(try Self.sent(channel) == [], "the flush waits for the tasks already queued")
        channel.embeddedEventLoop.run()
        #expect(try Self.sent(channel) == ["head", "event"])
        Self.write("later", to: channel)
        channel.embeddedEventLoop.run()
        #expect(try Self.sent(channel) == ["later"])
        _ = try channel.finish()
    }

    @Test func aCloseSendsWhatWasWaitingForItsFlush() throws {
        let channel = EmbeddedChannel(handler: FlushCoalescingHandler())
        Self.write("last words", to: channel)
        try channel.close().wait()
        #expect(try Self.sent(channel) == ["last words"])
    }
}
