import ArgumentParser
import BerthCore
import BerthImage
import BerthOCI
import BerthRunCLI
import Foundation

struct ImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Pull, push, import, list, inspect, remove and unpack OCI images.",
        subcommands: [ImagePull.self, ImagePush.self, ImageImport.self, ImageList.self, ImageInspect.self,
                      ImageRemove.self, ImagePrune.self, ImageUnpack.self])
}

/// Registry options shared by pull and push.
struct RegistryOptions: ParsableArguments {
    @Flag(help: "Talk plain HTTP to the registry (registries on loopback addresses always get it).")
    var insecure = false

    @Option(help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error.", valueName: "level"))
    var logLevel: String?
}

struct ImagePull: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pull", abstract: "Pull an image from a registry into the local store.")

    @OptionGroup var homeOptions: HomeOptions
    @OptionGroup var registry: RegistryOptions

    @Option(help: ArgumentHelp("The platform to pull from a multi-platform image (default: this host's).", valueName: "os/arch[/variant]"))
    var platform: String?

    @Argument(help: ArgumentHelp("docker.io/library/busybox:latest, host:port/name@sha256:…", valueName: "ref"))
    var reference: String

    func run() throws {
        let logger = Logs.bootstrap(level: registry.logLevel)
        let images = try LocalImages(home: homeOptions.resolved, logger: logger)
        let ref = try ImageReference(parsing: reference)
        let platform = try self.platform.map { text in
            guard let platform = Platform(parsing: text) else { throw ValidationError("--platform \(text): write os/arch or os/arch/variant, e.g. linux/arm64") }
            return platform
        }
        let record = try Blocking.run {
            try await ImagePulling.pull(ref, platform: platform, insecure: registry.insecure, into: images, logger: logger)
        }
        print("\(record.name): \(record.digest) (\(record.platform), image ID \(record.id))")
    }
}

struct ImagePush: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push", abstract: "Push a local image, an OCI layout (directory or tar) or a docker save tar to a registry.")

    @OptionGroup var homeOptions: HomeOptions
    @OptionGroup var registry: RegistryOptions

    @Argument(help: ArgumentHelp("A local image name or ID, or a path to import first.", valueName: "src"))
    var source: String

    @Argument(help: ArgumentHelp("Where to push: host:port/name:tag.", valueName: "ref"))
    var reference: String

    func run() throws {
        let logger = Logs.bootstrap(level: registry.logLevel)
        let images = try LocalImages(home: homeOptions.resolved, logger: logger)
        let ref = try ImageReference(parsing: reference)
        let record: ImageRecord
        if let local = try images.find(source) {
            record = local
        } else if FileManager.default.fileExists(atPath: source) {
            let imported = try ImageImporter(images: images, logger: logger).importImages(from: source)
            guard imported.count == 1, let only = imported.first else {
                throw ValidationError("\(source) holds \(imported.count) images; import it first and push them by name")
            }
            record = only
        } else {
            throw ValidationError("\(source) is neither a local image nor a file: pull or import it first")
        }
        let insecure = registry.insecure
        try Blocking.run {
            try await ImagePulling.push(record, to: ref, insecure: insecure, images: images, logger: logger)
        }
        print("pushed \(record.name) to \(ref): \(record.manifestDigest)")
    }
}

struct ImageImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Import images from an OCI image layout (directory or tar) or a docker save tar.")

    @OptionGroup var homeOptions: HomeOptions

    @Option(help: ArgumentHelp("Repository for images the input names by tag only (default: the file name).", valueName: "name"))
    var name: String?

    @Argument(help: ArgumentHelp("The layout directory or archive.", valueName: "path"))
    var path: String

    func run() throws {
        let logger = Logs.bootstrap(level: nil)
        let images = try LocalImages(home: homeOptions.resolved, logger: logger)
        for record in try ImageImporter(images: images, logger: logger).importImages(from: path, name: name) {
            print("imported \(record.name) (\(record.platform), image ID \(record.id))")
        }
    }
}

struct ImageList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List local images.", aliases: ["list"])

    @OptionGroup var homeOptions: HomeOptions

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() throws {
        let records = try ImageStore(home: homeOptions.resolved).all()
        if json {
            FileHandle.standardOutput.write(try JSONEncoder.berth.encode(records))
            print()
            return
        }
        var rows = [["NAME", "IMAGE ID", "PLATFORM", "SIZE", "CREATED"]]
        for record in records {
            // Docker's short spelling (busybox:latest), as users type it; --json has the full name.
            let name = (try? ImageReference(parsing: record.name))?.familiarString ?? record.name
            rows.append([name, record.id, record.platform, ByteSize.format(record.size), record.created.map { String($0.prefix(19)) } ?? "-"])
        }
        print(Table.render(rows), terminator: "")
    }
}

struct ImageInspect: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Show an image's record, manifest and configuration as JSON.")

    @OptionGroup var homeOptions: HomeOptions

    @Argument(help: ArgumentHelp("Name, digest or image ID.", valueName: "ref"))
    var reference: String

    struct Inspection: Encodable {
        var record: ImageRecord
        var manifest: Manifest
        var configuration: ImageConfiguration
    }

    func run() throws {
        let images = try LocalImages(home: homeOptions.resolved, logger: Logs.bootstrap(level: nil))
        let record = try images.require(reference)
        let inspection = Inspection(record: record, manifest: try images.manifest(of: record), configuration: try images.configuration(of: record))
        FileHandle.standardOutput.write(try JSONEncoder.berth.encode(inspection))
        print()
    }
}

struct ImageRemove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove images, and the blobs and layers only they used.", aliases: ["remove", "rmi"])

    @OptionGroup var homeOptions: HomeOptions

    @Argument(help: ArgumentHelp("Names, digests or image IDs.", valueName: "ref"))
    var references: [String]

    func run() throws {
        let images = try LocalImages(home: homeOptions.resolved, logger: Logs.bootstrap(level: nil))
        let (removed, report) = try images.remove(references)
        for record in removed { print("removed \(record.name)") }
        print(report.summary)
    }
}

struct ImagePrune: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune", abstract: "Remove blobs, layers and container leftovers that no image or running container uses.",
        discussion: """
            With --unused-for, also removes images no container has started from for that long \
            (never used: since they were added). With --min-free, also removes the least recently \
            used images while the filesystem of the home has less than that much free. An image \
            a running container uses is never removed.
            """)

    @OptionGroup var homeOptions: HomeOptions

    @Option(help: ArgumentHelp("Remove images unused for this long, e.g. 24h or 7d.", valueName: "duration"))
    var unusedFor: String?

    @Option(help: ArgumentHelp("Remove least recently used images until this much of the disk is free, e.g. 15%.", valueName: "percent"))
    var minFree: String?

    func run() throws {
        var policy = ImagePrunePolicy()
        if let unusedFor {
            policy.unusedFor = try CoordinatorCommand.parseDuration(unusedFor, option: "--unused-for") / .seconds(1)
        }
        if let minFree {
            let number = Double(minFree.hasSuffix("%") ? String(minFree.dropLast()) : minFree)
            guard let number, number > 0, number < 100 else {
                throw ValidationError("--min-free \(minFree): expected a percentage of the disk between 0 and 100, e.g. 15%")
            }
            policy.minimumFreeFraction = number / 100
        }
        let images = try LocalImages(home: homeOptions.resolved, logger: Logs.bootstrap(level: nil))
        let (removed, report) = try images.prune(policy)
        for record in removed { print("removed \(record.name)") }
        print(report.summary)
    }
}

struct ImageUnpack: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unpack", abstract: "Write an image's root filesystem into a directory, for inspection.")

    @OptionGroup var homeOptions: HomeOptions

    @Argument(help: ArgumentHelp("Name, digest or image ID.", valueName: "ref"))
    var reference: String

    @Argument(help: ArgumentHelp("An empty or new directory.", valueName: "dir"))
    var directory: String

    func run() throws {
        let images = try LocalImages(home: homeOptions.resolved, logger: Logs.bootstrap(level: nil))
        let record = try images.require(reference)
        if let existing = try? FileManager.default.contentsOfDirectory(atPath: directory), !existing.isEmpty {
            throw ValidationError("\(directory) is not empty: give a new or empty directory")
        }
        let reports = try images.unpack(record, to: directory)
        for warning in reports.flatMap(\.warnings) { Terminal.error("warning: \(warning)") }
        let entries = reports.reduce(0) { $0 + $1.entries }
        let bytes = reports.reduce(Int64(0)) { $0 + $1.bytesWritten }
        print("unpacked \(record.name): \(reports.count) layers, \(entries) entries, \(ByteSize.format(bytes)) into \(directory)")
    }
}

extension LocalImages.CollectionReport {
    var summary: String {
        "freed \(ByteSize.format(bytes)): \(blobs) blobs, \(snapshots) unpacked layers, \(containers) container leftovers"
    }
}

enum Table {
    /// Left-aligned columns two spaces apart, as docker's tables.
    static func render(_ rows: [[String]]) -> String {
        let widths = (0..<(rows.first?.count ?? 0)).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index] + 2, withPad: " ", startingAt: 0)
            }.joined()
        }.joined(separator: "\n") + "\n"
    }
}
