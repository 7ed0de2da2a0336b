/// One member of a tar archive, with pax and GNU extension headers already folded in.
/// Names are bytes: tar names need not be UTF-8, and they go back to the kernel as they came.
struct TarEntry {
    enum Kind: Equatable, Sendable {
        case file
        case hardlink
        case symlink
        case characterDevice
        case blockDevice
        case directory
        case fifo
    }

    var kind: Kind
    var name: [UInt8]
    /// Symlink target or hardlink target name.
    var linkName: [UInt8]
    /// Permission bits with setuid, setgid and sticky (the low 12 bits of the header's mode).
    var mode: UInt32
    var uid: Int
    var gid: Int
    /// Bytes of content that follow the header (files only; 0 for the others).
    var size: Int64
    var modificationTime: TarTime
    var accessTime: TarTime?
    var deviceMajor: UInt32
    var deviceMinor: UInt32
    var userName: String?
    var groupName: String?
    /// Extended attributes from SCHILY.xattr.* and LIBARCHIVE.xattr.* pax records.
    var xattrs: [(name: String, value: [UInt8])]

    /// The name as text for messages (invalid UTF-8 shows as U+FFFD).
    var displayName: String { String(decoding: name, as: UTF8.self) }
}

/// Seconds and nanoseconds since the epoch; pax mtimes carry fractions of a second.
struct TarTime: Equatable, Sendable {
    var seconds: Int64
    var nanoseconds: Int
}
