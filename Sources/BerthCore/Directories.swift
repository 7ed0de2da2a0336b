#if canImport(Glibc)
import Glibc
#endif

public enum Directories {
    /// `mkdir -p` that tries the directory itself first and makes missing ancestors only when
    /// the kernel says one is missing. FileManager's `createDirectory(withIntermediateDirectories:)`
    /// calls `mkdir` on every ancestor from `/` down, and each call takes its parent directory's
    /// lock: with a thousand containers starting at once, the agent's shared directories (its
    /// home, the sandboxes, the containers) were locked once per path component per container.
    /// `mode` is filtered by the umask, as with `mkdir(2)`; existing directories keep theirs.
    public static func create(_ path: String, mode: mode_t = 0o755) throws {
        if mkdir(path, mode) == 0 { return }
        var failure = errno
        if failure == ENOENT, let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            try create(String(path[..<slash]), mode: mode)
            if mkdir(path, mode) == 0 { return }
            failure = errno
        }
        guard failure == EEXIST else { throw SystemError("create directory \(path)", errno: failure) }
        var info = stat()
        guard stat(path, &info) == 0 else { throw SystemError("create directory \(path)", errno: errno) }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw SystemError("create directory \(path)", errno: ENOTDIR) }
    }
}
