import BerthCgroups
import BerthCore
import BerthLinux
import Foundation
import Glibc
import Testing

@testable import BerthRuntime

@Suite("Container plan (pure, no root)")
struct ContainerPlanTests {
    func plan(_ configure: (inout ContainerConfiguration) -> Void = { _ in }, version: CgroupVersion = .v1) throws -> ContainerPlan {
        var config = ContainerConfiguration(rootfs: "/srv/root", command: ["/bin/app", "x"])
        configure(&config)
        return ContainerPlan(configuration: config, hostname: "box", user: .root,
                             capabilities: try ContainerPlan.capabilities(add: config.capAdd, drop: config.capDrop),
                             seccomp: nil, host: .init(cgroupVersion: version, hostsFile: "10.0.0.1\tdb\n", resolvConf: "nameserver 10.0.0.53\n"))
    }

    func labels(_ spec: LaunchSpec) -> [String] { spec.ops.map(\.label) }

    @Test func stepsRunInTheOrderTheKernelNeeds() throws {
        let spec = try plan().launchSpec()
        let steps = labels(spec)
        func index(_ label: String) throws -> Int { try #require(steps.firstIndex(of: label), "missing step \(label)") }
        #expect(try index("make mounts private") == 0)
        #expect(try index("bind mount the rootfs /srv/root") < index("mount /proc"))
        #expect(try index("mount /proc") < index("pivot_root into /srv/root"))
        #expect(try index("mount /dev") < index("bind /dev/null"))
        #expect(try index("pivot_root into /srv/root") < index("mask /proc/kcore"))
        #expect(try index("mask /proc/kcore") < index("change to working directory /"))
        #expect(steps.last == "change to working directory /")
    }

    @Test func mountsLandInsideTheRootfsBeforePivotAndAtContainerPathsAfter() throws {
        let spec = try plan().launchSpec()
        let pivot = try #require(spec.ops.firstIndex { $0.kind == .pivotRoot })
        for op in spec.ops[1..<pivot] where op.target != nil {
            #expect(op.target?.hasPrefix("/srv/root") == true, "\(op.label) targets \(op.target ?? "")")
        }
        for op in spec.ops[(pivot + 1)...] {
            #expect(op.target?.hasPrefix("/srv/root") != true, "\(op.label) targets a host path after pivot_root")
        }
    }

    @Test func everyWritableMountIsNodevSoMknodCannotReachHostDevices() throws {
        let spec = try plan().launchSpec()
        let nodev = UInt(MS_NODEV)
        let rootRemount = try #require(spec.ops.first { $0.label == "remount the rootfs nodev" })
        #expect(rootRemount.mountFlags & nodev != 0)
        for label in ["mount /dev", "mount /dev/shm", "mount /proc", "mount /sys"] {
            let op = try #require(spec.ops.first { $0.label == label })
            #expect(op.mountFlags & nodev != 0, "\(label) lacks nodev")
        }
        let sys = try #require(spec.ops.first { $0.label == "mount /sys" })
        #expect(sys.mountFlags & UInt(MS_RDONLY) != 0)
    }

    @Test func maskedAndReadOnlyPathsFollowTheOCIDefaults() throws {
        let spec = try plan().launchSpec()
        let masked = spec.ops.filter { $0.kind == .mask }.compactMap(\.target)
        let readOnly = spec.ops.filter { $0.kind == .readOnly }.compactMap(\.target)
        for path in ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug", "/sys/firmware"] {
            #expect(masked.contains(path))
        }
        #expect(readOnly == ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"])
        let hiding = spec.ops.filter { $0.kind == .mask || $0.kind == .readOnly }
        #expect(hiding.allSatisfy { $0.optional })
    }

    @Test func networkNoneGetsItsOwnNamespaceWithLoopbackUp() throws {
        let none = try plan { $0.network = .none }.launchSpec()
        #expect(none.namespaces.contains(.network))
        #expect(none.ops.contains { $0.kind == .loopbackUp })
        let host = try plan { $0.network = .host }.launchSpec()
        #expect(!host.namespaces.contains(.network))
        #expect(!host.ops.contains { $0.kind == .loopbackUp })
        for spec in [none, host] {
            #expect(spec.namespaces.isSuperset(of: [.pid, .mount, .uts, .ipc, .cgroup]))
        }
    }

    @Test func readOnlyRootIsRemountedAfterPivot() throws {
        let spec = try plan { $0.readOnlyRootfs = true }.launchSpec()
        let remount = try #require(spec.ops.firstIndex { $0.label == "remount the root read-only" })
        let pivot = try #require(spec.ops.firstIndex { $0.kind == .pivotRoot })
        #expect(remount > pivot)
        #expect(spec.ops[remount].mountFlags & UInt(MS_RDONLY) != 0)
        #expect(try !plan().launchSpec().ops.contains { $0.label == "remount the root read-only" })
    }

    @Test func cgroup2IsMountedOnlyOnV2Hosts() throws {
        #expect(try plan(version: .v2).launchSpec().ops.contains { $0.fstype == "cgroup2" })
        #expect(try !plan(version: .v1).launchSpec().ops.contains { $0.fstype == "cgroup2" })
    }

    /// Each file is written into the container's /dev tmpfs, bound over the image's file and
    /// unlinked, in that order; nothing of it is on the host.
    @Test func etcFilesAreWrittenInTheContainersDevAndBound() throws {
        let spec = try plan().launchSpec()
        let labels = labels(spec)
        for file in ["hostname", "hosts", "resolv.conf"] {
            let staged = "/srv/root/dev/.berth-\(file)"
            let write = try #require(spec.ops.firstIndex { $0.kind == .writeFile && $0.target == staged })
            let bind = try #require(spec.ops.firstIndex { $0.label == "bind /etc/\(file)" })
            let unlink = try #require(spec.ops.firstIndex { $0.kind == .unlink && $0.target == staged })
            #expect(spec.ops[bind].source == staged)
            #expect(spec.ops[bind].target == "/srv/root/etc/\(file)")
            let devMount = try #require(labels.firstIndex(of: "mount /dev"))
            #expect(devMount < write && write < bind && bind < unlink)
        }
        #expect(spec.ops.first { $0.target == "/srv/root/dev/.berth-hostname" }?.data == "box\n")
        #expect(spec.ops.contains { $0.kind == .setHostname && $0.source == "box" })
    }

    @Test func etcFilesFollowTheNetwork() throws {
        func files(_ network: ContainerConfiguration.Network) throws -> [String: String] {
            Dictionary(uniqueKeysWithValues: try plan { $0.network = network }.etcFiles.map { ($0.name, $0.contents) })
        }
        let none = try files(.none)
        #expect(none["hosts"] == "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\tbox\n")
        #expect(none["resolv.conf"]?.contains("nameserver") == false)
        let host = try files(.host)
        #expect(host["hosts"] == "10.0.0.1\tdb\n127.0.1.1\tbox\n")
        #expect(host["resolv.conf"] == "nameserver 10.0.0.53\n")
        #expect(host["hostname"] == "box\n")
    }

    @Test func processSettingsCarryUserCapabilitiesAndNoNewPrivs() throws {
        var p = try plan { $0.env = ["A=1", "PATH=/opt/bin", "A=2"] }
        p.user = ResolvedUser(uid: 1000, gid: 1000, additionalGroups: [100], home: "/home/app")
        let spec = try p.launchSpec()
        #expect(spec.uid == 1000 && spec.gid == 1000 && spec.groups == [100])
        #expect(spec.noNewPrivileges)
        #expect(spec.capabilities == spec.boundingSet)
        #expect(spec.capabilities?.mask == 0xa80425fb)
        #expect(spec.env == ["HOSTNAME=box", "HOME=/home/app", "PATH=/opt/bin", "A=2"])
        #expect(spec.searchPath == "/opt/bin")
        #expect(spec.argv == ["/bin/app", "x"])
    }

    @Test(arguments: [
        (["NET_ADMIN"], [String](), true, true),
        ([String](), ["CHOWN", "cap_kill"], false, false),
        (["ALL"], [String](), true, true),
    ])
    func capabilityAddAndDrop(add: [String], drop: [String], hasNetAdmin: Bool, hasChown: Bool) throws {
        let set = try ContainerPlan.capabilities(add: add, drop: drop)
        #expect(set.contains("CAP_NET_ADMIN") == hasNetAdmin)
        #expect(set.contains("CAP_CHOWN") == hasChown)
    }

    @Test func dropAllLeavesNothing() throws {
        #expect(try ContainerPlan.capabilities(add: [], drop: ["ALL"]).values.isEmpty)
    }

    @Test func unknownCapabilityIsAClearError() {
        #expect(throws: BerthError.self) { try ContainerPlan.capabilities(add: ["CAP_FLY"], drop: []) }
        do {
            _ = try ContainerPlan.capabilities(add: ["CAP_FLY"], drop: [])
        } catch {
            #expect("\(error)".contains("unknown capability \"CAP_FLY\""))
        }
    }

    @Test(arguments: ["relative/dir", "/a/../etc", "/proc/.."])
    func pathsThatCouldEscapeAreRefused(path: String) {
        #expect(throws: BerthError.self) { try plan { $0.workingDirectory = path }.launchSpec() }
    }

    @Test func rootfsMustNotBeTheHostRoot() {
        #expect(throws: BerthError.self) { try plan { $0.rootfs = "/" }.launchSpec() }
    }
}

@Suite("User resolution against the rootfs")
struct UserResolverTests {
    let root: String

    init() throws {
        root = NSTemporaryDirectory() + "berth-user-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        try "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n"
            .write(toFile: root + "/etc/passwd", atomically: true, encoding: .utf8)
        try "root:x:0:\napp:x:1000:\nusers:x:100:app\nstaff:x:50:other\n"
            .write(toFile: root + "/etc/group", atomically: true, encoding: .utf8)
    }

    @Test(arguments: [
        ("app", ResolvedUser(uid: 1000, gid: 1000, additionalGroups: [100], home: "/home/app")),
        ("1000", ResolvedUser(uid: 1000, gid: 1000, additionalGroups: [100], home: "/home/app")),
        ("1000:50", ResolvedUser(uid: 1000, gid: 50, additionalGroups: [100], home: "/home/app")),
        ("app:users", ResolvedUser(uid: 1000, gid: 100, additionalGroups: [], home: "/home/app")),
        ("4242", ResolvedUser(uid: 4242, gid: 0, additionalGroups: [], home: "/")),
        ("4242:4242", ResolvedUser(uid: 4242, gid: 4242, additionalGroups: [], home: "/")),
    ])
    func resolves(spec: String, expected: ResolvedUser) throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(try UserResolver.resolve(spec, rootfs: root) == expected)
    }

    @Test func unknownNamesSayWhereTheyWereLookedUp() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(throws: BerthError.self) { try UserResolver.resolve("nobody", rootfs: root) }
        #expect(throws: BerthError.self) { try UserResolver.resolve("app:wheel", rootfs: root) }
    }

    @Test func aSymlinkedEtcIsNotFollowedToTheHost() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.removeItem(atPath: root + "/etc")
        try FileManager.default.createSymbolicLink(atPath: root + "/etc", withDestinationPath: "/etc")
        #expect(throws: BerthError.self) { try UserResolver.resolve("root", rootfs: root) }
    }

    @Test func aSymlinkedPasswdIsNotFollowedToTheHost() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.removeItem(atPath: root + "/etc/passwd")
        try FileManager.default.createSymbolicLink(atPath: root + "/etc/passwd", withDestinationPath: "/etc/passwd")
        #expect(throws: BerthError.self) { try UserResolver.resolve("root", rootfs: root) }
    }
}
