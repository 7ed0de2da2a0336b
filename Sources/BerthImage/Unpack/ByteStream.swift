import BerthCore
import Glibc

/// A source of bytes read front to back: a layer blob, or the blob decompressed.
protocol ByteStream {
    /// Fills as much of `buffer` as it can; returns the count, 0 only at the end of the stream.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

extension ByteStream {
    /// Fills `buffer` completely unless the stream ends first, so that chunks handed to the tar
    /// reader are whole 512-byte blocks except the last.
    mutating func readFully(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var filled = 0
        while filled < buffer.count {
            guard let base = buffer.baseAddress else { return 0 }
            let n = try read(into: UnsafeMutableRawBufferPointer(start: base + filled, count: buffer.count - filled))
            if n == 0 { break }
            filled += n
        }
        return filled
    }
}

/// The blob file, read with read(2).
final class FileStream: ByteStream {
    let fd: Int32
    let path: String

    init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let err = errno
            throw LayerFailure("cannot open the layer blob \(path): \(SystemError("open", errno: err)); check that the blob was downloaded", errno: err)
        }
        self.fd = fd
        self.path = path
        // The blob is read once, front to back.
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
    }

    deinit { close(fd) }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            let err = errno
            throw LayerFailure("cannot read the layer blob \(path): \(SystemError("read", errno: err))", errno: err)
        }
    }
}
