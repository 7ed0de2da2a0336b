import BerthCore

extension RegistryClient {
    public struct Configuration: Sendable {
        /// Registries ("host" or "host:port") reached over plain HTTP instead of HTTPS. Default:
        /// none. Loopback registries (localhost, 127.0.0.0/8, [::1]) always use HTTP, as in Docker.
        public var insecureRegistries: Set<String> = []
        /// Layers downloaded at the same time during a pull. Default: 3, as Docker.
        public var maxConcurrentDownloads = 3
        /// Tries per layer when a download breaks off; each resumes where the last one stopped.
        /// Default: 3.
        public var maxDownloadAttempts = 3
        /// Blobs uploaded at the same time during a push. Default: 3.
        public var maxConcurrentUploads = 3
        /// Time allowed to open a connection. Default: 30 s.
        public var connectTimeout: Duration = .seconds(30)
        /// Longest silence while reading a response before giving up. Default: 60 s.
        public var readTimeout: Duration = .seconds(60)
        /// Deadline for a small request (manifest, token, HEAD). Default: 2 minutes.
        public var requestTimeout: Duration = .seconds(120)
        /// Deadline for moving one blob. Default: 1 hour; `readTimeout` catches a stalled one sooner.
        public var blobTimeout: Duration = .seconds(3600)
        /// Largest manifest or index accepted, as containerd. Default: 4 MiB.
        public var maxManifestBytes = 4 << 20
        /// Largest image configuration accepted (it is read into memory). Default: 16 MiB.
        public var maxConfigBytes = 16 << 20
        /// Token lifetime assumed when the token server gives none. Default: 60 s (the spec's).
        public var defaultTokenLifetime: Duration = .seconds(60)
        /// Default: "berth/VERSION".
        public var userAgent = "berth/\(BerthVersion.current)"

        public init() {}
    }
}
