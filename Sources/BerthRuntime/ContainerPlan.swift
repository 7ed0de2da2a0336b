import BerthCgroups
import BerthCore
import BerthLinux
import Glibc

/// Turns a container configuration into the exact setup the child performs. Pure: no I/O, so
/// the plan is tested without root by reading the steps it produces.
public struct ContainerPlan: Sendable {
    /// Host-side facts the plan depends on, gathered by the caller.
    public struct Host: Sendable {
        public var cgroupVersion: CgroupVersion
        /// The host's /etc/hosts and /etc/resolv.conf, which a container on the host's network
        /// starts from; nil when unreadable.
        public var hostsFile: String?
        public var resolvConf: String?

        public init(cgroupVersion: CgroupVersion, hostsFile: String? = nil, resolvConf: String? = nil) {
            self.cgroupVersion = cgroupVersion
            self.hostsFile = hostsFile
            self.resolvConf = resolvConf
        }
    }

    /// The OCI runtime spec's default masked paths (runc spec), plus Docker's powercap.
    public static let maskedPaths = [
        "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
    ]
    public static let readOnlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
    /// Device nodes bind-mounted from the host: mknod inside the container is harmless because
    /// every writable filesystem in it is nodev.
    public static let devices = ["null", "zero", "full", "random", "urandom", "tty"]
    public static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    public var configuration: ContainerConfiguration
    public var hostname: String
    public var user: ResolvedUser
    public var capabilities: CapabilitySet
    public var seccomp: SeccompProgram?
    public var host: Host

    public init(configuration: ContainerConfiguration, hostname: String, user: ResolvedUser,
                capabilities: CapabilitySet, seccomp: SeccompProgram?, host: Host) {
        self.configuration = configuration
        self.hostname = hostname
        self.user = user
        self.capabilities = capabilities
        self.seccomp = seccomp
        self.host = host
    }

    /// The capabilities a container gets: Docker's default set, then --cap-add, then --cap-drop
    /// ("ALL" works in both, as in Docker).
    public static func capabilities(add: [String], drop: [String]) throws -> CapabilitySet {
        var set = try CapabilitySet.dockerDefault()
        func resolve(_ names: [String]) throws -> CapabilitySet {
            if names.contains(where: { $0.uppercased() == "ALL" }) { return .all }
            return try CapabilitySet(names: names)
        }
        set.insert(try resolve(add))
        set.remove(try resolve(drop))
        return set
    }

    /// The environment: the user's variables over Docker's defaults (PATH, HOSTNAME, HOME).
    public var environment: [String] {
        var env: [String] = []
        var seen = Set<String>()
        for entry in configuration.env.reversed() {
            let key = String(entry.prefix(while: { $0 != "=" }))
            if seen.insert(key).inserted { env.insert(entry, at: 0) }
        }
        var defaults = ["PATH=\(Self.defaultPath)", "HOSTNAME=\(hostname)", "HOME=\(user.home)"]
        defaults.removeAll { seen.contains(String($0.prefix(while: { $0 != "=" }))) }
        return defaults + env
    }

    public func launchSpec() throws -> LaunchSpec {
        var spec = LaunchSpec()
        spec.namespaces = [.mount, .uts, .ipc, .pid, .cgroup]
        if configuration.network == .none { spec.namespaces.insert(.network) }
        spec.ops = try setupOps()
        spec.argv = configuration.command
        spec.env = environment
        let pathEntry = spec.env.last(where: { $0.hasPrefix("PATH=") })
        spec.searchPath = pathEntry.map { String($0.dropFirst(5)) } ?? Self.defaultPath
        spec.uid = user.uid
        spec.gid = user.gid
        spec.groups = user.additionalGroups
        spec.capabilities = capabilities
        spec.boundingSet = capabilities
        spec.noNewPrivileges = true
        spec.seccomp = seccomp
        spec.stdio = configuration.stdio
        return spec
    }

    func setupOps() throws -> [SetupOp] {
        let root = try Self.normalizedRoot(configuration.rootfs)
        let workdir = try Self.containerPath(configuration.workingDirectory, what: "working directory")
        var ops: [SetupOp] = []
        let nosuidNodevNoexec = UInt(MS_NOSUID) | UInt(MS_NODEV) | UInt(MS_NOEXEC)

        // Nothing mounted in the container propagates back to the host.
        ops.append(.mount("make mounts private", source: nil, target: "/", flags: UInt(MS_REC) | UInt(MS_PRIVATE)))
        if let descriptor = configuration.rootfsMount {
            ops.append(.moveMount("attach the image's root filesystem at \(root)", descriptor: descriptor, target: root))
        }
        // pivot_root needs the new root to be a mount point.
        ops.append(.mount("bind mount the rootfs \(root)", source: root, target: root, flags: UInt(MS_BIND) | UInt(MS_REC)))
        ops.append(.mount("remount the rootfs nodev", source: nil, target: root,
                          flags: UInt(MS_BIND) | UInt(MS_REMOUNT) | UInt(MS_NODEV)))

        ops.append(SetupOp(.mkdir, label: "create /proc", target: root + "/proc", mode: 0o555))
        ops.append(.mount("mount /proc", source: "proc", target: root + "/proc", fstype: "proc", flags: nosuidNodevNoexec))

        ops.append(SetupOp(.mkdir, label: "create /dev", target: root + "/dev", mode: 0o755))
        ops.append(.mount("mount /dev", source: "tmpfs", target: root + "/dev", fstype: "tmpfs",
                          flags: UInt(MS_NOSUID) | UInt(MS_NODEV) | UInt(MS_STRICTATIME), data: "mode=755,size=65536k"))
        for device in Self.devices {
            ops.append(SetupOp(.touch, label: "create /dev/\(device)", target: "\(root)/dev/\(device)", mode: 0o666))
            ops.append(.mount("bind /dev/\(device)", source: "/dev/\(device)", target: "\(root)/dev/\(device)", flags: UInt(MS_BIND)))
        }
        ops.append(SetupOp(.mkdir, label: "create /dev/pts", target: root + "/dev/pts", mode: 0o755))
        ops.append(.mount("mount /dev/pts", source: "devpts", target: root + "/dev/pts", fstype: "devpts",
                          flags: UInt(MS_NOSUID) | UInt(MS_NOEXEC), data: "newinstance,ptmxmode=0666,mode=0620,gid=5"))
        ops.append(SetupOp(.symlink, label: "link /dev/ptmx", source: "pts/ptmx", target: root + "/dev/ptmx"))
        ops.append(SetupOp(.mkdir, label: "create /dev/shm", target: root + "/dev/shm", mode: 0o1777))
        ops.append(.mount("mount /dev/shm", source: "shm", target: root + "/dev/shm", fstype: "tmpfs",
                          flags: nosuidNodevNoexec, data: "mode=1777,size=65536k"))
        ops.append(SetupOp(.mkdir, label: "create /dev/mqueue", target: root + "/dev/mqueue", mode: 0o755))
        ops.append(.mount("mount /dev/mqueue", source: "mqueue", target: root + "/dev/mqueue", fstype: "mqueue", flags: nosuidNodevNoexec))
        for (name, target) in [("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                               ("stderr", "/proc/self/fd/2"), ("core", "/proc/kcore")] {
            ops.append(SetupOp(.symlink, label: "link /dev/\(name)", source: target, target: "\(root)/dev/\(name)"))
        }

        ops.append(SetupOp(.mkdir, label: "create /sys", target: root + "/sys", mode: 0o555))
        ops.append(.mount("mount /sys", source: "sysfs", target: root + "/sys", fstype: "sysfs",
                          flags: nosuidNodevNoexec | UInt(MS_RDONLY)))
        if host.cgroupVersion == .v2 {
            // The cgroup namespace makes the container's own cgroup its root here.
            ops.append(.mount("mount /sys/fs/cgroup", source: "cgroup2", target: root + "/sys/fs/cgroup", fstype: "cgroup2",
                              flags: nosuidNodevNoexec | UInt(MS_RDONLY), optional: true))
        }

        // Each of these files is the container's own, writable, as in Docker. Written into the
        // container's /dev (a tmpfs of its own), bound over the image's file and unlinked there:
        // the bind keeps it. Nothing of it is on the host's disk or has to be removed after.
        ops.append(SetupOp(.mkdir, label: "create /etc", target: root + "/etc", mode: 0o755))
        for (file, contents) in etcFiles {
            let staged = "\(root)/dev/.berth-\(file)"
            ops.append(SetupOp(.writeFile, label: "write /etc/\(file)", target: staged, data: contents, mode: 0o644))
            ops.append(SetupOp(.touch, label: "create /etc/\(file)", target: "\(root)/etc/\(file)", mode: 0o644))
            ops.append(.mount("bind /etc/\(file)", source: staged, target: "\(root)/etc/\(file)", flags: UInt(MS_BIND)))
            ops.append(SetupOp(.unlink, label: "remove the staged /etc/\(file)", target: staged))
        }

        // Created in the rootfs when missing, bound before pivot_root while the host path is
        // still visible.
        for bind in configuration.bindMounts {
            let destination = try Self.containerPath(bind.destination, what: "bind mount destination")
            ops.append(SetupOp(.mkdir, label: "create \(destination)", target: root + destination, mode: 0o755))
            ops.append(.mount("bind \(bind.source) to \(destination)", source: bind.source, target: root + destination,
                              flags: UInt(MS_BIND) | UInt(MS_REC)))
            if bind.readOnly {
                ops.append(.mount("make \(destination) read-only", source: nil, target: root + destination,
                                  flags: UInt(MS_BIND) | UInt(MS_REMOUNT) | UInt(MS_RDONLY) | UInt(MS_REC)))
            }
        }

        ops.append(SetupOp(.setHostname, label: "set hostname \(hostname)", source: hostname))
        if configuration.network == .none {
            ops.append(SetupOp(.loopbackUp, label: "bring up loopback"))
        }

        ops.append(SetupOp(.pivotRoot, label: "pivot_root into \(root)", target: root))

        for path in Self.maskedPaths {
            ops.append(SetupOp(.mask, label: "mask \(path)", target: path, optional: true))
        }
        for path in Self.readOnlyPaths {
            ops.append(SetupOp(.readOnly, label: "make \(path) read-only", target: path, mountFlags: nosuidNodevNoexec, optional: true))
        }
        if configuration.readOnlyRootfs {
            ops.append(.mount("remount the root read-only", source: nil, target: "/",
                              flags: UInt(MS_BIND) | UInt(MS_REMOUNT) | UInt(MS_RDONLY) | UInt(MS_NODEV)))
        }
        // After pivot_root the path resolves inside the container only: it cannot name a host directory.
        ops.append(SetupOp(.chdir, label: "change to working directory \(workdir)", target: workdir, mode: 0o755))
        return ops
    }

    /// /etc/hostname, /etc/hosts and /etc/resolv.conf: on the host's network, the host's hosts
    /// and resolv.conf; with none, loopback only. hosts names the container's hostname.
    public var etcFiles: [(name: String, contents: String)] {
        var hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        var resolv = "# no network: this container has only loopback\n"
        if configuration.network == .host {
            if let hostsFile = host.hostsFile { hosts = hostsFile }
            resolv = host.resolvConf ?? ""
        }
        if !hosts.isEmpty && !hosts.hasSuffix("\n") { hosts += "\n" }
        hosts += "127.0.1.1\t\(hostname)\n"
        return [("hostname", hostname + "\n"), ("hosts", hosts), ("resolv.conf", resolv)]
    }

    /// An absolute, normalized host path for the rootfs (no "..", no trailing slash).
    static func normalizedRoot(_ path: String) throws -> String {
        guard path.hasPrefix("/") else {
            throw BerthError(.invalidArgument, "rootfs \"\(path)\" must be an absolute path")
        }
        let normalized = try containerPath(path, what: "rootfs")
        guard normalized != "/" else {
            throw BerthError(.invalidArgument, "rootfs cannot be the host's / : give the directory holding the container's root filesystem")
        }
        return normalized
    }

    /// Normalizes an absolute path, refusing ".." so it cannot climb out of the container root.
    static func containerPath(_ path: String, what: String) throws -> String {
        guard path.hasPrefix("/") else {
            throw BerthError(.invalidArgument, "\(what) \"\(path)\" must be an absolute path")
        }
        var parts: [Substring] = []
        for part in path.split(separator: "/") where part != "." {
            if part == ".." {
                throw BerthError(.invalidArgument, "\(what) \"\(path)\" must not contain \"..\"")
            }
            parts.append(part)
        }
        return "/" + PathText.join(parts[...])
    }
}
