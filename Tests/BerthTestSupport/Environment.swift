import Foundation
import Testing

/// What the machine offers the tests that drive real kernels. Outside CI a missing piece skips the
/// test with its reason; under CI=true the test runs anyway, so a missing piece fails it instead of
/// hiding behind a skip.
public enum TestHost {
    public static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"
    public static let isRoot = geteuid() == 0
    /// Set inside ../shared/tools/cgroup2-vm by the VM test, so the same suite runs on cgroup v2.
    public static let insideCgroup2VM = ProcessInfo.processInfo.environment["BERTH_IN_CGROUP2_VM"] == "1"

    /// The package root, found from this file's location.
    public static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }()

    /// The directory holding the built products (berth, berth-bench): beside the test bundle.
    public static let productsDirectory: URL = {
        if let override = ProcessInfo.processInfo.environment["BERTH_PRODUCTS"] {
            return URL(fileURLWithPath: override)
        }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent()
    }()

    public static var berthBinary: String { productsDirectory.appendingPathComponent("berth").path }

    /// The full path of a program found on PATH, or nil.
    public static func which(_ program: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(program)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    public static var cgroup2VMTool: String {
        packageRoot.deletingLastPathComponent().appendingPathComponent("shared/tools/cgroup2-vm").path
    }
}

extension Trait where Self == ConditionTrait {
    /// For tests that need root (namespaces, mounts, cgroups).
    public static var requiresRoot: Self {
        .enabled(if: TestHost.isCI || TestHost.isRoot, "needs root: namespaces, mounts and cgroups")
    }

    /// For tests that run a local OCI registry and build fixture images.
    public static var requiresRegistry: Self {
        .enabled(if: TestHost.isCI || TestHost.which("docker-registry") != nil, "needs docker-registry, umoci and skopeo")
    }

    /// For tests that boot a pure cgroup v2 kernel with ../shared/tools/cgroup2-vm.
    public static var requiresCgroup2VM: Self {
        .enabled(
            if: !TestHost.insideCgroup2VM
                && (TestHost.isCI || (TestHost.isRoot && FileManager.default.isExecutableFile(atPath: TestHost.cgroup2VMTool))),
            "needs root and ../shared/tools/cgroup2-vm (a pure cgroup v2 kernel under QEMU)")
    }
}
