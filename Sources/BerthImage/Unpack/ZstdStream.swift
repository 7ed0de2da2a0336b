import CZstd

/// Decompresses a zstd stream (one or more frames) with ZSTD_decompressStream.
final class ZstdStream: ByteStream {
    private var input: any ByteStream
    private let context: OpaquePointer
    private let inputBuffer: UnsafeMutableRawBufferPointer
    private var inBuffer = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
    private var inputEnded = false
    /// ZSTD_decompressStream's last hint: 0 when a frame has just been completed.
    private var lastHint: Int = 1

    init(_ input: any ByteStream, bufferSize: Int = 1 << 20) throws {
        self.input = input
        guard let context = ZSTD_createDCtx() else {
            throw LayerFailure("cannot start zstd decompression: out of memory")
        }
        self.context = context
        inputBuffer = .allocate(byteCount: bufferSize, alignment: 64)
    }

    deinit {
        ZSTD_freeDCtx(context)
        inputBuffer.deallocate()
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var out = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
        while out.pos < out.size {
            if inBuffer.pos == inBuffer.size && !inputEnded {
                let n = try input.read(into: inputBuffer)
                if n == 0 {
                    inputEnded = true
                } else {
                    inBuffer = ZSTD_inBuffer(src: inputBuffer.baseAddress, size: n, pos: 0)
                }
            }
            if inBuffer.pos == inBuffer.size && inputEnded {
                // At a frame boundary the stream may end. Inside a frame the decoder may still
                // hold output it could not fit last time, which a call without input flushes;
                // when it has none, the stream was cut.
                if lastHint == 0 { break }
                let before = out.pos
                let hint = ZSTD_decompressStream(context, &out, &inBuffer)
                guard ZSTD_isError(hint) == 0, out.pos > before else {
                    throw LayerFailure("the zstd stream is truncated (it ends inside a frame); download the blob again")
                }
                lastHint = hint
                continue
            }
            let hint = ZSTD_decompressStream(context, &out, &inBuffer)
            if ZSTD_isError(hint) != 0 {
                let name = String(cString: ZSTD_getErrorName(hint))
                throw LayerFailure("the zstd stream is corrupt (\(name)); download the blob again or check its media type")
            }
            lastHint = hint
        }
        return out.pos
    }
}
