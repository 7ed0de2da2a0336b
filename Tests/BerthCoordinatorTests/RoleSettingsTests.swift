import AsyncHTTPClient
import BerthCoordinator
import BerthCore
import BerthProtocol
import Foundation
import NIOCore
import Testing

/// `GET|PUT /weights`, `GET|POST /quota`, `DELETE /quota/ROLE` over real HTTP, and their effect
/// on offers.
@Suite(.serialized) struct RoleSettingsTests {
    @Test func weightsAreSetReadAndValidated() async throws {
        let coordinator = try await TestCoordinator.start()
        let url = coordinator.url + "/weights"
        #expect(try await OperatorHTTP.get(url).body == "[]")
        let put = try await OperatorHTTP.call(.PUT, url, json: #"[{"role":"eng","weight":2.5},{"role":"eng/web","weight":1}]"#)
        #expect(put.status == 200, "\(put.body)")
        let read = try JSONDecoder().decode([WeightInfo].self, from: try await OperatorHTTP.get(url).data)
        #expect(read == [WeightInfo(role: "eng", weight: 2.5), WeightInfo(role: "eng/web", weight: 1)])

        let refused: [(String, String)] = [
            (#"[{"role":"eng","weight":0}]"#, "[0].weight: 0.0 for role eng is not a positive number"),
            (#"[{"role":"ok","weight":1},{"role":"a//b","weight":1}]"#, "[1].role: role \"a//b\""),
            (#"[{"role":"x","weight":1},{"role":"x","weight":2}]"#, "role x is listed twice"),
            (#"[{"role":"eng"}]"#, "missing field \"weight\""),
            (#"{"role":"eng","weight":2}"#, "malformed weights"),
        ]
        for (body, message) in refused {
            let answer = try await OperatorHTTP.call(.PUT, url, json: body)
            #expect(answer.status == 400, "\(body)")
            #expect(answer.body.contains(message), "\(body): \(answer.body)")
        }
        // All or nothing: the refused requests changed nothing.
        #expect(try JSONDecoder().decode([WeightInfo].self, from: try await OperatorHTTP.get(url).data) == read)

        // What `curl -d` sends, as in Mesos' documentation: read as JSON all the same.
        var form = HTTPClientRequest(url: url)
        form.method = .PUT
        form.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        form.body = .bytes(ByteBuffer(string: #"[{"role":"ops","weight":4}]"#))
        #expect(try await HTTPClient.shared.execute(form, timeout: .seconds(10)).status == .ok)
        #expect(try await OperatorHTTP.get(url).body.contains(#"{"role":"ops","weight":4}"#))
        try await coordinator.stop()
    }

    /// Four identical agents, roles a and b: by plain DRF each role gets two; with a weighing 3,
    /// a gets three (its share divided by 3 stays below b's until b holds one).
    @Test func weightsShiftOffersBetweenRoles() async throws {
        let coordinator = try await TestCoordinator.start()
        let put = try await OperatorHTTP.call(.PUT, coordinator.url + "/weights", json: #"[{"role":"a","weight":3}]"#)
        #expect(put.status == 200)
        let a = try await TestFramework.subscribe(to: coordinator, name: "a", roles: ["a"])
        let b = try await TestFramework.subscribe(to: coordinator, name: "b", roles: ["b"])
        for index in 1...4 {
            _ = try await SimulatedAgent.register(to: coordinator, hostname: "agent\(index)", resources: "cpus:1;mem:1024")
        }
        let deadline = ContinuousClock.now + .seconds(10)
        var counts = (0, 0)
        while ContinuousClock.now < deadline {
            counts = (await Self.offerCount(a), await Self.offerCount(b))
            if counts.0 + counts.1 >= 4 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(counts.0 == 3 && counts.1 == 1, "offers to a, b: \(counts)")
        try await coordinator.stop()
    }

    static func offerCount(_ framework: TestFramework) async -> Int {
        let events = await framework.events.events
        return events.reduce(0) { $0 + ($1.offers?.offers.count ?? 0) } - events.filter { $0.type == .rescind }.count
    }

    @Test func quotaLimitsOffersUntilRemoved() async throws {
        let coordinator = try await TestCoordinator.start()
        let set = try await OperatorHTTP.call(.POST, coordinator.url + "/quota",
                                              json: #"{"role":"dev","guarantees":{"cpus":{"value":0.5}},"limits":{"cpus":{"value":1},"mem":{"value":512}}}"#)
        #expect(set.status == 200, "\(set.body)")
        let status = try JSONDecoder().decode(QuotaStatus.self, from: try await OperatorHTTP.get(coordinator.url + "/quota").data)
        #expect(status.configs.map(\.role) == ["dev"])
        #expect(status.configs.first?.limits == ["cpus": ScalarValue(1), "mem": ScalarValue(512)])
        #expect(status.configs.first?.guarantees == ["cpus": ScalarValue(0.5)])
        #expect(status.infos.first?.guarantee == (try Resources.parse("cpus:0.5")))

        _ = try await SimulatedAgent.register(to: coordinator)
        let framework = try await TestFramework.subscribe(to: coordinator, roles: ["dev"])
        let offer = try await framework.nextOffer()
        #expect(offer.resources.scalar(named: "cpus") == Scalar(1))
        #expect(offer.resources.scalar(named: "mem") == Scalar(512))
        // Not limited: ports.
        #expect(!offer.resources.ranges(named: "ports").isEmpty)
        try await framework.events.expectNone("a second OFFERS within the quota", for: .milliseconds(400)) { $0.type == .offers }

        let removed = try await OperatorHTTP.call(.DELETE, coordinator.url + "/quota/dev")
        #expect(removed.status == 200, "\(removed.body)")
        let rest = try await framework.nextOffer(timeout: .seconds(5))
        #expect(rest.resources.scalar(named: "cpus") == Scalar(3))
        #expect(try await OperatorHTTP.get(coordinator.url + "/quota").body == #"{"configs":[],"infos":[]}"#)
        try await coordinator.stop()
    }

    @Test func quotaBelowWhatTheRoleHoldsNeedsForceAndRescinds() async throws {
        let coordinator = try await TestCoordinator.start()
        _ = try await SimulatedAgent.register(to: coordinator)
        let framework = try await TestFramework.subscribe(to: coordinator, roles: ["eng/web"])
        let offer = try await framework.nextOffer()
        // The legacy shape: guarantees as resources, which become the limits too. Set on the
        // parent role, it covers eng/web.
        let body = #"{"role":"eng","guarantee":[{"name":"cpus","type":"SCALAR","scalar":{"value":2}}]}"#
        let refused = try await OperatorHTTP.call(.POST, coordinator.url + "/quota", json: body)
        #expect(refused.status == 400)
        #expect(refused.body.contains("role eng already holds 4 cpus, above the new limit of 2"), "\(refused.body)")

        let forced = try await OperatorHTTP.call(.POST, coordinator.url + "/quota", json: String(body.dropLast()) + #","force":true}"#)
        #expect(forced.status == 200, "\(forced.body)")
        let rescind = try await framework.events.next("RESCIND") { $0.type == .rescind }
        #expect(rescind.rescind?.offerID == offer.id)
        let limited = try await framework.nextOffer()
        #expect(limited.resources.scalar(named: "cpus") == Scalar(2))
        let status = try JSONDecoder().decode(QuotaStatus.self, from: try await OperatorHTTP.get(coordinator.url + "/quota").data)
        #expect(status.configs.first?.limits == ["cpus": ScalarValue(2)])
        try await coordinator.stop()
    }

    @Test func weightsAndQuotasSurviveARestart() async throws {
        let home = try RestartTests.home()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let first = try await RestartTests.start(home: home)
        #expect(try await OperatorHTTP.call(.PUT, first.url + "/weights", json: #"[{"role":"eng","weight":2}]"#).status == 200)
        #expect(try await OperatorHTTP.call(.POST, first.url + "/quota", json: #"{"role":"dev","limits":{"cpus":{"value":1}}}"#).status == 200)
        #expect(try await OperatorHTTP.call(.POST, first.url + "/quota", json: #"{"role":"ops","limits":{"mem":{"value":64}}}"#).status == 200)
        #expect(try await OperatorHTTP.call(.DELETE, first.url + "/quota/ops").status == 200)
        let weights = try await OperatorHTTP.get(first.url + "/weights").body
        let quota = try await OperatorHTTP.get(first.url + "/quota").body
        try await first.stop()

        let second = try await RestartTests.start(home: home)
        #expect(try await OperatorHTTP.get(second.url + "/weights").body == weights)
        #expect(try await OperatorHTTP.get(second.url + "/quota").body == quota)
        #expect(quota.contains(#""role":"dev""#) && !quota.contains(#""role":"ops""#))
        // And the allocator still reads the quota.
        _ = try await SimulatedAgent.register(to: second)
        let framework = try await TestFramework.subscribe(to: second, roles: ["dev"])
        #expect(try await framework.nextOffer().resources.scalar(named: "cpus") == Scalar(1))
        try await second.stop()
    }

    @Test(arguments: [
        (#"{"role":"*","limits":{"cpus":{"value":1}}}"#, "default role"),
        (#"{"role":"a b","limits":{"cpus":{"value":1}}}"#, "role: role \"a b\""),
        (#"{"role":"dev","limits":{"cpus":{"value":-1}}}"#, "limits.cpus: -1.0 is not a finite, non-negative number"),
        (#"{"role":"dev","limits":{"cpus":{"value":0}}}"#, "a limit of 0 is not supported"),
        (#"{"role":"dev","guarantees":{"cpus":{"value":2}},"limits":{"cpus":{"value":1}}}"#, "guarantees.cpus 2 is above limits.cpus 1"),
        (#"{"role":"dev","guarantee":[{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":1,"end":2}]}}]}"#, "ports is not a scalar"),
        (#"{"role":"dev"}"#, "names no resources"),
        (#"{"limits":{}}"#, "missing field \"role\""),
        ("not json", "malformed quota request"),
    ])
    func malformedQuotaIsRefusedWithAReason(body: String, message: String) async throws {
        let coordinator = try await TestCoordinator.start()
        let answer = try await OperatorHTTP.call(.POST, coordinator.url + "/quota", json: body)
        #expect(answer.status == 400)
        #expect(answer.body.contains(message), "\(answer.body)")
        let missing = try await OperatorHTTP.call(.DELETE, coordinator.url + "/quota/eng/web")
        #expect(missing.status == 400)
        #expect(missing.body.contains("role eng/web has no quota"), "\(missing.body)")
        #expect(try await OperatorHTTP.get(coordinator.url + "/quota").body == #"{"configs":[],"infos":[]}"#)
        try await coordinator.stop()
    }
}
