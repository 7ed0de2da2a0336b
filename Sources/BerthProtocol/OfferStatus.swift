import BerthCore

/// `GET /api/v1/frameworks/{id}/offer-status`: why a framework is (not) receiving offers.
public struct OfferStatusDocument: Codable, Sendable {
    public var frameworkID: String
    /// True when nothing holds offers back.
    public var receivingOffers: Bool
    public var blockers: [Blocker]

    enum CodingKeys: String, CodingKey { case frameworkID = "framework_id", receivingOffers = "receiving_offers", blockers }

    public struct Blocker: Codable, Sendable {
        /// A stable code a program can switch on ("SUPPRESSED", "FILTERED", ...).
        public var reason: String
        public var role: String?
        public var agentID: String?
        public var message: String

        enum CodingKeys: String, CodingKey { case reason, role, agentID = "agent_id", message }

        public init(reason: String, role: String?, agentID: String?, message: String) {
            self.reason = reason
            self.role = role
            self.agentID = agentID
            self.message = message
        }
    }

    public init(frameworkID: String, receivingOffers: Bool, blockers: [Blocker]) {
        self.frameworkID = frameworkID
        self.receivingOffers = receivingOffers
        self.blockers = blockers
    }
}
