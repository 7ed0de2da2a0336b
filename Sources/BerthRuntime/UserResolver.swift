import BerthCore
import FoundationEssentials
import Glibc

/// The user a container process runs as, resolved against the container's own /etc/passwd and
/// /etc/group (never the host's), as Docker does for `--user`.
public struct ResolvedUser: Sendable, Equatable {
    public var uid: UInt32
    public var gid: UInt32
    public var additionalGroups: [UInt32]
    public var home: String

    public static let root = ResolvedUser(uid: 0, gid: 0, additionalGroups: [], home: "/root")
}

public enum UserResolver {
    /// `spec` is "UID", "UID:GID", "NAME", "NAME:GROUP" (names looked up in the rootfs).
    public static func resolve(_ spec: String?, rootfs: String) throws -> ResolvedUser {
        guard let spec, !spec.isEmpty else {
            return ResolvedUser(uid: 0, gid: 0, additionalGroups: groupsOf(user: "root", gid: 0, rootfs: rootfs), home: "/root")
        }
        let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let passwd = entries(file: "/etc/passwd", rootfs: rootfs)
        let userPart = parts[0]
        var uid: UInt32
        var gid: UInt32 = 0
        var home = "/"
        var name: String?
        if let number = UInt32(userPart) {
            uid = number
            if let entry = passwd.first(where: { $0.count > 3 && UInt32($0[2]) == number }) {
                name = entry[0]
                gid = UInt32(entry[3]) ?? 0
                home = entry.count > 5 ? entry[5] : "/"
            }
        } else if let entry = passwd.first(where: { $0.first == userPart && $0.count > 3 }) {
            guard let u = UInt32(entry[2]), let g = UInt32(entry[3]) else {
                throw BerthError(.invalidArgument, "user \"\(userPart)\" has a malformed entry in the container's /etc/passwd")
            }
            uid = u
            gid = g
            name = userPart
            home = entry.count > 5 ? entry[5] : "/"
        } else {
            throw BerthError(.notFound, "user \"\(userPart)\" not found in the container's /etc/passwd; give a numeric UID[:GID] or a user the image defines")
        }
        if parts.count == 2 {
            let groupPart = parts[1]
            if let number = UInt32(groupPart) {
                gid = number
            } else if let entry = entries(file: "/etc/group", rootfs: rootfs).first(where: { $0.first == groupPart && $0.count > 2 }),
                      let number = UInt32(entry[2]) {
                gid = number
            } else {
                throw BerthError(.notFound, "group \"\(groupPart)\" not found in the container's /etc/group; give a numeric GID or a group the image defines")
            }
        }
        let groups = name.map { groupsOf(user: $0, gid: gid, rootfs: rootfs) } ?? []
        return ResolvedUser(uid: uid, gid: gid, additionalGroups: groups, home: uid == 0 && home == "/" ? "/root" : home)
    }

    /// Supplementary groups listing `user` as a member, as initgroups would find them.
    static func groupsOf(user: String, gid: UInt32, rootfs: String) -> [UInt32] {
        var result: [UInt32] = []
        for entry in entries(file: "/etc/group", rootfs: rootfs) where entry.count > 3 {
            let members = entry[3].split(separator: ",").map(String.init)
            if members.contains(user), let number = UInt32(entry[2]), number != gid, !result.contains(number) {
                result.append(number)
            }
        }
        return result
    }

    /// Colon-separated lines of a file inside the rootfs. A symlink anywhere on the way is not
    /// followed: it could point at a host file.
    static func entries(file: String, rootfs: String) -> [[String]] {
        var path = rootfs
        for component in file.split(separator: "/") {
            path.append("/")
            path.append(String(component))
            // lstat, not FileManager's attributes: those also look up the owner's name, which
            // reads the host's passwd and group databases (NSS, maybe LDAP) for nothing.
            var info = stat()
            guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) != S_IFLNK else { return [] }
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let trimmed = line.trimmingWhitespace
            if trimmed.isEmpty || trimmed.hasPrefix("#") { return nil }
            return trimmed.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        }
    }
}
