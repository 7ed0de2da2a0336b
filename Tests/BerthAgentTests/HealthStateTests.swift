@testable import BerthAgent
import BerthProtocol
import Testing

@Suite struct HealthStateTests {
    typealias Decision = HealthState.Decision

    static func state(grace: Double = 10, failures: Int = 3) -> HealthState {
        HealthState(check: HealthCheck(type: .tcp, tcp: .init(port: 1), consecutiveFailures: failures, gracePeriodSeconds: grace), startedAt: 100)
    }

    /// Each step: (seconds since start, success) and what it decides.
    @Test(arguments: [
        // Failures in the grace period are not counted; the first after it is reported.
        ("grace", [(1.0, false, Decision(report: nil)), (5, false, Decision(report: nil)), (11, false, Decision(report: false)),
                   (12, false, Decision(report: nil)), (13, false, Decision(report: nil, kill: true))]),
        // The first success ends the grace period: a failure right after it counts.
        ("success ends grace", [(1, true, Decision(report: true)), (2, false, Decision(report: false)),
                                (3, true, Decision(report: true)), (4, true, Decision(report: nil))]),
        // A success resets the count of failures in a row.
        ("reset", [(11, false, Decision(report: false)), (12, false, Decision(report: nil)), (13, true, Decision(report: true)),
                   (14, false, Decision(report: false)), (15, false, Decision(report: nil)), (16, false, Decision(report: nil, kill: true))]),
    ] as [(String, [(Double, Bool, Decision)])])
    func transitions(name: String, steps: [(Double, Bool, Decision)]) {
        var state = Self.state()
        for (at, success, expected) in steps {
            #expect(state.record(success: success, at: 100 + at) == expected, "\(name) at +\(at)s")
        }
    }

    @Test func oneFailureKillsWhenConsecutiveFailuresIsOne() {
        var state = Self.state(grace: 0, failures: 1)
        #expect(state.record(success: false, at: 100) == Decision(report: false, kill: true))
    }
}
