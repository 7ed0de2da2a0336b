// Pure parsers of the kernel's cgroup text formats, table-tested with real samples.
import BerthCore
import FoundationEssentials

/// /proc/self/cgroup: "0::/path" for v2, "N:ctrl[,ctrl]:/path" for each v1 hierarchy.
public struct ProcSelfCgroup: Sendable, Equatable {
    /// The path in the v2 hierarchy (the "0::" line), nil when there is none.
    public var unifiedPath: String?
    /// v1 controller (or "name=systemd") → path inside that controller's hierarchy.
    public var controllerPaths: [String: String]

    public init(unifiedPath: String? = nil, controllerPaths: [String: String] = [:]) {
        self.unifiedPath = unifiedPath
        self.controllerPaths = controllerPaths
    }

    public init(parsing text: String) {
        self.init()
        for line in text.split(separator: "\n") {
            // The path may itself contain ':', so split only twice.
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            var path = String(fields[2])
            if path.hasSuffix(" (deleted)") { path = String(path.dropLast(" (deleted)".count)) }
            if fields[0] == "0" && fields[1].isEmpty {
                unifiedPath = path
            } else {
                for controller in fields[1].split(separator: ",") { controllerPaths[String(controller)] = path }
            }
        }
    }
}

/// One cgroup mount from /proc/self/mountinfo.
public struct CgroupMount: Sendable, Equatable {
    public var mountPoint: String
    /// Which directory of the hierarchy appears at the mount point ("/" unless bind-mounted or namespaced).
    public var root: String
    public var version: CgroupVersion
    /// v1: the controllers bound to this hierarchy (from the super options); v2: empty.
    public var controllers: [String]

    public init(mountPoint: String, root: String = "/", version: CgroupVersion, controllers: [String] = []) {
        self.mountPoint = mountPoint
        self.root = root
        self.version = version
        self.controllers = controllers
    }

    /// The directory under this mount for a path of the hierarchy; nil when the path is not visible here.
    public func directory(for path: String) -> String? {
        let rootParts = root.split(separator: "/")
        let pathParts = path.split(separator: "/")
        guard pathParts.starts(with: rootParts), !pathParts.contains("..") else { return nil }
        return joinCgroupPath(mountPoint, PathText.join(pathParts.dropFirst(rootParts.count)))
    }
}

public enum MountInfo {
    /// Super options of a v1 cgroup mount that are flags, not controllers.
    static let nonControllerOptions: Set<String> = [
        "rw", "ro", "clone_children", "noprefix", "xattr", "cpuset_v2_mode", "favordynmods", "nofavordynmods",
    ]

    /// The cgroup and cgroup2 mounts, in mount order.
    /// Line format: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS
    public static func cgroupMounts(_ text: String) -> [CgroupMount] {
        cgroupLines(text).compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count >= 7, let dash = fields.dropFirst(6).firstIndex(of: "-"), dash + 1 < fields.count else { return nil }
            let fstype = fields[dash + 1]
            let root = unescape(fields[3])
            let mountPoint = unescape(fields[4])
            switch fstype {
            case "cgroup2":
                return CgroupMount(mountPoint: mountPoint, root: root, version: .v2)
            case "cgroup":
                let options = dash + 3 < fields.count ? fields[dash + 3].split(separator: ",").map(String.init) : []
                let controllers = options.filter { !nonControllerOptions.contains($0) && !$0.contains("=") }
                return CgroupMount(mountPoint: mountPoint, root: root, version: .v1, controllers: controllers)
            default:
                return nil
            }
        }
    }

    /// The lines that can be cgroup mounts, found on bytes: on an agent's host mountinfo holds a
    /// long overlay line per running container, and every container start reads it, so
    /// splitting all of it into Characters would cost O(containers) each time.
    static func cgroupLines(_ text: String) -> [String] {
        let bytes = Array(text.utf8)
        let marker = Array(" - cgroup".utf8)
        var lines: [String] = []
        var lineStart = 0
        var matched = false
        for index in bytes.indices {
            if bytes[index] == UInt8(ascii: "\n") {
                if matched { lines.append(String(decoding: bytes[lineStart..<index], as: UTF8.self)) }
                lineStart = index + 1
                matched = false
            } else if !matched, bytes[index] == marker[0], index + marker.count <= bytes.count,
                      bytes[index..<(index + marker.count)].elementsEqual(marker) {
                matched = true
            }
        }
        if matched { lines.append(String(decoding: bytes[lineStart...], as: UTF8.self)) }
        return lines
    }

    /// mountinfo writes space, tab, newline and backslash in paths as \040, \011, \012, \134.
    static func unescape(_ field: Substring) -> String {
        guard field.contains("\\") else { return String(field) }
        var bytes: [UInt8] = []
        let utf8 = Array(field.utf8)
        var index = 0
        while index < utf8.count {
            if utf8[index] == UInt8(ascii: "\\"), index + 3 < utf8.count,
               let value = UInt8(String(decoding: utf8[(index + 1)...(index + 3)], as: UTF8.self), radix: 8) {
                bytes.append(value)
                index += 4
            } else {
                bytes.append(utf8[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The value formats of cgroup control files.
enum CgroupValues {
    /// "key value" lines (cpu.stat, memory.events, cpuacct.stat, memory.oom_control).
    static func keyed(_ text: String?) -> [String: UInt64] {
        var values: [String: UInt64] = [:]
        for line in (text ?? "").split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = UInt64(parts[1]) { values[String(parts[0])] = value }
        }
        return values
    }

    /// A single number; nil for "max", empty or absent.
    static func number(_ text: String?) -> UInt64? {
        text.flatMap { UInt64($0.trimmingWhitespace) }
    }

    /// The controllers listed in cgroup.controllers or cgroup.subtree_control.
    static func names(_ text: String) -> Set<String> {
        Set(text.split(whereSeparator: \.isWhitespace).map(String.init))
    }
}
