import BerthAgent
@testable import berth_full
import BerthCore
import BerthImage
import Testing

/// The options `berth agent` and `berth up` share, as they reach the agent's configuration.
@Suite struct AgentOptionsTests {
    func configuration(_ arguments: [String]) throws -> AgentConfiguration {
        var configuration = AgentConfiguration(coordinator: "", home: BerthHome(root: "/var/lib/berth"), hostname: "", resources: Resources())
        try AgentHousekeepingOptions.parse(arguments).apply(to: &configuration)
        return configuration
    }

    @Test func theRuntimeDirectoryDefaultsToOnePerHomeUnderRun() throws {
        #expect(try configuration([]).runtimeDirectory == "/run/berth/agent/var%2Flib%2Fberth")
        #expect(AgentConfiguration.defaultRuntimeDirectory(home: "/") == "/run/berth/agent/root")
        #expect(try configuration(["--runtime-dir", "/dev/shm/agent"]).runtimeDirectory == "/dev/shm/agent")
    }

    @Test func aRelativeRuntimeDirectoryIsRefused() throws {
        let error = #expect(throws: (any Error).self) { try configuration(["--runtime-dir", "run/agent"]) }
        #expect("\(error.map { "\($0)" } ?? "")".contains("give an absolute path"), "\(String(describing: error))")
    }
}
