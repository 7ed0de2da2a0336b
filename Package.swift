// swift-tools-version: 6.0
import PackageDescription

// Module layout and import direction follow ../shared/DESIGN.md: only BerthLinux touches the C
// targets; BerthRuntime composes Linux + Cgroups into containers; the CLI is thin.

// Swift's static-stdlib link adds -export-dynamic, which puts every symbol of the 190 MB program
// into its dynamic symbol table: 4 MB that the loader and dladdr walk at every start. Nothing here
// looks its own symbols up. `berth --version`: 11.2 -> 7.3 ms CPU (docs/benchmarks.md).
// The C++ runtime the Swift runtime needs goes in statically too: loading libstdc++.so meant
// about 3,300 symbol look-ups at every start, 0.5 ms of each `berth run` (docs/benchmarks.md).
// The driver's own -lstdc++ flags come after anything given here, so the link finds libstdc++.a
// first through link/ (a symbolic link to Debian 12's GCC 12 copy; where that is missing the
// linker goes on to libstdc++.so, as before). libgcc's unwinder likewise, ahead of -lgcc_s.
let executableLinking: [LinkerSetting] = [.unsafeFlags([
    "-Xlinker", "--no-export-dynamic",
    "-L", Context.packageDirectory + "/link",
    "-Xlinker", "-Bstatic", "-Xlinker", "-lgcc_eh", "-Xlinker", "-Bdynamic",
])]

// The modules `berth run` links (Sources/berth/main.swift): an extension member of Foundation
// proper, visible only because a dependency imports Foundation, would link all of Foundation and
// ICU into that executable. With this feature a module sees only what it imports itself, and
// these import FoundationEssentials.
let runPathSettings: [SwiftSetting] = [.enableUpcomingFeature("MemberImportVisibility")]

let package = Package(
    name: "Berth",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "berth", targets: ["berth"]),
        // Every subcommand but `berth run --rootfs`; `berth` execs it from its own directory.
        .executable(name: "berth-full", targets: ["berth-full"]),
        .executable(name: "berth-bench", targets: ["berth-bench"]),
        .executable(name: "berth-supervise", targets: ["berth-supervise"]),
        .executable(name: "berth-example-launcher", targets: ["berth-example-launcher"]),
        // The framework SDK, for Swift frameworks outside this package.
        .library(name: "BerthFramework", targets: ["BerthFramework"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.21.0"),
        // Already there for async-http-client; named so the registry client's NIO imports are declared.
        .package(url: "https://github.com/apple/swift-nio", from: "2.65.0"),
        // The coordinator's HTTP API and its long-running loops.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
        // Already there for Hummingbird; named so the coordinator tests' HTTPTypes import is declared.
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        // Already there for Hummingbird; named for the coordinator's agent endpoint in its pipeline.
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.20.0"),
        // The coordinator's state: SQLite (the system's libsqlite3) through GRDB.
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        // GET /metrics of the coordinator and the agent in Prometheus' text format.
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .target(name: "CBerthShim", linkerSettings: [.linkedLibrary("cap")]),
        // One per running container, as its parent, so containers outlive the agent (docs/agent.md).
        // Plain C: its memory must stay small. It starts the container with the C launcher from a
        // plan the agent built, so no Swift program is exec'd per container. Linked statically,
        // libc included: loading libstdc++, libm, libgcc_s and libcap made its start 1.4 ms
        // instead of 0.35 (docs/benchmarks.md, "Launch"). The link's warning about dlopen in
        // libswiftCore.a concerns code this C program never reaches.
        .executableTarget(name: "berth-supervise", dependencies: ["CBerthShim"], linkerSettings: [.unsafeFlags(["-static-executable"])]),
        .systemLibrary(name: "CSeccomp", pkgConfig: "libseccomp", providers: [.apt(["libseccomp-dev"])]),
        .systemLibrary(name: "CCap", pkgConfig: "libcap", providers: [.apt(["libcap-dev"])]),
        // Compression libraries for image layers: used by BerthImage only.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        // <sys/xattr.h>, part of libc: for layer unpacking's extended attributes.
        .systemLibrary(name: "CXattr"),
        // <sys/epoll.h>, part of libc: berth-bench's simulated agents, thousands of sockets on one thread.
        .systemLibrary(name: "CEpoll"),
        .target(name: "BerthCore", swiftSettings: runPathSettings),
        // Pure: a snapshot in, offers out; no clock, no I/O (DESIGN.md).
        .target(name: "BerthAllocator", dependencies: ["BerthCore"]),
        // Wire types only: Mesos v1 scheduler JSON, agent<->coordinator messages, RecordIO.
        .target(name: "BerthProtocol", dependencies: ["BerthCore"]),
        // Mesos-style metric snapshots and their Prometheus text: the coordinator's and the agent's.
        .target(name: "BerthMetrics", dependencies: [.product(name: "Prometheus", package: "swift-prometheus")]),
        .target(name: "BerthCoordinator", dependencies: [
            "BerthCore", "BerthProtocol", "BerthAllocator", "BerthMetrics",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOExtras", package: "swift-nio-extras"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        // The start of the framework SDK: a scheduler API client over async-http-client.
        .target(name: "BerthFramework", dependencies: [
            "BerthCore", "BerthProtocol",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "BerthOCI", dependencies: ["BerthCore", .product(name: "Crypto", package: "swift-crypto")], swiftSettings: runPathSettings),
        .target(name: "BerthImage", dependencies: [
            "BerthCore", "BerthOCI", "CZlib", "CZstd", "CXattr",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "BerthLinux", dependencies: ["BerthCore", "CBerthShim", "CSeccomp", "CCap"], swiftSettings: runPathSettings),
        .target(name: "BerthCgroups", dependencies: [
            "BerthCore", "BerthLinux", .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: runPathSettings),
        .target(name: "BerthRuntime", dependencies: [
            "BerthCore", "BerthLinux", "BerthCgroups", .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: runPathSettings),
        // `berth run`'s options and foreground run, shared by `berth` (--rootfs) and `berth-full` (images).
        .target(name: "BerthRunCLI", dependencies: [
            "BerthCore", "BerthLinux", "BerthCgroups", "BerthRuntime", .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: runPathSettings),
        // The agent daemon: registration, task launch through the runtime, status updates. It reads
        // the coordinator's RecordIO stream with the SDK's reader (BerthFramework).
        .target(name: "BerthAgent", dependencies: [
            "BerthCore", "BerthProtocol", "BerthRuntime", "BerthImage", "BerthCgroups", "BerthLinux", "BerthOCI", "BerthFramework",
            "BerthMetrics",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // `berth run --rootfs` in a small executable; the rest is handed to berth-full.
        .executableTarget(name: "berth", dependencies: ["BerthCore", "BerthRunCLI"], swiftSettings: runPathSettings,
                          linkerSettings: executableLinking),
        .executableTarget(name: "berth-full", dependencies: [
            "BerthRunCLI", "BerthCore", "BerthRuntime", "BerthCgroups", "BerthLinux", "BerthOCI", "BerthImage", "BerthCoordinator", "BerthAgent",
            "BerthFramework", "BerthProtocol",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], linkerSettings: executableLinking),
        // examples/launcher: a framework written with the SDK (README, "Writing a framework").
        .executableTarget(name: "berth-example-launcher", dependencies: ["BerthCore", "BerthFramework", "BerthProtocol"],
                          path: "examples/launcher", linkerSettings: executableLinking),
        .executableTarget(name: "berth-bench", dependencies: [
            "BerthCore", "BerthOCI", "BerthImage", "BerthAllocator", "BerthAgent", "BerthCoordinator", "BerthFramework", "BerthProtocol", "CEpoll",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            // The failover benchmark's simulated agents: plain channel handlers on one event loop.
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], linkerSettings: executableLinking),
        .target(name: "BerthTestSupport", dependencies: ["BerthCore"], path: "Tests/BerthTestSupport"),
        .testTarget(name: "BerthCoreTests", dependencies: ["BerthCore"]),
        // The CLI's own logic, tested in-process (the executable target is importable in tests).
        .testTarget(name: "BerthCLITests", dependencies: ["berth-full", "BerthAgent", "BerthCore", "BerthImage", "BerthRunCLI", "BerthTestSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .testTarget(name: "BerthAllocatorTests", dependencies: ["BerthAllocator", "BerthCore"]),
        .testTarget(name: "BerthProtocolTests", dependencies: ["BerthProtocol", "BerthCore"]),
        .testTarget(name: "BerthCoordinatorTests", dependencies: [
            "BerthTestSupport", "BerthCoordinator", "BerthFramework", "BerthProtocol", "BerthAllocator", "BerthCore",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "BerthAgentTests", dependencies: [
            "BerthTestSupport", "BerthAgent", "BerthCoordinator", "BerthFramework", "BerthProtocol", "BerthImage", "BerthOCI", "BerthCore",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "BerthOCITests", dependencies: ["BerthOCI", "BerthCore"]),
        .testTarget(name: "BerthImageTests", dependencies: [
            "BerthTestSupport", "BerthImage", "BerthOCI", "BerthCore", "CXattr", .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"), .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .testTarget(name: "BerthLinuxTests", dependencies: ["BerthTestSupport", "BerthLinux", "BerthCore"]),
        .testTarget(name: "BerthCgroupsTests", dependencies: ["BerthTestSupport", "BerthCgroups", "BerthCore"]),
        .testTarget(name: "BerthRuntimeTests", dependencies: ["BerthTestSupport", "BerthRuntime", "BerthCgroups", "BerthLinux", "BerthCore"]),
    ]
)
