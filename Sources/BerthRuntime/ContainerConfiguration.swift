import BerthCgroups
import BerthCore
import FoundationEssentials

/// What a user asks for when running one container (`berth run` options).
public struct ContainerConfiguration: Sendable {
    public enum Network: String, Sendable, CaseIterable {
        /// Its own network namespace with only loopback, up.
        case none
        /// The host's network namespace.
        case host
    }

    public enum Seccomp: Sendable, Equatable {
        /// Docker's default allowlist, adjusted to the granted capabilities.
        case `default`
        case unconfined
        /// A profile in the Docker or OCI JSON format.
        case profile(path: String)

        public init(argument: String) {
            switch argument {
            case "default": self = .default
            case "unconfined": self = .unconfined
            default: self = .profile(path: argument)
            }
        }
    }

    /// The container's root directory on the host.
    public var rootfs: String
    /// A detached mount (fsmount) of the root filesystem, open in the launching process: it is
    /// attached at `rootfs` inside the container's mount namespace only, so the host's mount
    /// table does not grow by one mount per running container (each new mount namespace copies
    /// all of them). `rootfs` is then just the empty mount point.
    public var rootfsMount: Int32?
    /// A descriptor holding the lock of the root filesystem's directory (an image's container
    /// rootfs), for a process that outlives the launcher to keep open while the container runs.
    public var rootfsLock: Int32?
    /// Where the root filesystem's files can be read from this process when `rootfs` is only a
    /// mount point (a running container's `/proc/PID/root`); nil: `rootfs`, or `rootfsMount`.
    public var rootfsView: String?
    public var command: [String]
    public var env: [String] = []
    public var workingDirectory: String = "/"
    /// "UID[:GID]" or "NAME[:GROUP]" from the rootfs' /etc/passwd and /etc/group; nil is root.
    public var user: String?
    /// Defaults to the first 12 characters of the container ID, as Docker does.
    public var hostname: String?
    public var network: Network = .none
    public var readOnlyRootfs = false
    public var limits = CgroupLimits()
    public var capAdd: [String] = []
    public var capDrop: [String] = []
    public var seccomp: Seccomp = .default
    /// How long a stop waits after SIGTERM before SIGKILL.
    public var stopTimeout: Duration = .seconds(10)
    /// Descriptors for the container's stdin, stdout and stderr; nil inherits the caller's.
    /// The agent points stdout and stderr at files in the task's sandbox.
    public var stdio: [Int32?] = [nil, nil, nil]
    /// Host directories bind-mounted into the container, in order (the agent's task sandbox).
    public var bindMounts: [BindMount] = []

    /// Where this process reads the root filesystem's files (the image's /etc/passwd).
    public var filesRoot: String {
        if let rootfsView { return rootfsView }
        if let rootfsMount { return "/proc/self/fd/\(rootfsMount)" }
        return rootfs
    }

    public init(rootfs: String, command: [String]) {
        self.rootfs = rootfs
        self.command = command
    }
}

/// A host directory seen at `destination` inside the container.
public struct BindMount: Sendable, Equatable {
    public var source: String
    /// An absolute path inside the container; created when missing.
    public var destination: String
    public var readOnly: Bool

    public init(source: String, destination: String, readOnly: Bool = false) {
        self.source = source
        self.destination = destination
        self.readOnly = readOnly
    }
}
