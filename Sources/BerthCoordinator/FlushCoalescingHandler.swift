import NIOCore

/// Holds a flush until the event loop has run the tasks already queued, so writes that async code
/// queues one after another leave in one `writev` and one TCP segment. Hummingbird writes a
/// streaming response's head and then each body part as separate tasks, each with its own flush:
/// an agent's REGISTER answer (head, then REGISTERED) or a framework's SUBSCRIBE answer went out
/// as two sends and woke the client twice. Writes keep their order; only flushes are merged.
final class FlushCoalescingHandler: ChannelOutboundHandler, RemovableChannelHandler {
    // Writes pass through untouched (the default `write`), so nothing is ever unwrapped as this.
    typealias OutboundIn = NIOAny

    private var flushScheduled = false
    private var removed = false

    func flush(context: ChannelHandlerContext) {
        guard !flushScheduled else { return }
        flushScheduled = true
        context.eventLoop.assumeIsolated().execute {
            guard self.flushScheduled, !self.removed else { return }
            self.flushScheduled = false
            context.flush()
        }
    }

    /// A close fails the writes not yet flushed: they go out first.
    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        flushNow(context: context)
        context.close(mode: mode, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        flushNow(context: context)
        removed = true
    }

    private func flushNow(context: ChannelHandlerContext) {
        guard flushScheduled else { return }
        flushScheduled = false
        context.flush()
    }
}
