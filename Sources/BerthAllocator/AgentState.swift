import BerthCore

/// An agent's free resources during a cycle: total minus running tasks minus outstanding offers,
/// shrinking as the cycle offers them. The unreserved part is kept apart with its scalar vector,
/// because nearly every offer is that part whole.
struct AgentState {
    struct Reservation {
        let role: Role
        var resources: Resources
        var vector: ScalarVector
    }

    let id: AgentID
    let hasGPUs: Bool
    /// Active decline filters on this agent, with the framework position each belongs to.
    var filters: [(framework: Int, filter: OfferFilter)] = []
    var unreserved: Resources
    var unreservedVector: ScalarVector
    var reservations: [Reservation]

    init(id: AgentID, free: Resources, hasGPUs: Bool, scalars: ScalarIndex) {
        self.id = id
        self.hasGPUs = hasGPUs
        guard free.items.contains(where: \.isReserved) else {
            // Most agents have no reservations: keep the free resources as they are, uncopied.
            unreserved = free
            unreservedVector = scalars.vector(free)
            reservations = []
            return
        }
        unreserved = free.unreserved
        unreservedVector = scalars.vector(unreserved)
        let reserved = free.reserved
        reservations = reserved.reservationRoles.sorted().map { role in
            let resources = reserved.reserved(for: role)
            return Reservation(role: role, resources: resources, vector: scalars.vector(resources))
        }
    }

    var isExhausted: Bool { unreserved.isEmpty && reservations.isEmpty }

    /// The free resources, whoever may use them (for explanations).
    var free: Resources { reservations.reduce(unreserved) { $0 + $1.resources } }
}
