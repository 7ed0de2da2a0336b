import BerthCore
import Foundation

/// Registry settings of a Berth home, in `HOME/registries.json`, read by every command and by the
/// agent: `{"insecure-registries": ["10.0.0.5:5000"]}` (the key Docker's daemon.json uses).
public struct RegistrySettings: Codable, Sendable, Equatable {
    /// Registries reached over plain HTTP. Loopback registries need no entry.
    public var insecureRegistries: [String] = []

    enum CodingKeys: String, CodingKey {
        case insecureRegistries = "insecure-registries"
    }

    public init(insecureRegistries: [String] = []) {
        self.insecureRegistries = insecureRegistries
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        insecureRegistries = try container.decodeIfPresent([String].self, forKey: .insecureRegistries) ?? []
    }

    /// The settings of `home`; defaults when the file does not exist.
    public static func load(home: BerthHome) throws -> RegistrySettings {
        let path = home.registrySettingsFile
        guard let data = FileManager.default.contents(atPath: path) else { return RegistrySettings() }
        do {
            return try JSONDecoder().decode(RegistrySettings.self, from: data)
        } catch {
            throw BerthError(.invalidArgument, "\(path) is not valid: \(error); it should look like {\"insecure-registries\": [\"host:port\"]}")
        }
    }
}

extension BerthHome {
    public var registrySettingsFile: String { root + "/registries.json" }
}
