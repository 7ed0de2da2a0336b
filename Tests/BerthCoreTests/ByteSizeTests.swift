import BerthCore
import Testing

@Suite("Byte sizes")
struct ByteSizeTests {
    static let parsed: [(String, Int64)] = [
        ("1048576", 1 << 20), ("512k", 512 << 10), ("256M", 256 << 20), ("256m", 256 << 20),
        ("256MB", 256 << 20), ("256MiB", 256 << 20), ("1g", 1 << 30), ("2T", 2 << 40), ("0", 0), ("64b", 64),
    ]

    @Test(arguments: parsed)
    func parses(text: String, bytes: Int64) throws {
        #expect(try ByteSize.parse(text) == bytes)
    }

    @Test(arguments: ["", "lots", "12x", "-5m", "1.5g", "m", "99999999999999999999t"])
    func refusesWithAMessageNamingTheInput(text: String) {
        do {
            _ = try ByteSize.parse(text)
            Issue.record("\(text) parsed")
        } catch let error as BerthError {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("\"\(text)\""))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    static let formatted: [(Int64, String)] = [(32 << 20, "32 MiB"), (1536 << 20, "1.5 GiB"), (512, "512 B"), (1 << 10, "1 KiB")]

    @Test(arguments: formatted)
    func formats(bytes: Int64, text: String) {
        #expect(ByteSize.format(bytes) == text)
    }
}

@Suite("errno names")
struct ErrnoTests {
    @Test func namesAndMessages() {
        #expect(Errno.name(22) == "EINVAL")
        #expect(Errno.name(9999) == "errno 9999")
        #expect(Errno.value(named: "eperm") == 1)
        #expect(SystemError("pivot_root into /x", errno: 22).description == "pivot_root into /x: EINVAL (Invalid argument)")
    }
}
