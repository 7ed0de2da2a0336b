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
}
