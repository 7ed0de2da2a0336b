import Foundation

/// What a container may leave on the host: cgroup directories, mounts, processes, state files.
public enum Leftovers {
    public static func find(rootfs: String) -> [String] {
        var found: [String] = []
        let fm = FileManager.default
        if let walker = fm.enumerator(atPath: "/sys/fs/cgroup") {
            while let entry = walker.nextObject() as? String {
                let name = (entry as NSString).lastPathComponent
                if walker.level > 6 { walker.skipDescendants(); continue }
                // Containers' cgroups only ("berth-" and a 32-digit hex ID), not other tests' ones.
                if name.hasPrefix("berth-"), name.count == 38, name.dropFirst(6).allSatisfy(\.isHexDigit),
                   walker.fileAttributes?[.type] as? FileAttributeType == .typeDirectory {
                    found.append("cgroup /sys/fs/cgroup/\(entry)")
                }
            }
        }
        if let mounts = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) {
            for line in mounts.split(separator: "\n") where line.contains(rootfs + "/") || line.split(separator: " ").dropFirst(4).first == Substring(rootfs) {
                found.append("mount \(line)")
            }
        }
        if let pids = try? fm.contentsOfDirectory(atPath: "/proc") {
            for pid in pids where Int(pid) != nil {
                if let root = try? fm.destinationOfSymbolicLink(atPath: "/proc/\(pid)/root"), root == rootfs {
                    found.append("process \(pid) with root \(root)")
                }
            }
        }
        let state = ProcessInfo.processInfo.environment["BERTH_RUN_DIR"] ?? "/run/berth/containers"
        if let entries = try? fm.contentsOfDirectory(atPath: state), !entries.isEmpty {
            found.append("state directories under \(state): \(entries.joined(separator: ", "))")
        }
        return found
    }
}
