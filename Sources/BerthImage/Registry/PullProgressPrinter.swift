import BerthCore
import BerthOCI
import Foundation

/// Shows `PullProgressEvent`s: on a terminal, one line per layer redrawn in place with a bar;
/// otherwise one plain line when a layer starts, finishes or is skipped (logs stay readable).
public final class PullProgressPrinter: @unchecked Sendable {
    private let output: FileHandle
    private let isTTY: Bool
    private let barWidth = 30
    // Guards everything below: events arrive from concurrent layer downloads.
    private let lock = NSLock()
    private var order: [Digest] = []
    private var lines: [Digest: String] = [:]
    private var drawnLines = 0
    private var lastDraw = ContinuousClock.now - .seconds(1)
    /// When each download started and from which byte, for its rate.
    private var starts: [Digest: (at: ContinuousClock.Instant, from: Int64)] = [:]

    public init(output: FileHandle, isTTY: Bool) {
        self.output = output
        self.isTTY = isTTY
    }

    /// Pass as the `progress` argument of `RegistryClient.pull`.
    public var handler: @Sendable (PullProgressEvent) -> Void {
        { [self] event in self.handle(event) }
    }

    public func handle(_ event: PullProgressEvent) {
        lock.lock()
        defer { lock.unlock() }
        if isTTY { handleTTY(event) } else { handlePlain(event) }
    }

    private func handlePlain(_ event: PullProgressEvent) {
        switch event {
        case .resolved(let manifest, let layers):
            write("manifest \(manifest.short): \(layers.count) layer\(layers.count == 1 ? "" : "s")\n")
        case .layerStarted(let digest, let size, let resumedFrom):
            let resumed = resumedFrom > 0 ? ", resuming at \(ByteSize.format(resumedFrom))" : ""
            starts[digest] = (ContinuousClock.now, resumedFrom)
            write("\(digest.short): downloading \(ByteSize.format(size))\(resumed)\n")
        case .layerBytes:
            break
        case .layerDone(let digest, let size):
            write("\(digest.short): done (\(ByteSize.format(size))\(rate(digest, received: size).map { ", \($0)" } ?? ""))\n")
        case .layerSkipped(let digest, _):
            write("\(digest.short): already present\n")
        }
    }

    private func handleTTY(_ event: PullProgressEvent) {
        var force = true
        switch event {
        case .resolved(_, let layers):
            for layer in layers where lines[layer.digest] == nil {
                order.append(layer.digest)
                lines[layer.digest] = "\(layer.digest.short): waiting"
            }
        case .layerStarted(let digest, let size, let resumedFrom):
            track(digest)
            starts[digest] = (ContinuousClock.now, resumedFrom)
            lines[digest] = bar(digest, received: resumedFrom, size: size)
        case .layerBytes(let digest, let received, let size):
            track(digest)
            lines[digest] = bar(digest, received: received, size: size)
            force = false
        case .layerDone(let digest, let size):
            track(digest)
            lines[digest] = "\(digest.short): done \(ByteSize.format(size))"
        case .layerSkipped(let digest, _):
            track(digest)
            lines[digest] = "\(digest.short): already present"
        }
        // Byte updates come per network chunk; ten redraws a second are plenty.
        let now = ContinuousClock.now
        guard force || now - lastDraw >= .milliseconds(100) else { return }
        lastDraw = now
        redraw()
    }

    private func track(_ digest: Digest) {
        if lines[digest] == nil { order.append(digest) }
    }

    private func bar(_ digest: Digest, received: Int64, size: Int64) -> String {
        let fraction = size > 0 ? min(Double(received) / Double(size), 1) : 0
        let filled = Int(fraction * Double(barWidth))
        let arrow = filled < barWidth ? ">" : ""
        let body = String(repeating: "=", count: filled) + arrow + String(repeating: " ", count: max(barWidth - filled - arrow.count, 0))
        let speed = rate(digest, received: received).map { "  \($0)" } ?? ""
        return "\(digest.short): [\(body)] \(ByteSize.format(received)) / \(ByteSize.format(size))\(speed)"
    }

    /// "12.5 MiB/s" since the download started; nil before a tenth of a second has passed.
    private func rate(_ digest: Digest, received: Int64) -> String? {
        guard let start = starts[digest] else { return nil }
        let elapsed = ContinuousClock.now - start.at
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        guard seconds >= 0.1 else { return nil }
        return "\(ByteSize.format(Int64(Double(received - start.from) / seconds)))/s"
    }

    private func redraw() {
        var text = drawnLines > 0 ? "\u{1B}[\(drawnLines)A" : ""
        for digest in order {
            text += "\r\u{1B}[2K" + (lines[digest] ?? "") + "\n"
        }
        drawnLines = order.count
        write(text)
    }

    private func write(_ text: String) {
        // Progress is decoration: a closed terminal or pipe must not fail the pull.
        try? output.write(contentsOf: Data(text.utf8))
    }
}
