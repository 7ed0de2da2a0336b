import ArgumentParser
import BerthCgroups

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version", abstract: "Print Berth's version and what it detected on this host.")

    func run() throws {
        print("berth \(Berth.version)")
        do {
            print(try Cgroups.detect().summary)
        } catch {
            print("cgroups: \(error)")
        }
    }
}
