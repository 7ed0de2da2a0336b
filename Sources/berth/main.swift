import BerthRunCLI
import Glibc

// `berth`: `berth run --rootfs` runs here; every other command, and `berth run IMAGE`, is
// `berth-full`, installed beside this executable and exec'd with the same arguments.
//
// Why two executables: `berth run` is timed against runc, and the start of the one executable
// that held every subcommand (NIO, Hummingbird, GRDB, the registry client, all of Foundation:
// 144,000 relocations, 850 page faults) took 5 to 6 ms of every run. This one links
// the runtime, swift-log and FoundationEssentials only (docs/benchmarks.md, "berth run vs runc").

let arguments = CommandLine.arguments
if arguments.count > 1, arguments[1] == "run", !RunOptions.asksForHelp(arguments.dropFirst(2)),
   let options = RunOptions.parseFast(arguments.dropFirst(2)), options.rootfs != nil {
    do {
        try options.run()
    } catch let status as ExitStatusError {
        exit(status.code)
    } catch {
        Terminal.error("\(error)")
        exit(125)
    }
}
FullCommand.exec(arguments)
