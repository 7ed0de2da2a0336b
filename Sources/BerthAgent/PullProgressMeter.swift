import BerthCore
import BerthImage
import BerthOCI
import Synchronization

/// Turns a pull's per-layer events into one line for TASK_STARTING messages ("pulling image
/// x: 12.5 MiB of 40 MiB, 2 of 5 layers"), at most one per `interval`: each message is a status
/// update that is checkpointed, sent and acknowledged, so a fast stream of them would cost more
/// than it tells.
final class PullProgressMeter: Sendable {
    private struct State {
        var sizes: [Digest: Int64] = [:]
        var received: [Digest: Int64] = [:]
        var done: Set<Digest> = []
        var lastReport: ContinuousClock.Instant?
    }

    private let state = Mutex(State())
    let image: String
    let interval: Duration

    init(image: String, interval: Duration = .seconds(2)) {
        self.image = image
        self.interval = interval
    }

    /// The line to report after `event`, or nil when it is too soon after the last one.
    func record(_ event: PullProgressEvent, now: ContinuousClock.Instant = .now) -> String? {
        state.withLock { state in
            switch event {
            case .resolved(_, let layers):
                for layer in layers { state.sizes[layer.digest] = layer.size }
            case .layerStarted(let digest, let size, let resumedFrom):
                state.sizes[digest] = size
                state.received[digest] = resumedFrom
            case .layerBytes(let digest, let received, let size):
                state.sizes[digest] = size
                state.received[digest] = received
            case .layerDone(let digest, let size), .layerSkipped(let digest, let size):
                state.sizes[digest] = size
                state.received[digest] = size
                state.done.insert(digest)
            }
            if let last = state.lastReport, now - last < interval { return nil }
            // The first event only tells the layer count; a line is worth sending once bytes move.
            guard !state.received.isEmpty else { return nil }
            state.lastReport = now
            let total = state.sizes.values.reduce(0, +)
            let received = state.received.values.reduce(0, +)
            return "pulling image \(image): \(ByteSize.format(received)) of \(ByteSize.format(total)), \(state.done.count) of \(state.sizes.count) layers"
        }
    }
}
