import AsyncHTTPClient
import BerthCoordinator
import BerthCore
import BerthProtocol
import Foundation
import NIOCore
import Testing

@Suite(.serialized) struct OfferFilterTests {
    @Test func declineFiltersTheAgentUntilRefuseSecondsPass() async throws {
        let coordinator = try await TestCoordinator.start()
        _ = try await SimulatedAgent.register(to: coordinator)
        let framework = try await TestFramework.subscribe(to: coordinator)
        let offer = try await framework.nextOffer()
        let declined = ContinuousClock.now
        try await framework.calls.decline([offer.id], refuseSeconds: 1.5)
        try await framework.events.expectNone("OFFERS while filtered", for: .milliseconds(800)) { $0.type == .offers }
        let again = try await framework.nextOffer(timeout: .seconds(5))
        #expect(ContinuousClock.now - declined >= .milliseconds(1400))
        #expect(again.resources == offer.resources)
        try await coordinator.stop()
    }

    @Test func reviveClearsDeclineFilters() async throws {
        let coordinator = try await TestCoordinator.start()
        _ = try await SimulatedAgent.register(to: coordinator)
        let framework = try await TestFramework.subscribe(to: coordinator)
        let offer = try await framework.nextOffer()
        try await framework.calls.decline([offer.id], refuseSeconds: 3600)
        try await framework.events.expectNone("OFFERS while filtered", for: .milliseconds(400)) { $0.type == .offers }
        try await framework.calls.revive()
        _ = try await framework.nextOffer(timeout: .seconds(3))
        try await coordinator.stop()
    }

    @Test func suppressStopsOffersReviveRestartsThem() async throws {
        let coordinator = try await TestCoordinator.start()
        let agent = try await SimulatedAgent.register(to: coordinator)
        let framework = try await TestFramework.subscribe(to: coordinator)
        let offer = try await framework.nextOffer()
        try await framework.calls.suppress()
        // The outstanding offer is rescinded: suppressed roles hold no offers.
        let rescind = try await framework.events.next("RESCIND") { $0.type == .rescind }
        #expect(rescind.rescind?.offerID == offer.id)
        try await framework.events.expectNone("OFFERS while suppressed", for: .milliseconds(500)) { $0.type == .offers }

        // offer-status explains it, over real HTTP.
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: coordinator.url + "/api/v1/frameworks/\(framework.id)/offer-status"), timeout: .seconds(10))
        #expect(response.status == .ok)
        let document = try JSONDecoder().decode(OfferStatusDocument.self, from: Data(try await response.body.collect(upTo: 1 << 20).readableBytesView))
        #expect(document.receivingOffers == false)
        #expect(document.blockers.map(\.reason) == ["SUPPRESSED"])
        #expect(document.blockers.first?.role == "*")
        #expect(document.blockers.first?.message.contains("send REVIVE") == true)

        try await framework.calls.revive()
        let again = try await framework.nextOffer(timeout: .seconds(3))
        #expect(again.agentID == agent.id)
        try await coordinator.stop()
    }
}
