/// Mesos' MasterInfo, as SUBSCRIBED carries it: which coordinator a framework is talking to.
public struct MasterInfo: Hashable, Sendable, Codable {
    public var id: String
    /// IPv4 address as Mesos packs it: the four bytes in network order read as a little-endian
    /// uint32 (127.0.0.1 is 16777343). Deprecated in Mesos in favour of `address`, still sent.
    public var ip: UInt32
    public var port: Int
    public var hostname: String?
    public var version: String?
    public var address: Address?

    public struct Address: Hashable, Sendable, Codable {
        public var hostname: String?
        public var ip: String?
        public var port: Int

        public init(hostname: String?, ip: String?, port: Int) {
            self.hostname = hostname
            self.ip = ip
            self.port = port
        }
    }

    public init(id: String, address: Address, version: String) {
        self.id = id
        self.ip = Self.packed(address.ip ?? "") ?? 0
        self.port = address.port
        self.hostname = address.hostname
        self.version = version
        self.address = address
    }

    /// "a.b.c.d" packed as Mesos' `ip` field; nil for anything that is not dotted IPv4.
    public static func packed(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).compactMap { UInt8($0) }
        guard parts.count == 4 else { return nil }
        return parts.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
    }
}
