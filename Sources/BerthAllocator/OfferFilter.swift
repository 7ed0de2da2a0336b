import BerthCore

/// A DECLINE's refuse_seconds: the framework does not want `refused` on `agent` before `until`.
public struct OfferFilter: Hashable, Sendable {
    public var framework: FrameworkID
    public var agent: AgentID
    public var refused: Resources
    public var until: Timestamp

    public init(framework: FrameworkID, agent: AgentID, refused: Resources, until: Timestamp) {
        self.framework = framework
        self.agent = agent
        self.refused = refused
        self.until = until
    }

    public func isActive(at now: Timestamp) -> Bool { until > now }

    /// Mesos' rule: a filter holds back a slice it wholly covers, so a slice that grew since the
    /// decline (a task finished) is offered again.
    public func covers(_ slice: Resources, at now: Timestamp) -> Bool {
        isActive(at: now) && refused.contains(slice)
    }
}
