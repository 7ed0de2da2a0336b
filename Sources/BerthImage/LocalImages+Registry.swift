import BerthCore
import BerthOCI
import Foundation
import Logging

extension LocalImages {
    /// The credentials `berth login` saved in this home, then Docker's config.json.
    public var credentials: CredentialStore {
        CredentialStore(berthAuthPath: home.authFile)
    }

    /// A registry client for `reference` with this home's credentials and insecure registries
    /// (registries.json), plus the reference's own registry when `insecure`.
    public func registryClient(for reference: ImageReference, insecure: Bool, logger: Logger) throws -> RegistryClient {
        var configuration = RegistryClient.Configuration()
        configuration.insecureRegistries = Set(try RegistrySettings.load(home: home).insecureRegistries)
        if insecure { configuration.insecureRegistries.insert(reference.registry) }
        return RegistryClient(configuration: configuration, credentials: credentials, logger: logger)
    }

    /// Pulls the image into the content store and records it under the reference's full name.
    /// Holds the collection lock shared meanwhile, so a prune cannot remove blobs this pull has
    /// stored but not yet recorded.
    public func pull(_ reference: ImageReference, platform: Platform?, client: RegistryClient,
                     progress: (@Sendable (PullProgressEvent) -> Void)?) async throws -> ImageRecord {
        let gcLock = try FileLock(path: home.collectionLockFile, mode: .shared)
        defer { withExtendedLifetime(gcLock) {} }
        let pulled = try await client.pull(reference, platform: platform, into: content, progress: progress)
        return try add(name: reference.description, digest: pulled.digest, manifestDigest: pulled.manifestDigest)
    }

    /// Pushes the image's platform manifest with its config and layers (the blobs this store
    /// holds; an index pulled for one platform is not complete here).
    public func push(_ record: ImageRecord, to reference: ImageReference, client: RegistryClient) async throws {
        try await client.push(manifest: record.manifestDigest, from: content, to: reference)
    }
}
