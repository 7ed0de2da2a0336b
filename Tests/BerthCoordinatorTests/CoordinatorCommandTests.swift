import AsyncHTTPClient
import BerthTestSupport
import Foundation
import NIOCore
import Testing

/// `berth coordinator` as a user runs it: listens, answers, stops on SIGTERM with status 0.
@Suite struct CoordinatorCommandTests {
    @Test func startsAnswersAndStopsOnSIGTERM() async throws {
        let child = try SpawnedCommand([TestHost.berthBinary, "coordinator", "--listen", "127.0.0.1:0", "--allocation-interval", "200ms",
                                        "--home", NSTemporaryDirectory() + "berth-coordinator-test", "--log-level", "error"])
        child.waitForOutput("listening on http://")
        // The port is on the line "berth coordinator listening on http://127.0.0.1:PORT".
        let port = try Self.port(from: child)
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/version"), timeout: .seconds(10))
        #expect(response.status == .ok)
        #expect(String(buffer: try await response.body.collect(upTo: 1 << 16)).contains("\"version\":\"1.11.0\""))
        kill(child.pid, SIGTERM)
        let result = try child.finish()
        #expect(result.status == 0, "\(result)")
    }

    /// A port another process listens on: the coordinator exits at once, saying so and what to do
    /// (it used to wait forever, silent).
    @Test func aPortInUseIsRefusedWithWhatToDo() async throws {
        let first = try SpawnedCommand([TestHost.berthBinary, "coordinator", "--listen", "127.0.0.1:0",
                                        "--home", NSTemporaryDirectory() + "berth-coordinator-test-busy-1", "--log-level", "error"])
        first.waitForOutput("listening on http://")
        let port = try Self.port(from: first)
        let second = try SpawnedCommand([TestHost.berthBinary, "coordinator", "--listen", "127.0.0.1:\(port)",
                                         "--home", NSTemporaryDirectory() + "berth-coordinator-test-busy-2", "--log-level", "error"])
        let refused = try second.finish(killingAfter: 20)
        #expect(refused.status != 0, "\(refused)")
        #expect(refused.stderr.contains("listen on 127.0.0.1:\(port): EADDRINUSE"), "\(refused)")
        #expect(refused.stderr.contains("give --listen another port"), "\(refused)")
        kill(first.pid, SIGTERM)
        #expect(try first.finish().status == 0)
    }

    static func port(from child: SpawnedCommand) throws -> Int {
        guard let line = child.outputSoFar.split(separator: "\n").first(where: { $0.contains("listening on") }),
              let port = line.split(separator: ":").last.flatMap({ Int($0) }) else {
            throw FixtureFailure("no port in the coordinator's output: \(child.outputSoFar)")
        }
        return port
    }
}
