import BerthCore
import CBerthShim
import Glibc

public enum FileSystem {
    /// The filesystem type of `path` as statfs(2) reports it (CGROUP2_SUPER_MAGIC, TMPFS_MAGIC, ...).
    public static func magic(of path: String) throws -> Int {
        var type = 0
        guard berth_statfs_type(path, &type) == 0 else { throw SystemError("statfs \(path)", errno: errno) }
        return type
    }
}
