/// pids: the same files on both hierarchies.
enum PidsController {
    static func apply(_ pids: Int?, in dir: String) throws {
        if let pids {
            try CgroupFiles.write(dir + "/pids.max", "\(pids)")
        } else {
            try CgroupFiles.writeIfPresent(dir + "/pids.max", "max")
        }
    }

    static func read(_ dir: String, into stats: inout CgroupStats) throws {
        stats.pidsCurrent = CgroupValues.number(try CgroupFiles.readIfPresent(dir + "/pids.current"))
    }
}
