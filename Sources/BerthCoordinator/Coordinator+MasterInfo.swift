import BerthCore
import BerthProtocol
import Foundation

extension Coordinator {
    /// Called once the HTTP server listens: the address SUBSCRIBED will advertise. A wildcard
    /// listen address is replaced by this host's first non-loopback IPv4 address.
    func listening(host: String, port: Int) {
        var name = [CChar](repeating: 0, count: 256)
        let hostname = gethostname(&name, name.count) == 0
            ? String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : nil
        let wildcard = ["", "0.0.0.0", "::", "[::]"].contains(host)
        let ip = wildcard ? Host.current().addresses.first { MasterInfo.packed($0) != nil && !$0.hasPrefix("127.") } ?? "127.0.0.1" : host
        address = MasterInfo.Address(hostname: hostname, ip: ip, port: port)
    }

    var masterInfo: MasterInfo {
        MasterInfo(id: instanceID, address: address ?? MasterInfo.Address(hostname: nil, ip: configuration.host, port: configuration.port),
                   version: MesosAPIVersion.current)
    }

    /// SUBSCRIBED with master_info, as Mesos sends it.
    func subscribedEvent(_ framework: FrameworkID) -> Event {
        var event = Event.subscribed(framework, heartbeatSeconds: configuration.frameworkHeartbeatInterval.seconds)
        event.subscribed?.masterInfo = masterInfo
        return event
    }
}
