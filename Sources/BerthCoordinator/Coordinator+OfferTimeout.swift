import BerthAllocator
import BerthCore
import Logging

extension Coordinator {
    /// With an offer timeout (Mesos' --offer_timeout): offers left unanswered longer are
    /// rescinded, so a framework that hoards offers does not starve the others.
    func expireOffers() {
        guard let timeout = configuration.offerTimeout?.seconds else { return }
        let current = now
        let expired = offers.values.filter { current.seconds - $0.created.seconds >= timeout }
        guard !expired.isEmpty else { return }
        for record in expired {
            offers[record.id] = nil
            frameworks[record.offer.framework]?.send(.rescind(record.id))
        }
        logger.info("offers rescinded after the offer timeout", metadata: ["offers": "\(expired.count)", "timeout_seconds": "\(timeout)"])
        requestAllocation()
    }
}
