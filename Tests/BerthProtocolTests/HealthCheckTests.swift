import BerthCore
import BerthProtocol
import Foundation
import Testing

@Suite struct HealthCheckTests {
    static func decode(_ json: String) throws -> HealthCheck {
        try MesosJSON.decode(HealthCheck.self, from: Data(json.utf8), what: "health check")
    }

    @Test func mesosDefaultsApplyWhenFieldsAreAbsent() throws {
        let check = try Self.decode(#"{"type": "TCP", "tcp": {"port": 31000}}"#)
        #expect(check.delay == 15)
        #expect(check.interval == 10)
        #expect(check.timeout == 20)
        #expect(check.failuresToKill == 3)
        #expect(check.gracePeriod == 10)
        #expect(check.problem == nil)
    }

    @Test func unknownFieldsSurviveARoundTrip() throws {
        let check = try Self.decode(#"{"type": "HTTP", "http": {"port": 8080, "path": "/ok"}, "interval_seconds": 2, "future_field": {"a": 1}}"#)
        #expect(check.http?.port == 8080)
        #expect(check.intervalSeconds == 2)
        #expect(check.unknown["future_field"] == .object(["a": .number(1)]))
        let again = try MesosJSON.decode(HealthCheck.self, from: try MesosJSON.encode(check), what: "health check")
        #expect(again == check)
        let grpc = try Self.decode(#"{"type": "GRPC", "grpc": {"port": 9000}}"#)
        #expect(try MesosJSON.decode(HealthCheck.self, from: try MesosJSON.encode(grpc), what: "health check") == grpc)
    }

    @Test(arguments: [
        (#"{"type": "HTTP", "http": {"path": "/"}}"#, "health_check.http has no port"),
        (#"{"type": "HTTP"}"#, "health_check of type HTTP has no http"),
        (#"{"type": "TCP", "tcp": {}}"#, "health_check of type TCP has no tcp.port"),
        (#"{"type": "TCP", "tcp": {"port": 70000}}"#, "health_check.tcp.port 70000 is not a port"),
        (#"{"type": "COMMAND"}"#, "health_check of type COMMAND has no command"),
        (#"{"type": "COMMAND", "command": {"value": "true"}, "interval_seconds": -1}"#, "health_check.interval_seconds is -1.0"),
        (#"{"type": "COMMAND", "command": {"value": "true"}, "delay_seconds": -5}"#, "health_check.delay_seconds is -5.0"),
        (#"{"type": "COMMAND", "command": {"value": "true"}, "consecutive_failures": 0}"#, "health_check.consecutive_failures is 0"),
        (#"{"type": "HTTP", "http": {"port": 80, "scheme": "https"}}"#, "health_check.http.scheme https is not supported"),
        (#"{"command": {"value": "true"}}"#, "health_check has no type"),
        (#"{"type": "GRPC", "grpc": {"port": 9000}}"#, "health_check.type GRPC is not supported: use COMMAND, HTTP or TCP"),
    ])
    func badChecksSayWhatToFix(json: String, message: String) throws {
        let problem = try #require(try Self.decode(json).problem)
        #expect(problem.hasPrefix(message), "\(problem)")
    }
}
