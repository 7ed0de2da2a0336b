#if canImport(Glibc)
import Glibc
#endif

/// A whole file's bytes by open(2) and read(2). Foundation's readers fail with a CocoaError
/// whose text outside Foundation proper is a dump of its userInfo; this fails with the errno's
/// name and message, which tell a user what to fix.
public enum FileBytes {
    public static func read(_ path: String) throws -> [UInt8] {
        #if canImport(Glibc)
        var fd: Int32
        repeat {
            fd = open(path, O_RDONLY | O_CLOEXEC)
        } while fd < 0 && errno == EINTR
        guard fd >= 0 else { throw SystemError("open \(path)", errno: errno) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemError("read \(path)", errno: errno)
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: buffer[0..<count])
        }
        #else
        throw BerthError(.unsupported, "reading \(path): not supported on this platform")
        #endif
    }
}
