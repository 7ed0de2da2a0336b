import BerthCore
import Foundation

/// Several hosts on this machine: one network namespace per host, joined to the host namespace
/// by a veth pair, each pair its own /30 inside 10.213.0.0/16. Following ../shared/DESIGN.md, an
/// `unreachable` route over the whole test subnet is in place first, so that when a link is cut
/// packets to that host fail here instead of following the default route off the machine.
/// `remove()` deletes the namespaces (their veths go with them) and the route it added; call it
/// in a `defer`, so it also runs when the test fails.
public final class TestNetwork: @unchecked Sendable {
    public struct Host: Sendable {
        /// The network namespace, for `ip netns exec`.
        public let namespace: String
        /// The veth end in the host namespace: down cuts the link.
        public let hostInterface: String
        /// The address of the host namespace's end: what processes in the namespace connect to.
        public let gateway: String
        /// The namespace's own address.
        public let address: String
    }

    public static let subnet = "10.213.0.0/16"
    public private(set) var hosts: [Host] = []
    private var holdsRoute = false

    /// Networks of this process that rely on the unreachable route; the first adds it (unless it
    /// is already there), the last removes what it added. Suites run in parallel.
    private static let routeLock = NSLock()
    nonisolated(unsafe) private static var routeUsers = 0
    nonisolated(unsafe) private static var routeAdded = false

    private static func holdRoute() throws {
        try routeLock.withLock {
            if routeUsers == 0 {
                let routes = try ip(["route", "show", subnet]).stdout
                if !routes.contains("unreachable") {
                    try ip(["route", "add", "unreachable", subnet])
                    routeAdded = true
                }
            }
            routeUsers += 1
        }
    }

    private static func releaseRoute() {
        routeLock.withLock {
            routeUsers -= 1
            if routeUsers == 0, routeAdded {
                _ = try? ip(["route", "delete", "unreachable", subnet])
                routeAdded = false
            }
        }
    }

    /// Creates `count` hosts. Each gets a random /30, so networks of tests running at the same
    /// time do not collide.
    public init(hosts count: Int) throws {
        do {
            try Self.holdRoute()
            holdsRoute = true
            let tag = String(UInt32.random(in: 0..<(1 << 20)), radix: 36)
            for index in 0..<count {
                let block = Int.random(in: 1..<16_384)
                let base = block * 4
                let gateway = "10.213.\(base / 256).\(base % 256 + 1)"
                let address = "10.213.\(base / 256).\(base % 256 + 2)"
                let host = Host(namespace: "berth-\(tag)-\(index)", hostInterface: "bh\(tag)\(index)", gateway: gateway, address: address)
                let inside = "bn\(tag)\(index)"
                try Self.ip(["netns", "add", host.namespace])
                hosts.append(host)
                try Self.ip(["link", "add", host.hostInterface, "type", "veth", "peer", "name", inside])
                try Self.ip(["link", "set", inside, "netns", host.namespace])
                try Self.ip(["addr", "add", "\(gateway)/30", "dev", host.hostInterface])
                try Self.ip(["link", "set", host.hostInterface, "up"])
                try Self.ip(["-n", host.namespace, "addr", "add", "\(address)/30", "dev", inside])
                try Self.ip(["-n", host.namespace, "link", "set", inside, "up"])
                try Self.ip(["-n", host.namespace, "link", "set", "lo", "up"])
                try Self.ip(["-n", host.namespace, "route", "add", "default", "via", gateway])
            }
        } catch {
            remove()
            throw error
        }
    }

    /// Cuts a host off: its veth end in the host namespace goes down.
    public func cut(_ host: Host) throws {
        try Self.ip(["link", "set", host.hostInterface, "down"])
    }

    /// Restores a cut link.
    public func restore(_ host: Host) throws {
        try Self.ip(["link", "set", host.hostInterface, "up"])
    }

    /// The command line that runs `arguments` inside the host's network namespace. nsenter, not
    /// `ip netns exec`: that also remounts /sys for the namespace, which hides the cgroup
    /// hierarchies an agent needs.
    public func command(in host: Host, _ arguments: [String]) -> [String] {
        ["/usr/bin/nsenter", "--net=/run/netns/\(host.namespace)", "--"] + arguments
    }

    public func remove() {
        for host in hosts {
            _ = try? Self.ip(["netns", "delete", host.namespace])
            _ = try? Self.ip(["link", "delete", host.hostInterface])
        }
        hosts = []
        if holdsRoute {
            Self.releaseRoute()
            holdsRoute = false
        }
    }

    @discardableResult
    static func ip(_ arguments: [String]) throws -> CommandResult {
        let result = try SpawnedCommand.run("/usr/sbin/ip", arguments)
        guard result.status == 0 else {
            throw FixtureError("ip \(arguments.joined(separator: " ")) failed: \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return result
    }
}
