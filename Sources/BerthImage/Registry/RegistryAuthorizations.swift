/// What a request needs from a repository; decides the token scope.
enum RegistryAccess: Sendable {
    case pull
    case push

    func scope(_ repository: String) -> String {
        switch self {
        case .pull: "repository:\(repository):pull"
        case .push: "repository:\(repository):pull,push"
        }
    }
}

/// The Authorization headers that worked, per registry and scope, with their expiry: one token
/// serves every request of a pull until it expires or a 401 says it no longer does.
actor RegistryAuthorizations {
    struct Key: Hashable {
        var registry: String
        var scope: String
    }

    private struct Grant {
        var header: String
        var expires: ContinuousClock.Instant?
    }

    private var grants: [Key: Grant] = [:]
    private var refreshing: [Key: Task<(String, Duration?), any Error>] = [:]

    func header(for key: Key) -> String? {
        guard let grant = grants[key] else { return nil }
        if let expires = grant.expires, expires <= .now {
            grants[key] = nil
            return nil
        }
        return grant.header
    }

    func store(_ header: String, for key: Key, lifetime: Duration?) {
        // Renew a little early so a token does not expire between check and use.
        let expires = lifetime.map { ContinuousClock.now + max($0 - .seconds(5), .zero) }
        grants[key] = Grant(header: header, expires: expires)
    }

    func invalidate(_ key: Key) {
        grants[key] = nil
    }

    /// A new header after `stale` was refused. Requests that are refused together (parallel
    /// layer downloads when a token expires) share one fetch; one that comes after another has
    /// already renewed the grant takes the renewed header.
    func renew(_ key: Key, stale: String?, fetch: @escaping @Sendable () async throws -> (String, Duration?)) async throws -> String {
        if let current = header(for: key), current != stale { return current }
        if let running = refreshing[key] { return try await running.value.0 }
        let task = Task { try await fetch() }
        refreshing[key] = task
        defer { refreshing[key] = nil }
        let (header, lifetime) = try await task.value
        store(header, for: key, lifetime: lifetime)
        return header
    }
}
