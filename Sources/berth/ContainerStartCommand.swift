import ArgumentParser
import BerthAgent
import Foundation

/// The short-lived helper `berth-supervise` runs for the agent: starts one container from
/// DIR/launch.json and exits, leaving the container to the supervisor (docs/agent.md).
struct ContainerStartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "container-start",
        abstract: "Start one container for berth-supervise (used by the agent).",
        shouldDisplay: false)

    @Argument(help: ArgumentHelp("The supervisor's directory, holding launch.json.", valueName: "dir"))
    var directory: String

    func run() throws {
        let code = Self.start(directory: directory)
        if code != 0 { throw ExitStatusError(code: code) }
    }

    /// The exit status: 0, or 125 with why on stderr. main.swift calls this directly.
    static func start(directory: String) -> Int32 {
        // Its stderr is the task's: only what explains a failed start goes there.
        let logger = Logs.bootstrap(level: "error")
        do {
            try SupervisedLaunch.startContainer(directory: directory, logger: logger)
            return 0
        } catch {
            Terminal.error("cannot start the container: \(error)")
            return 125
        }
    }
}
