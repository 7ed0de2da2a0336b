import BerthCore
import BerthTestSupport
import Foundation
import Testing

/// `berth` runs `berth run --rootfs` itself and hands everything else to `berth-full`.
struct FrontExecutableTests {
    @Test func otherCommandsReachBerthFull() throws {
        let version = try Fixtures.berth(["--version"])
        #expect(version.status == 0, "\(version)")
        #expect(version.stdout == BerthVersion.current + "\n", "\(version)")
        // ArgumentParser's usage message comes from berth-full.
        let refused = try Fixtures.berth(["run", "--rootfs", "/r", "--network", "bogus", "--", "true"])
        #expect(refused.status == 125, "\(refused)")
        #expect(refused.stderr.contains("--network bogus: use none or host"), "\(refused)")
        #expect(refused.stderr.contains("Usage: berth run"), "\(refused)")
    }

    @Test func aMissingBerthFullIsNamedWithTheFix() throws {
        // A hard link, in the products directory so it is the same file system: a copy would be
        // open for writing while other tests fork, and exec'ing it could fail with ETXTBSY.
        let directory = TestHost.productsDirectory.appendingPathComponent("front-test-\(RandomUUID().string)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let lonely = directory.appendingPathComponent("berth").path
        try FileManager.default.linkItem(atPath: TestHost.berthBinary, toPath: lonely)
        let result = try Fixtures.run(lonely, ["agent", "ls"])
        #expect(result.status == 125, "\(result)")
        #expect(result.stderr.contains("cannot run \(directory.path)/berth-full: ENOENT"), "\(result)")
        #expect(result.stderr.contains("swift build --product berth-full"), "\(result)")
    }

    /// The modules `berth` links import FoundationEssentials: one `import Foundation` there (or a
    /// Foundation API reached through another module's import) links all of Foundation and ICU
    /// into it, and `berth run` starts several milliseconds later (docs/benchmarks.md).
    @Test(arguments: ["BerthCore", "BerthOCI", "BerthLinux", "BerthCgroups", "BerthRuntime", "BerthRunCLI", "berth"])
    func theFrontsModulesStayOutOfFoundation(_ module: String) throws {
        let directory = TestHost.packageRoot.appendingPathComponent("Sources/\(module)")
        let files = try #require(FileManager.default.enumerator(atPath: directory.path)).compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
        #expect(!files.isEmpty)
        for file in files {
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            let imports = text.split(separator: "\n").filter { $0.contains("import Foundation") && !$0.contains("import FoundationEssentials") }
            #expect(imports.isEmpty, "Sources/\(module)/\(file): \(imports)")
        }
    }
}
