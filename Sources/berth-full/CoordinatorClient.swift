import ArgumentParser
import AsyncHTTPClient
import BerthCoordinator
import BerthProtocol
import BerthRunCLI
import Foundation
import NIOCore

/// `--coordinator` and `--json`, shared by the commands that read a coordinator's `GET /state`.
struct CoordinatorOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The coordinator to ask (default: $BERTH_COORDINATOR, else localhost:5050).", valueName: "host:port"))
    var coordinator: String?

    @Flag(help: "Print JSON (the coordinator's, in Mesos' field names) instead of a table.")
    var json = false

    var baseURL: String { CoordinatorAddress(coordinator).url }

    /// `GET /state`, decoded, and its raw bytes (see `CoordinatorAddress.state()`).
    func state() throws -> (document: StateDocument, raw: Data) {
        try CoordinatorAddress(coordinator).state()
    }

    /// `value` as indented JSON on stdout, for --json.
    func printJSON(_ value: some Encodable) throws {
        let encoder = MesosJSON.encoder()
        encoder.outputFormatting.insert(.prettyPrinted)
        FileHandle.standardOutput.write(try encoder.encode(value) + Data("\n".utf8))
    }

    static func oneLine(_ error: any Error) -> String {
        String(describing: error).split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}

extension CoordinatorAddress {
    /// `GET /state`, decoded, and its raw bytes. Any failure to get it is said in one line on
    /// stderr and ends the command with status 1.
    func state() throws -> (document: StateDocument, raw: Data) {
        let url = self.url + "/state"
        let raw: Data
        do {
            raw = try Blocking.run {
                // A client of its own that does not retry a refused connection: the shared one
                // retries until the deadline, and a stopped coordinator should fail at once.
                var configuration = HTTPClient.Configuration()
                configuration.connectionPool.retryConnectionEstablishment = false
                configuration.timeout.connect = .seconds(5)
                let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
                let result: Result<Data, any Error>
                do {
                    let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
                    let body = try await response.body.collect(upTo: 256 << 20)
                    guard response.status == .ok else {
                        throw CoordinatorUnavailable("\(url) answered \(response.status.code) \(response.status.reasonPhrase): \(String(buffer: body).trimmingCharacters(in: .whitespacesAndNewlines))")
                    }
                    result = .success(Data(body.readableBytesView))
                } catch {
                    result = .failure(error)
                }
                try await client.shutdown()
                return try result.get()
            }
        } catch let error as CoordinatorUnavailable {
            Terminal.error(error.message)
            throw ExitStatusError(code: 1)
        } catch {
            // NIO's description of a refused connection is long; the cause is what matters.
            let reason = CoordinatorOptions.oneLine(error).contains("Connection refused") ? "connection refused" : CoordinatorOptions.oneLine(error)
            Terminal.error("cannot reach the coordinator at \(self.url): \(reason); start one with `berth coordinator`, or point --coordinator (or BERTH_COORDINATOR) at it")
            throw ExitStatusError(code: 1)
        }
        do {
            return (try MesosJSON.decode(StateDocument.self, from: raw, what: "GET /state answer"), raw)
        } catch {
            Terminal.error("\(url) did not answer with a coordinator's state: \(CoordinatorOptions.oneLine(error))")
            throw ExitStatusError(code: 1)
        }
    }

}

private struct CoordinatorUnavailable: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// Figures from Mesos' flat resource maps, for tables.
enum ResourceText {
    static func number(_ value: Double) -> String {
        let rounded = (value * 1000).rounded() / 1000
        return rounded == rounded.rounded() && abs(rounded) < 1e15 ? String(Int64(rounded)) : String(rounded)
    }

    static func scalar(_ name: String, in resources: [String: JSONValue]) -> Double {
        if case .number(let value) = resources[name] { return value }
        return 0
    }

    /// "1.5/4": used of total.
    static func usage(_ name: String, used: [String: JSONValue], total: [String: JSONValue]) -> String {
        number(scalar(name, in: used)) + "/" + number(scalar(name, in: total))
    }
}
