import BerthCore

/// An event on a framework's SUBSCRIBE stream, as Mesos' v1 scheduler API defines them.
public struct Event: Hashable, Sendable, Codable {
    public enum Kind: String, Hashable, Sendable, Codable {
        case subscribed = "SUBSCRIBED"
        case offers = "OFFERS"
        case inverseOffers = "INVERSE_OFFERS"
        case rescind = "RESCIND"
        case rescindInverseOffer = "RESCIND_INVERSE_OFFER"
        case update = "UPDATE"
        case updateOperationStatus = "UPDATE_OPERATION_STATUS"
        case message = "MESSAGE"
        case failure = "FAILURE"
        case error = "ERROR"
        case heartbeat = "HEARTBEAT"
        /// Anything newer than this client knows; skipped, as the scheduler API asks of clients.
        case unknown = "UNKNOWN"

        public init(from decoder: any Decoder) throws {
            self = Kind(rawValue: try decoder.singleValueContainer().decode(String.self)) ?? .unknown
        }
    }

    public var type: Kind
    public var subscribed: Subscribed?
    public var offers: Offers?
    public var rescind: Rescind?
    public var update: Update?
    public var message: Message?
    public var failure: Failure?
    public var error: ErrorBody?

    public init(type: Kind) { self.type = type }

    public static func subscribed(_ framework: FrameworkID, heartbeatSeconds: Double) -> Event {
        var event = Event(type: .subscribed)
        event.subscribed = Subscribed(frameworkID: framework, heartbeatIntervalSeconds: heartbeatSeconds)
        return event
    }

    public static func offers(_ offers: [OfferInfo]) -> Event {
        var event = Event(type: .offers)
        event.offers = Offers(offers: offers)
        return event
    }

    public static func rescind(_ offer: OfferID) -> Event {
        var event = Event(type: .rescind)
        event.rescind = Rescind(offerID: offer)
        return event
    }

    public static func update(_ status: TaskStatus) -> Event {
        var event = Event(type: .update)
        event.update = Update(status: status)
        return event
    }

    public static func error(_ message: String) -> Event {
        var event = Event(type: .error)
        event.error = ErrorBody(message: message)
        return event
    }

    public static let heartbeat = Event(type: .heartbeat)

    public struct Subscribed: Hashable, Sendable, Codable {
        public var frameworkID: FrameworkID
        public var heartbeatIntervalSeconds: Double?
        public var masterInfo: MasterInfo?

        enum CodingKeys: String, CodingKey {
            case frameworkID = "framework_id", heartbeatIntervalSeconds = "heartbeat_interval_seconds", masterInfo = "master_info"
        }
    }

    public struct Offers: Hashable, Sendable, Codable {
        public var offers: [OfferInfo]
    }

    public struct Rescind: Hashable, Sendable, Codable {
        public var offerID: OfferID
        enum CodingKeys: String, CodingKey { case offerID = "offer_id" }
    }

    public struct Update: Hashable, Sendable, Codable {
        public var status: TaskStatus
    }

    public struct Message: Hashable, Sendable, Codable {
        public var agentID: AgentID
        public var executorID: ExecutorID
        public var data: String
        enum CodingKeys: String, CodingKey { case agentID = "agent_id", executorID = "executor_id", data }
    }

    public struct Failure: Hashable, Sendable, Codable {
        public var agentID: AgentID?
        public var executorID: ExecutorID?
        public var status: Int32?
        enum CodingKeys: String, CodingKey { case agentID = "agent_id", executorID = "executor_id", status }
    }

    public struct ErrorBody: Hashable, Sendable, Codable {
        public var message: String
    }
}
