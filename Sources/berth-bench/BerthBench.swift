import ArgumentParser

/// Benchmarks print `key=value` lines on stdout, one figure each, so scripts and docs can quote
/// them; anything meant for a person goes to stderr.
@main
struct BerthBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "berth-bench",
        abstract: "Measure Berth against reference tools and print key=value figures.",
        subcommands: [RunBenchmark.self, ImageUnpackBenchmark.self, AllocatorBenchmark.self, FailoverBenchmark.self, FailoverAgents.self, LaunchBenchmark.self]
    )
}
