/// FNV-1a, 64 bits: a fast checksum that notices torn or damaged writes, and a file name from a
/// longer key. Not a defence against anyone choosing the input: where that matters, the whole
/// input is compared too.
public enum FNV1a {
    /// Inlinable, so each caller gets it specialized for its collection: generic, byte by byte
    /// through witness tables, it would be many times slower.
    @inlinable
    public static func hash64(_ bytes: some Collection<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return hash
    }
}
