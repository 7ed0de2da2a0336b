import BerthCgroups
import BerthCore
import Foundation
import Testing

/// Samples as the kernel writes them.
enum CgroupSamples {
    /// This development host: v1 controllers, cpu and cpuacct mounted apart, an empty cgroup2 beside them.
    static let hybridProcSelfCgroup = """
        9:name=systemd:/
        8:pids:/
        7:blkio:/
        6:freezer:/
        5:devices:/
        4:memory:/process_api/331d8100853f77a78dead063c8c412a5
        3:cpuset:/
        2:cpuacct:/
        1:cpu:/
        0::/

        """
    static let hybridMountinfo = """
        22 1 0:21 / / rw,relatime - overlay overlay rw,lowerdir=/a,upperdir=/b,workdir=/c
        23 22 0:22 / /sys rw,nosuid,nodev,noexec,relatime - sysfs sysfs rw
        31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
        32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
        33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
        34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
        35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
        36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
        37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
        38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
        39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
        40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
        41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw

        """
    /// A systemd distribution on v2 (Debian 12, Fedora), a login session.
    static let systemdV2ProcSelfCgroup = "0::/user.slice/user-1000.slice/session-3.scope\n"
    static let systemdV2Mountinfo = """
        24 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
        29 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot

        """
    /// The cgroup2 VM: everything at the root.
    static let vmProcSelfCgroup = "0::/\n"
    static let vmMountinfo = "12 1 0:20 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw\n"
    /// An older systemd host on v1: cpu and cpuacct comounted, optional fields before the dash.
    static let legacyProcSelfCgroup = """
        12:pids:/system.slice/berth.service
        5:cpu,cpuacct:/system.slice/berth.service
        4:memory:/system.slice/berth.service
        1:name=systemd:/system.slice/berth.service

        """
    static let legacyMountinfo = """
        25 24 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
        26 25 0:23 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd
        30 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,cpu,cpuacct
        31 25 0:28 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,memory
        37 25 0:34 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:21 - cgroup cgroup rw,pids

        """
    /// Inside a Docker container on v1: each hierarchy shows only the container's own subtree.
    static let dockerV1ProcSelfCgroup = """
        4:memory:/docker/0123abcd
        3:cpu,cpuacct:/docker/0123abcd

        """
    static let dockerV1Mountinfo = """
        700 699 0:60 /docker/0123abcd /sys/fs/cgroup/memory ro,nosuid,nodev,noexec,relatime master:15 - cgroup cgroup rw,memory
        701 699 0:61 /docker/0123abcd /sys/fs/cgroup/cpu,cpuacct ro,nosuid,nodev,noexec,relatime master:14 - cgroup cgroup rw,cpu,cpuacct

        """
}

@Suite("cgroup /proc/self/cgroup parsing")
struct CgroupProcSelfCgroupTests {
    @Test("samples", arguments: [
        (CgroupSamples.hybridProcSelfCgroup, ProcSelfCgroup(unifiedPath: "/", controllerPaths: [
            "name=systemd": "/", "pids": "/", "blkio": "/", "freezer": "/", "devices": "/",
            "memory": "/process_api/331d8100853f77a78dead063c8c412a5", "cpuset": "/", "cpuacct": "/", "cpu": "/",
        ])),
        (CgroupSamples.vmProcSelfCgroup, ProcSelfCgroup(unifiedPath: "/")),
        (CgroupSamples.systemdV2ProcSelfCgroup, ProcSelfCgroup(unifiedPath: "/user.slice/user-1000.slice/session-3.scope")),
        (CgroupSamples.legacyProcSelfCgroup, ProcSelfCgroup(controllerPaths: [
            "pids": "/system.slice/berth.service", "cpu": "/system.slice/berth.service", "cpuacct": "/system.slice/berth.service",
            "memory": "/system.slice/berth.service", "name=systemd": "/system.slice/berth.service",
        ])),
        ("0::/a:b/c\n", ProcSelfCgroup(unifiedPath: "/a:b/c")),
        ("0::/gone (deleted)\n", ProcSelfCgroup(unifiedPath: "/gone")),
        ("", ProcSelfCgroup()),
        ("garbage\n", ProcSelfCgroup()),
    ])
    func cgroupParseProcSelfCgroup(text: String, expected: ProcSelfCgroup) {
        #expect(ProcSelfCgroup(parsing: text) == expected)
    }
}

@Suite("cgroup mountinfo parsing")
struct CgroupMountinfoTests {
    @Test("hybrid host: every v1 hierarchy and the empty cgroup2")
    func cgroupParseHybridMountinfo() {
        let mounts = MountInfo.cgroupMounts(CgroupSamples.hybridMountinfo)
        #expect(mounts.count == 10)
        #expect(mounts.first == CgroupMount(mountPoint: "/sys/fs/cgroup/cpu", version: .v1, controllers: ["cpu"]))
        #expect(mounts.contains(CgroupMount(mountPoint: "/sys/fs/cgroup/memory", version: .v1, controllers: ["memory"])))
        #expect(mounts.contains(CgroupMount(mountPoint: "/sys/fs/cgroup/systemd", version: .v1, controllers: [])))
        #expect(mounts.last == CgroupMount(mountPoint: "/sys/fs/cgroup/unified", version: .v2))
    }

    @Test("samples", arguments: [
        (CgroupSamples.systemdV2Mountinfo, [CgroupMount(mountPoint: "/sys/fs/cgroup", version: .v2)]),
        (CgroupSamples.legacyMountinfo, [
            CgroupMount(mountPoint: "/sys/fs/cgroup/systemd", version: .v1, controllers: []),
            CgroupMount(mountPoint: "/sys/fs/cgroup/cpu,cpuacct", version: .v1, controllers: ["cpu", "cpuacct"]),
            CgroupMount(mountPoint: "/sys/fs/cgroup/memory", version: .v1, controllers: ["memory"]),
            CgroupMount(mountPoint: "/sys/fs/cgroup/pids", version: .v1, controllers: ["pids"]),
        ]),
        (CgroupSamples.dockerV1Mountinfo, [
            CgroupMount(mountPoint: "/sys/fs/cgroup/memory", root: "/docker/0123abcd", version: .v1, controllers: ["memory"]),
            CgroupMount(mountPoint: "/sys/fs/cgroup/cpu,cpuacct", root: "/docker/0123abcd", version: .v1, controllers: ["cpu", "cpuacct"]),
        ]),
        ("50 1 0:40 / /mnt/my\\040cgroups rw - cgroup2 none rw\n", [CgroupMount(mountPoint: "/mnt/my cgroups", version: .v2)]),
        ("22 1 0:21 / / rw,relatime - ext4 /dev/sda1 rw\n", []),
        ("short line\n", []),
    ])
    func cgroupParseMountinfo(text: String, expected: [CgroupMount]) {
        #expect(MountInfo.cgroupMounts(text) == expected)
    }

    @Test("a hierarchy path maps into the mount that shows it", arguments: [
        ("/", "/", "/m"), ("/", "/a/b", "/m/a/b"), ("/docker/x", "/docker/x", "/m"), ("/docker/x", "/docker/x/y", "/m/y"),
    ])
    func cgroupMountDirectory(root: String, path: String, expected: String) {
        #expect(CgroupMount(mountPoint: "/m", root: root, version: .v1).directory(for: path) == expected)
    }

    @Test("a path outside the mount has no directory", arguments: [("/docker/x", "/"), ("/docker/x", "/docker/xy"), ("/", "/../a")])
    func cgroupMountDirectoryOutside(root: String, path: String) {
        #expect(CgroupMount(mountPoint: "/m", root: root, version: .v1).directory(for: path) == nil)
    }
}

@Suite("cgroup detection layout")
struct CgroupLayoutTests {
    @Test("samples", arguments: [
        // This host: v1, each controller under this process's own cgroup in its hierarchy.
        (false, CgroupSamples.hybridProcSelfCgroup, CgroupSamples.hybridMountinfo, CgroupLayout.v1(controllers: [
            "cpu": "/sys/fs/cgroup/cpu", "cpuacct": "/sys/fs/cgroup/cpuacct",
            "memory": "/sys/fs/cgroup/memory/process_api/331d8100853f77a78dead063c8c412a5", "pids": "/sys/fs/cgroup/pids",
        ], hybrid: true)),
        (true, CgroupSamples.vmProcSelfCgroup, CgroupSamples.vmMountinfo, .v2(mountPoint: "/sys/fs/cgroup", parent: "/")),
        (true, CgroupSamples.systemdV2ProcSelfCgroup, CgroupSamples.systemdV2Mountinfo,
         .v2(mountPoint: "/sys/fs/cgroup", parent: "/user.slice/user-1000.slice/session-3.scope")),
        // Berth moved itself into its leaf on an earlier start: children go beside the leaf.
        (true, "0::/system.slice/berth.service/berth-self\n", CgroupSamples.systemdV2Mountinfo,
         .v2(mountPoint: "/sys/fs/cgroup", parent: "/system.slice/berth.service")),
        (true, "0::/berth-self\n", CgroupSamples.vmMountinfo, .v2(mountPoint: "/sys/fs/cgroup", parent: "/")),
        // A cgroup2 mount that shows a subtree (bind mount without a cgroup namespace).
        (true, "0::/kubepods/pod1/c1\n", "9 1 0:30 /kubepods/pod1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
         .v2(mountPoint: "/sys/fs/cgroup", parent: "/c1")),
        (false, CgroupSamples.legacyProcSelfCgroup, CgroupSamples.legacyMountinfo, .v1(controllers: [
            "cpu": "/sys/fs/cgroup/cpu,cpuacct/system.slice/berth.service",
            "cpuacct": "/sys/fs/cgroup/cpu,cpuacct/system.slice/berth.service",
            "memory": "/sys/fs/cgroup/memory/system.slice/berth.service",
            "pids": "/sys/fs/cgroup/pids/system.slice/berth.service",
        ], hybrid: false)),
        (false, CgroupSamples.dockerV1ProcSelfCgroup, CgroupSamples.dockerV1Mountinfo, .v1(controllers: [
            "cpu": "/sys/fs/cgroup/cpu,cpuacct", "cpuacct": "/sys/fs/cgroup/cpu,cpuacct", "memory": "/sys/fs/cgroup/memory",
        ], hybrid: false)),
    ])
    func cgroupLayout(rootIsCgroup2: Bool, procSelfCgroup: String, mountinfo: String, expected: CgroupLayout) throws {
        #expect(try Cgroups.layout(rootIsCgroup2: rootIsCgroup2, procSelfCgroup: procSelfCgroup, mountinfo: mountinfo) == expected)
    }

    @Test("no usable cgroups is a clear error", arguments: [
        (false, "0::/\n", "22 1 0:21 / / rw - ext4 /dev/sda1 rw\n", "no usable cgroups"),
        (false, "0::/\n", "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n", "no cgroup v1 mount for cpu or memory"),
        (true, "1:memory:/x\n", CgroupSamples.vmMountinfo, "no \"0::\" line"),
        (true, "0::/other\n", "9 1 0:30 /kubepods /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", "outside the cgroup tree"),
        (false, "4:memory:/elsewhere\n3:cpu,cpuacct:/elsewhere\n", CgroupSamples.dockerV1Mountinfo, "outside the mounted hierarchies"),
    ])
    func cgroupLayoutFails(rootIsCgroup2: Bool, procSelfCgroup: String, mountinfo: String, hint: String) {
        let error = #expect(throws: BerthError.self) {
            try Cgroups.layout(rootIsCgroup2: rootIsCgroup2, procSelfCgroup: procSelfCgroup, mountinfo: mountinfo)
        }
        #expect(error?.code == .cgroup)
        #expect(error?.message.contains(hint) == true, "\(error?.message ?? "")")
    }
}

@Suite("cgroup filesystem detection on this host")
struct CgroupStatfsTests {
    @Test("statfs magic agrees with mountinfo for every cgroup mount")
    func cgroupStatfsMatchesMountinfo() throws {
        let mountinfo = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        let mounts = MountInfo.cgroupMounts(mountinfo)
        #expect(!mounts.isEmpty)
        for mount in mounts {
            // A later mount on the same point hides an earlier one; statfs sees only the last.
            guard mounts.last(where: { $0.mountPoint == mount.mountPoint }) == mount else { continue }
            #expect(Cgroups.isCgroup2(mount.mountPoint) == (mount.version == .v2), "\(mount.mountPoint)")
        }
        #expect(!Cgroups.isCgroup2("/"))
        #expect(!Cgroups.isCgroup2("/nonexistent/berth"))
    }
}
