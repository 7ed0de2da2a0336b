import BerthCore
import Foundation
import Testing

@Suite struct RandomUUIDTests {
    @Test func versionAndVariantBitsAreSet() {
        for _ in 0..<100 {
            let bytes = RandomUUID().bytes
            #expect(bytes.count == 16)
            #expect(bytes[6] >> 4 == 4)
            #expect(bytes[8] >> 6 == 0b10)
        }
    }

    @Test func textFormsAgreeWithFoundation() throws {
        let uuid = RandomUUID(high: 0x0123_4567_89AB_4DEF, low: 0x8123_4567_89AB_CDEF)
        #expect(uuid.string == "01234567-89ab-4def-8123-456789abcdef")
        for _ in 0..<100 {
            let random = RandomUUID()
            let parsed = try #require(UUID(uuidString: random.string))
            #expect(parsed.uuidString.lowercased() == random.string)
            #expect(withUnsafeBytes(of: parsed.uuid) { Array($0) } == random.bytes)
            #expect(Data(random.bytes).base64EncodedString() == random.base64)
        }
    }

    @Test func idsDoNotRepeat() {
        let ids = Set((0..<10_000).map { _ in RandomUUID() })
        #expect(ids.count == 10_000)
    }
}
