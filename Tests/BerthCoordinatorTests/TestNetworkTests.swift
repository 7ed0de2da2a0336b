import BerthTestSupport
import Foundation
import Testing

/// The several-hosts fixture itself: a namespace reaches the coordinator through its veth, a cut
/// link stops it (and the route says unreachable, so nothing leaves the machine), restoring it
/// brings it back, and removal leaves nothing behind.
@Suite(.serialized, .requiresRoot) struct TestNetworkTests {
    /// GET /health from inside the namespace (busybox nc: its static wget crashes resolving names).
    static func reaches(_ network: TestNetwork, _ host: TestNetwork.Host, port: Int) throws -> Bool {
        let command = network.command(in: host, ["/bin/busybox", "nc", "-w", "2", host.gateway, "\(port)"])
        let result = try SpawnedCommand.run(command[0], Array(command.dropFirst()), stdin: "GET /health HTTP/1.0\r\n\r\n")
        return result.stdout.hasPrefix("HTTP/1.1 200")
    }

    @Test func namespacesReachTheHostUntilTheirLinkIsCut() async throws {
        let coordinator = try await TestCoordinator.start(TestCoordinator.configuration { $0.host = "0.0.0.0" })
        let network = try TestNetwork(hosts: 2)
        defer { network.remove() }
        let (first, second) = (network.hosts[0], network.hosts[1])
        #expect(try Self.reaches(network, first, port: coordinator.port))
        #expect(try Self.reaches(network, second, port: coordinator.port))

        try network.cut(first)
        #expect(try !Self.reaches(network, first, port: coordinator.port))
        #expect(try Self.reaches(network, second, port: coordinator.port))
        let route = try SpawnedCommand.run("/usr/sbin/ip", ["route", "get", first.address])
        #expect(route.status != 0 || route.stdout.contains("unreachable"), "\(route)")

        try network.restore(first)
        #expect(try Self.reaches(network, first, port: coordinator.port))
        try await coordinator.stop()

        let namespaces = network.hosts.map(\.namespace)
        network.remove()
        let left = try SpawnedCommand.run("/usr/sbin/ip", ["netns", "list"]).stdout
        #expect(namespaces.allSatisfy { !left.contains($0) }, "\(left)")
    }
}
