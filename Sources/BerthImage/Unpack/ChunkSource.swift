import Foundation

/// Uncompressed tar bytes in large chunks. Every chunk but the last is a whole number of 512-byte
/// tar blocks, so a header never straddles two chunks.
protocol ChunkSource: AnyObject {
    /// The next chunk, valid until the next call; nil at the end of the stream.
    func nextChunk() throws -> UnsafeRawBufferPointer?
    /// Stops any work in progress; called once, when the reader is done or gives up.
    func finish()
}

/// Decompresses on the caller's thread, into one buffer.
final class SerialChunks: ChunkSource {
    private var stream: any ByteStream
    private let buffer: UnsafeMutableRawBufferPointer

    init(_ stream: any ByteStream, chunkSize: Int) {
        precondition(chunkSize % 512 == 0, "chunks must hold whole tar blocks")
        self.stream = stream
        buffer = .allocate(byteCount: chunkSize, alignment: 4096)
    }

    deinit { buffer.deallocate() }

    func nextChunk() throws -> UnsafeRawBufferPointer? {
        let n = try stream.readFully(into: buffer)
        return n == 0 ? nil : UnsafeRawBufferPointer(rebasing: buffer[0..<n])
    }

    func finish() {}
}

/// Decompresses on a thread of its own, a few chunks ahead of the reader: inflating and writing
/// files then overlap on two cores, as `tar -xzf` overlaps gzip and tar in two processes.
final class PrefetchedChunks: ChunkSource, @unchecked Sendable {
    // All mutable state below is guarded by `condition`.
    private let condition = NSCondition()
    private var stream: any ByteStream
    private let buffers: [UnsafeMutableRawBufferPointer]
    private var lengths: [Int]
    /// Chunks filled and not yet handed out, starting at `readIndex`.
    private var ready = 0
    private var readIndex = 0
    /// The chunk the reader holds, returned to the producer at the next call.
    private var holding = false
    private var ended = false
    private var failure: (any Error)?
    private var stopped = false
    private var producerDone = false

    init(_ stream: any ByteStream, chunkSize: Int, depth: Int = 4) {
        precondition(chunkSize % 512 == 0, "chunks must hold whole tar blocks")
        self.stream = stream
        buffers = (0..<max(depth, 2)).map { _ in .allocate(byteCount: chunkSize, alignment: 4096) }
        lengths = Array(repeating: 0, count: buffers.count)
        let thread = Thread { [self] in produce() }
        thread.name = "berth-layer-decompress"
        thread.start()
    }

    deinit {
        finish()
        for buffer in buffers { buffer.deallocate() }
    }

    private func produce() {
        var writeIndex = 0
        while true {
            condition.lock()
            // A slot is free when fewer than all are ready or held by the reader.
            while !stopped && ready + (holding ? 1 : 0) >= buffers.count { condition.wait() }
            if stopped { break }
            condition.unlock()

            let result = Result { try stream.readFully(into: buffers[writeIndex]) }

            condition.lock()
            switch result {
            case .success(let n) where n > 0:
                lengths[writeIndex] = n
                ready += 1
                writeIndex = (writeIndex + 1) % buffers.count
            case .success:
                ended = true
            case .failure(let error):
                failure = error
            }
            condition.broadcast()
            if ended || failure != nil || stopped { break }
            condition.unlock()
        }
        producerDone = true
        condition.broadcast()
        condition.unlock()
    }

    func nextChunk() throws -> UnsafeRawBufferPointer? {
        condition.lock()
        defer { condition.unlock() }
        if holding {
            holding = false
            readIndex = (readIndex + 1) % buffers.count
            condition.broadcast()
        }
        while ready == 0 && !ended && failure == nil { condition.wait() }
        if ready == 0 {
            if let failure { throw failure }
            return nil
        }
        ready -= 1
        holding = true
        return UnsafeRawBufferPointer(rebasing: buffers[readIndex][0..<lengths[readIndex]])
    }

    /// Stops the producer and waits for it, so that no thread touches the buffers or the blob
    /// after the unpacker returns.
    func finish() {
        condition.lock()
        stopped = true
        condition.broadcast()
        while !producerDone { condition.wait() }
        condition.unlock()
    }
}
