import ArgumentParser
import BerthCore
import BerthImage
import Foundation

struct LoginCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Save credentials for a registry, used by image pull and push.",
        discussion: "Credentials go to HOME/auth.json (owner-only), in Docker's config.json format; Docker's own config.json is read too.")

    @OptionGroup var homeOptions: HomeOptions

    @Option(name: [.customShort("u"), .long], help: "User name.")
    var username: String

    @Flag(help: "Read the password from stdin (keeps it out of the shell history and process list).")
    var passwordStdin = false

    @Option(name: [.customShort("p"), .long], help: "Password (prefer --password-stdin).")
    var password: String?

    @Argument(help: ArgumentHelp("Registry host[:port].", valueName: "registry"))
    var registry: String

    func run() throws {
        let secret: String
        if passwordStdin {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            secret = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
        } else if let password {
            secret = password
        } else {
            throw ValidationError("give the password with --password-stdin (or --password)")
        }
        guard !secret.isEmpty else { throw ValidationError("the password is empty") }
        let home = homeOptions.resolved
        try home.create()
        try CredentialStore(berthAuthPath: home.authFile).save(host: registry, username: username, password: secret)
        print("saved credentials for \(registry) in \(home.authFile)")
    }
}
