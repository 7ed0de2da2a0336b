import BerthCore
import BerthImage
import BerthOCI
import Foundation
import Logging

/// Registry work for the CLI: one client per command, progress on stderr.
enum ImagePulling {
    static func client(for reference: ImageReference, insecure: Bool, images: LocalImages, logger: Logger) throws -> RegistryClient {
        try images.registryClient(for: reference, insecure: insecure, logger: logger)
    }

    static func pull(_ reference: ImageReference, platform: Platform?, insecure: Bool, into images: LocalImages,
                     logger: Logger) async throws -> ImageRecord {
        let client = try client(for: reference, insecure: insecure, images: images, logger: logger)
        let printer = PullProgressPrinter(output: FileHandle.standardError, isTTY: isatty(STDERR_FILENO) == 1)
        do {
            let record = try await images.pull(reference, platform: platform, client: client, progress: printer.handler)
            try await client.shutdown()
            return record
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    static func push(_ record: ImageRecord, to reference: ImageReference, insecure: Bool, images: LocalImages, logger: Logger) async throws {
        let client = try client(for: reference, insecure: insecure, images: images, logger: logger)
        do {
            try await images.push(record, to: reference, client: client)
            try await client.shutdown()
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}
