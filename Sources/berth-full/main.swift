import ArgumentParser
import BerthCore
import BerthRunCLI
import Foundation

struct Berth: ParsableCommand {
    static let version = BerthVersion.current

    static let configuration = CommandConfiguration(
        commandName: "berth",
        abstract: "Run containerized work on Linux hosts.",
        version: version,
        subcommands: [RunCommand.self, ImageCommand.self, LoginCommand.self, UpCommand.self, CoordinatorCommand.self, AgentCommand.self, StateCommand.self,
                      FrameworkCommands.self, TaskCommands.self, VersionCommand.self]
    )
}

struct TaskCommands: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "task", abstract: "Tasks on the cluster.",
                                                    subcommands: [TaskRun.self, TaskKill.self, TaskList.self, TaskLogs.self])
}

// Parse errors exit 125 as `docker run` does, so scripts can tell "berth refused" from the
// command's own status; --help and --version exit 0.
do {
    if CommandLine.arguments.count > 1, CommandLine.arguments[1] == "run" {
        let arguments = CommandLine.arguments.dropFirst(2)
        if RunOptions.asksForHelp(arguments) {
            print(Berth.helpMessage(for: RunCommand.self))
            exit(0)
        }
        // `berth run IMAGE`'s usual forms skip ArgumentParser here too (RunFastParse.swift).
        if let options = RunOptions.parseFast(arguments) { try RunCommand.run(options) }
    }
    var command = try Berth.parseAsRoot()
    try command.run()
} catch let status as ExitStatusError {
    exit(status.code)
} catch {
    let code = Berth.exitCode(for: error)
    if code == .success {
        Berth.exit(withError: error)
    }
    FileHandle.standardError.write(Data((Berth.fullMessage(for: error) + "\n").utf8))
    exit(error is BerthError || error is ValidationError || Berth.exitCode(for: error) == .validationFailure ? 125 : code.rawValue)
}
