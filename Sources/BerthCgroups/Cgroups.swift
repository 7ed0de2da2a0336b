import BerthCore
import BerthLinux
import Glibc
import Logging

/// Where Berth's cgroups go on this host, as decided by `Cgroups.layout`.
public enum CgroupLayout: Sendable, Equatable {
    /// Children of `parent` (relative to `mountPoint`).
    case v2(mountPoint: String, parent: String)
    /// Controller → absolute parent directory; `hybrid` when a cgroup2 mount exists too.
    case v1(controllers: [String: String], hybrid: Bool)
}

public enum Cgroups {
    /// statfs f_type of a cgroup2 mount.
    public static let cgroup2SuperMagic = 0x6367_7270

    /// Picks the driver for this host and nests it under this process's own cgroup.
    public static func detect(root: String = "/sys/fs/cgroup", logger: Logger? = nil) throws -> any CgroupManager {
        let procSelfCgroup: String
        let mountinfo: String
        do {
            procSelfCgroup = try CgroupFiles.read("/proc/self/cgroup")
            mountinfo = try CgroupFiles.read("/proc/self/mountinfo")
        } catch {
            throw cgroupError("detect cgroups", error)
        }
        let layout = try layout(rootIsCgroup2: isCgroup2(root), root: root, procSelfCgroup: procSelfCgroup, mountinfo: mountinfo)
        let manager = manager(for: layout, logger: logger)
        logger?.info("cgroups: \(manager.summary)")
        return manager
    }

    public static func manager(for layout: CgroupLayout, logger: Logger? = nil) -> any CgroupManager {
        switch layout {
        case let .v2(mountPoint, parent):
            return CgroupV2Manager(mountPoint: mountPoint, parent: parent, logger: logger)
        case let .v1(controllers, hybrid):
            return CgroupV1Manager(controllers: controllers, hybrid: hybrid, logger: logger)
        }
    }

    /// Whether `path` is the root of a cgroup2 mount, by the statfs magic.
    public static func isCgroup2(_ path: String) -> Bool {
        filesystemMagic(path) == cgroup2SuperMagic
    }

    /// statfs(2) f_type of `path`, nil when it cannot be read.
    static func filesystemMagic(_ path: String) -> Int? {
        try? FileSystem.magic(of: path)
    }

    /// The pure part of `detect`: from what statfs, /proc/self/cgroup and /proc/self/mountinfo say
    /// to where Berth's cgroups go.
    public static func layout(rootIsCgroup2: Bool, root: String = "/sys/fs/cgroup",
                              procSelfCgroup: String, mountinfo: String) throws -> CgroupLayout {
        let own = ProcSelfCgroup(parsing: procSelfCgroup)
        let mounts = MountInfo.cgroupMounts(mountinfo)

        if rootIsCgroup2 {
            guard var path = own.unifiedPath else {
                throw BerthError(.cgroup, "\(root) is cgroup v2 but /proc/self/cgroup has no \"0::\" line; is /proc from another namespace?")
            }
            // A namespaced or bind mount shows only part of the tree: make the path relative to it.
            let mountRoot = mounts.last { $0.version == .v2 && $0.mountPoint == root }?.root ?? "/"
            guard let relative = CgroupMount(mountPoint: "/", root: mountRoot, version: .v2).directory(for: path) else {
                throw BerthError(.cgroup, "this process's cgroup \(path) lies outside the cgroup tree mounted at \(root) (root \(mountRoot)); run berth in a cgroup inside it")
            }
            path = relative
            // Berth may have moved itself into its leaf on an earlier start: nest beside it, not in it.
            if path.split(separator: "/").last.map(String.init) == CgroupName.selfLeaf {
                path = "/" + PathText.join(path.split(separator: "/").dropLast())
            }
            return .v2(mountPoint: root, parent: path)
        }

        var controllers: [String: String] = [:]
        var unreachable: [String] = []
        for controller in CgroupV1Manager.managed {
            let candidates = mounts.filter { $0.version == .v1 && $0.controllers.contains(controller) }
            guard !candidates.isEmpty else { continue }
            let path = own.controllerPaths[controller] ?? "/"
            // Bind mounts of the same hierarchy may show different parts; take one that shows ours.
            if let dir = candidates.lazy.compactMap({ $0.directory(for: path) }).first {
                controllers[controller] = dir
            } else {
                unreachable.append("\(controller) (\(path))")
            }
        }
        guard controllers["cpu"] != nil || controllers["memory"] != nil else {
            if !unreachable.isEmpty {
                throw BerthError(.cgroup, "cgroup v1: this process's cgroups \(unreachable.joined(separator: ", ")) lie outside the mounted hierarchies; run berth where its cgroups are visible")
            }
            throw BerthError(.cgroup, "no usable cgroups: \(root) is not cgroup v2 and /proc/self/mountinfo has no cgroup v1 mount for cpu or memory; mount cgroup2 at \(root) (or boot with systemd.unified_cgroup_hierarchy=1), or mount the v1 controllers")
        }
        let hybrid = mounts.contains { $0.version == .v2 }
        return .v1(controllers: controllers, hybrid: hybrid)
    }
}
