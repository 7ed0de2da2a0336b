import BerthCore
@testable import BerthLinux
import Testing

@Suite("Capabilities through libcap")
struct CapabilityTests {
    @Test(arguments: ["CAP_NET_ADMIN", "NET_ADMIN", "net_admin", "cap_net_admin"])
    func namesResolveWithOrWithoutPrefix(name: String) throws {
        #expect(try CapabilitySet.value(of: name) == 12)
    }

    @Test func dockerDefaultIsTheFourteen() throws {
        let set = try CapabilitySet.dockerDefault()
        #expect(set.values.count == 14)
        // The CapEff a Docker container shows in /proc/self/status.
        #expect(set.mask == 0xa80425fb)
        #expect(set.names.contains("CAP_NET_BIND_SERVICE"))
        #expect(!set.contains("CAP_SYS_ADMIN"))
    }

    @Test func unknownNameSaysWhatToUse() {
        #expect {
            try CapabilitySet.value(of: "CAP_TELEPORT")
        } throws: { error in
            "\(error)".contains("unknown capability \"CAP_TELEPORT\"") && "\(error)".contains("CAP_NET_ADMIN")
        }
    }

    @Test func allCoversEveryKernelCapability() {
        #expect(CapabilitySet.all.values.count == Int(CapabilitySet.lastCapability) + 1)
    }

    static let statuses: [(Int32, Int32)] = [(0, 0), (0x100, 1), (0x9, 128 + 9), (0x0f, 128 + 15)]

    @Test(arguments: statuses)
    func exitStatusDecoding(raw: Int32, code: Int32) {
        #expect(ExitStatus(waitStatus: raw).code == code)
    }
}
