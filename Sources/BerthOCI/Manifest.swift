import BerthCore
import FoundationEssentials

/// An OCI image manifest or a Docker schema 2 manifest (the same shape).
public struct Manifest: Hashable, Sendable, Codable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var artifactType: String?
    public var config: Descriptor
    public var layers: [Descriptor]
    public var subject: Descriptor?
    public var annotations: [String: String]?

    public init(mediaType: String = MediaType.ociManifest, config: Descriptor, layers: [Descriptor], annotations: [String: String]? = nil) {
        self.schemaVersion = 2
        self.mediaType = mediaType
        self.config = config
        self.layers = layers
        self.annotations = annotations
    }
}

/// An OCI image index or a Docker manifest list.
public struct ImageIndex: Hashable, Sendable, Codable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var manifests: [Descriptor]
    public var annotations: [String: String]?

    public init(mediaType: String = MediaType.ociIndex, manifests: [Descriptor], annotations: [String: String]? = nil) {
        self.schemaVersion = 2
        self.mediaType = mediaType
        self.manifests = manifests
        self.annotations = annotations
    }
}

/// The image configuration: what the image runs and how its root filesystem is made.
public struct ImageConfiguration: Hashable, Sendable, Codable {
    public struct Config: Hashable, Sendable, Codable {
        public var user: String?
        public var exposedPorts: [String: EmptyObject]?
        public var env: [String]?
        public var entrypoint: [String]?
        public var cmd: [String]?
        public var volumes: [String: EmptyObject]?
        public var workingDir: String?
        public var labels: [String: String]?
        public var stopSignal: String?

        enum CodingKeys: String, CodingKey {
            case user = "User", exposedPorts = "ExposedPorts", env = "Env", entrypoint = "Entrypoint", cmd = "Cmd"
            case volumes = "Volumes", workingDir = "WorkingDir", labels = "Labels", stopSignal = "StopSignal"
        }

        public init() {}
    }

    public struct RootFS: Hashable, Sendable, Codable {
        public var type: String
        /// The digests of the uncompressed layers, in order: what chain IDs are computed from.
        public var diffIDs: [Digest]

        enum CodingKeys: String, CodingKey {
            case type
            case diffIDs = "diff_ids"
        }

        public init(diffIDs: [Digest]) {
            self.type = "layers"
            self.diffIDs = diffIDs
        }
    }

    public struct History: Hashable, Sendable, Codable {
        public var created: String?
        public var createdBy: String?
        public var comment: String?
        public var emptyLayer: Bool?

        enum CodingKeys: String, CodingKey {
            case created, comment
            case createdBy = "created_by"
            case emptyLayer = "empty_layer"
        }
    }

    public var created: String?
    public var author: String?
    public var architecture: String
    public var os: String
    public var variant: String?
    public var config: Config?
    public var rootfs: RootFS
    public var history: [History]?

    public init(os: String = "linux", architecture: String, config: Config? = nil, rootfs: RootFS) {
        self.os = os
        self.architecture = architecture
        self.config = config
        self.rootfs = rootfs
    }

    public var platform: Platform { Platform(os: os, architecture: architecture, variant: variant) }
}

/// `{}` in JSON: the value type of ExposedPorts and Volumes.
public struct EmptyObject: Hashable, Sendable, Codable {
    public init() {}
}

public enum ChainID {
    /// The chain IDs of an image's layers (OCI image spec, "Layer ChainID"): layer N's is
    /// sha256(chainID(N-1) + " " + diffID(N)). A layer is unpacked once per chain ID.
    public static func compute(_ diffIDs: [Digest]) -> [Digest] {
        var result: [Digest] = []
        for diffID in diffIDs {
            if let previous = result.last {
                result.append(Digest.sha256(of: Data("\(previous) \(diffID)".utf8)))
            } else {
                result.append(diffID)
            }
        }
        return result
    }
}
