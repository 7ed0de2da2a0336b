import BerthTestSupport
import Foundation
import Testing

/// Runs the real-kernel suites again inside a pure cgroup v2 kernel (../shared/tools/cgroup2-vm),
/// so the v2 driver is exercised on every CI run even on hybrid hosts such as this one.
@Suite("cgroup v2 kernel")
struct CgroupV2VMTests {
    static let suitesToRun = "RunRootTests|CgroupKernelTests|CgroupV2KernelTests"

    @Test(.requiresCgroup2VM, .timeLimit(.minutes(30)))
    func realKernelSuitesPassOnPureCgroupV2() throws {
        _ = try Fixtures.busyboxRootfs()
        let testBinary = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let result = try Fixtures.run(
            "/bin/bash",
            ["-c", "cd \"$1\" && exec \"$2\" --mem 3072 --timeout 1500 -- env BERTH_IN_CGROUP2_VM=1 CI=true \"$3\" --testing-library swift-testing --filter \"$4\"",
             "vm", TestHost.packageRoot.path, TestHost.cgroup2VMTool, testBinary, Self.suitesToRun])
        let output = result.stdout + result.stderr
        #expect(result.status == 0, "tests inside the cgroup v2 VM failed:\n\(output.suffix(6000))")
        #expect(!output.contains("skipped"), "a test was skipped inside the VM:\n\(output.suffix(3000))")
        // Every test of those suites, not just some: 24 berth run tests and 6 cgroup kernel tests.
        let passed = output.split(separator: "\n").filter { $0.contains("Test ") && $0.contains("passed after") && !$0.contains("Test run") }
        #expect(passed.count >= 30, "only \(passed.count) tests passed inside the VM:\n\(output.suffix(3000))")
    }
}
