import ArgumentParser
import BerthCore
import BerthImage
import Foundation
import Logging

/// Runs async work from a synchronous command and waits for it. The commands stay synchronous
/// because `berth run` must block its signals before the first thread starts; the tasks started
/// here come after that and inherit the mask.
enum Blocking {
    private final class Box<T>: @unchecked Sendable {
        var result: Result<T, any Error>?
    }

    static func run<T>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        let box = Box<T>()
        let done = DispatchSemaphore(value: 0)
        Task {
            do {
                box.result = .success(try await body())
            } catch {
                box.result = .failure(error)
            }
            done.signal()
        }
        done.wait()
        guard let result = box.result else { throw BerthError(.invalidState, "async work ended without a result") }
        return try result.get()
    }
}

/// `--home`, shared by every command that touches images or containers.
struct HomeOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Where Berth keeps images and state (default: $BERTH_HOME, else /var/lib/berth).", valueName: "dir"))
    var home: String?

    var resolved: BerthHome { BerthHome.resolve(option: home) }
}
