import BerthCore
import Foundation

/// An OCI bundle for `runc run` that matches what `berth run --rootfs R --memory M -- CMD` does,
/// as far as the runtime spec allows: same rootfs (writable, as berth's default), same command,
/// same memory limit with no swap beyond it, and the namespaces berth creates (runc's template
/// lacks the cgroup namespace). runc's template has no seccomp filter while berth loads Docker's
/// default, so berth does more work here; `--berth-arg=--seccomp --berth-arg=unconfined` evens it.
enum RuncBundle {
    /// Writes `config.json` into `directory`, starting from `runc spec`'s template so the rest
    /// (mounts, masked paths, capabilities) is runc's own default.
    static func create(in directory: String, runc: String, rootfs: String, command: [String], memoryBytes: Int64) throws {
        try Tool.capture([runc, "spec", "--bundle", directory])
        let path = directory + "/config.json"
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard var config = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw BerthError(.invalidState, "\(path) from `runc spec` is not a JSON object")
        }
        let edited = try edit(&config, rootfs: rootfs, command: command, memoryBytes: memoryBytes)
        guard edited else {
            throw BerthError(.invalidState, "\(path) from `runc spec` lacks process or linux: a runc this old is not supported")
        }
        let output = try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
        try output.write(to: URL(fileURLWithPath: path))
    }

    /// False when the template is missing a section this needs.
    static func edit(_ config: inout [String: Any], rootfs: String, command: [String], memoryBytes: Int64) throws -> Bool {
        guard var process = config["process"] as? [String: Any], var linux = config["linux"] as? [String: Any] else {
            return false
        }
        config["root"] = ["path": rootfs, "readonly": false]
        process["args"] = command
        process["terminal"] = false
        config["process"] = process

        var resources = linux["resources"] as? [String: Any] ?? [:]
        // On cgroup v1 `swap` is memory+swap, so equal to the limit means no swap, as berth sets it.
        resources["memory"] = ["limit": memoryBytes, "swap": memoryBytes]
        linux["resources"] = resources
        var namespaces = linux["namespaces"] as? [[String: Any]] ?? []
        if !namespaces.contains(where: { $0["type"] as? String == "cgroup" }) {
            namespaces.append(["type": "cgroup"])
        }
        linux["namespaces"] = namespaces
        config["linux"] = linux
        return true
    }
}
