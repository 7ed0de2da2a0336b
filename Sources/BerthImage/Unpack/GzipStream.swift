import CZlib

/// Inflates a gzip stream with zlib. Handles concatenated gzip members (as `pigz` and some
/// registries produce) by resetting the inflater at each member's end; zero bytes after the
/// last member (tape-style padding) are ignored.
final class GzipStream: ByteStream {
    private var input: any ByteStream
    private let stream: UnsafeMutablePointer<z_stream>
    private let inputBuffer: UnsafeMutableRawBufferPointer
    private var inputEnded = false
    /// Between members: the last one ended and the next has not started.
    private var atMemberEnd = false
    private var sawMember = false

    init(_ input: any ByteStream, bufferSize: Int = 1 << 20) throws {
        self.input = input
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        inputBuffer = .allocate(byteCount: bufferSize, alignment: 64)
        // 15 + 32: the largest window, and detect the gzip (or zlib) header automatically.
        let status = inflateInit2_(stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            inputBuffer.deallocate()
            stream.deallocate()
            throw LayerFailure("cannot start gzip decompression (zlib status \(status))")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        inputBuffer.deallocate()
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let out = buffer.baseAddress, buffer.count > 0 else { return 0 }
        stream.pointee.next_out = out.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = UInt32(clamping: buffer.count)
        while stream.pointee.avail_out > 0 {
            if stream.pointee.avail_in == 0 && !inputEnded {
                let n = try input.read(into: inputBuffer)
                if n == 0 {
                    inputEnded = true
                } else {
                    stream.pointee.next_in = inputBuffer.baseAddress?.assumingMemoryBound(to: Bytef.self)
                    stream.pointee.avail_in = UInt32(n)
                }
            }
            if atMemberEnd {
                skipZeroPadding()
                if stream.pointee.avail_in == 0 {
                    if inputEnded { break }
                    continue
                }
                inflateReset(stream)
                atMemberEnd = false
            }
            if stream.pointee.avail_in == 0 && inputEnded {
                throw LayerFailure(sawMember
                    ? "the gzip stream is truncated (it ends inside a compressed member); download the blob again"
                    : "the layer blob is empty, not a gzip stream")
            }
            sawMember = true
            let status = inflate(stream, Z_NO_FLUSH)
            switch status {
            case Z_OK, Z_BUF_ERROR:
                continue
            case Z_STREAM_END:
                atMemberEnd = true
            default:
                let detail = stream.pointee.msg.map { String(cString: $0) } ?? "zlib status \(status)"
                throw LayerFailure("the gzip stream is corrupt (\(detail)); download the blob again or check its media type")
            }
        }
        return buffer.count - Int(stream.pointee.avail_out)
    }

    /// Consumes zero bytes after a member; anything else is taken as the next member's start.
    private func skipZeroPadding() {
        while stream.pointee.avail_in > 0, let next = stream.pointee.next_in, next.pointee == 0 {
            stream.pointee.next_in = next + 1
            stream.pointee.avail_in -= 1
        }
    }
}
