/// Tar names as lists of path components, relative to the image root.
enum EntryPath {
    enum Problem: Error {
        /// A ".." would go above the root.
        case climbsOut
        /// A NUL byte: the kernel would see a shorter name than the archive shows.
        case containsNUL
    }

    /// Cleans a name the way the OCI spec asks: a leading "/" is dropped (absolute names are
    /// taken relative to the root), empty and "." components are dropped, and ".." removes the
    /// component before it. A ".." with nothing left to remove climbs out of the root.
    static func components(of name: [UInt8]) throws(Problem) -> [[UInt8]] {
        var result: [[UInt8]] = []
        var start = 0
        var index = 0
        while index <= name.count {
            if index == name.count || name[index] == slash {
                let length = index - start
                if length == 2 && name[start] == dot && name[start + 1] == dot {
                    guard !result.isEmpty else { throw .climbsOut }
                    result.removeLast()
                } else if length > 0 && !(length == 1 && name[start] == dot) {
                    result.append(Array(name[start..<index]))
                }
                start = index + 1
            } else if name[index] == 0 {
                throw .containsNUL
            }
            index += 1
        }
        return result
    }

    /// A symlink target split into components, "." and empty ones dropped but ".." kept: it is
    /// resolved against the directory the link is in, which only the walk knows.
    static func linkComponents(of target: [UInt8]) -> [[UInt8]] {
        target.split(separator: slash).filter { !($0.count == 1 && $0.first == dot) }.map(Array.init)
    }

    static func join(_ components: some Collection<[UInt8]>) -> [UInt8] {
        var result: [UInt8] = []
        for component in components {
            if !result.isEmpty { result.append(slash) }
            result.append(contentsOf: component)
        }
        return result
    }

    static let slash = UInt8(ascii: "/")
    static let dot = UInt8(ascii: ".")
}
