import BerthCore
import Foundation

/// Finding and running the programs a benchmark needs, outside the timed part.
enum Tool {
    /// Runs `argv` (argv[0] a path or a name in PATH) and returns its stdout; stderr passes
    /// through so a failing setup step explains itself. Throws unless it exits 0.
    @discardableResult
    static func capture(_ argv: [String]) throws -> String {
        guard let first = argv.first else { throw BerthError(.invalidArgument, "no command to run") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: first.contains("/") ? first : try find(first))
        process.arguments = Array(argv.dropFirst())
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw BerthError(.launch, "run \(argv.joined(separator: " ")): \(error.localizedDescription)")
        }
        // Read before waiting: a child with more output than the pipe holds would block forever.
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            throw BerthError(.launch, "\(argv.joined(separator: " ")) failed with status \(process.terminationStatus)")
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The absolute path of `name` in PATH. The sbin directories are searched too, because runc
    /// lives in /usr/sbin, which a non-login root shell or sudo may leave out of PATH.
    static func find(_ name: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/local/sbin", "/usr/sbin", "/sbin"]
        for directory in directories where !directory.isEmpty {
            let candidate = directory + "/" + name
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw BerthError(.notFound, "\(name) not found in PATH or the sbin directories")
    }

    /// The directory holding this executable.
    static func executableDirectory() throws -> String {
        let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        return (exe as NSString).deletingLastPathComponent
    }

    /// `given` (--berth), else the berth beside this executable, resolved. With `needsFull`, the
    /// command runs more than `berth run --rootfs`, which only berth-full beside berth has.
    static func locateBerth(_ given: String?, needsFull: Bool = false) throws -> String {
        let path = try given ?? executableDirectory() + "/berth"
        guard access(path, X_OK) == 0 else {
            if given != nil { throw BerthError(.notFound, "--berth \(path): not an executable file") }
            throw BerthError(.notFound, """
                no berth beside berth-bench (\(path)): build it with `swift build -c release --product berth` \
                using the same scratch path, or pass --berth PATH
                """)
        }
        let resolved = try resolve(path, what: "berth binary")
        let full = (resolved as NSString).deletingLastPathComponent + "/berth-full"
        if needsFull, access(full, X_OK) != 0 {
            throw BerthError(.notFound, """
                no berth-full beside \(resolved): build it with `swift build -c release --product berth-full` \
                using the same scratch path (berth hands every command but `run --rootfs` to it)
                """)
        }
        return resolved
    }

    /// Runs one of the package's scripts (rootfs/build.sh, rootfs/image.sh) and returns the path
    /// it prints as its last line. The package is `packageRoot`, else found above this executable.
    static func packageScriptPath(_ script: String, packageRoot: String?, what: String) throws -> String {
        let root: String
        if let packageRoot {
            root = packageRoot
        } else {
            guard let found = Self.packageRoot(above: try executableDirectory()) else {
                throw BerthError(.notFound, "no Package.swift above this executable: pass --package-root DIR")
            }
            root = found
        }
        let path = root + "/" + script
        guard access(path, X_OK) == 0 else {
            throw BerthError(.notFound, "\(path) is missing or not executable: pass --package-root DIR")
        }
        let output = try capture([path])
        guard let last = output.split(separator: "\n").last(where: { !$0.allSatisfy(\.isWhitespace) }) else {
            throw BerthError(.invalidState, "\(path) printed no path")
        }
        return try resolve(last.trimmingWhitespace(), what: "\(what) from \(path)")
    }

    /// The nearest directory at or above `start` that holds a Package.swift.
    static func packageRoot(above start: String) -> String? {
        var directory = start
        while true {
            if FileManager.default.fileExists(atPath: directory + "/Package.swift") { return directory }
            let parent = (directory as NSString).deletingLastPathComponent
            if parent == directory || parent.isEmpty { return nil }
            directory = parent
        }
    }

    /// An absolute, symlink-free path to an existing file or directory.
    static func resolve(_ path: String, what: String) throws -> String {
        guard let resolved = realpath(path, nil) else {
            throw BerthError(.notFound, "\(what) \(path): \(Errno.message(errno))")
        }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// "debug" or "release" from SwiftPM's output layout (.build/release/berth,
    /// .build/x86_64-unknown-linux-gnu/debug/berth), "unknown" for a binary copied elsewhere.
    static func buildConfiguration(of path: String) -> String {
        if path.contains("/release/") { return "release" }
        if path.contains("/debug/") { return "debug" }
        return "unknown"
    }

    /// "dynamic" when the binary asks the dynamic loader for libswiftCore.so (the default),
    /// "static" when it was linked with --static-swift-stdlib. The soname appears in the file
    /// only as a DT_NEEDED entry, so a byte search is enough and costs one mapped read.
    static func swiftStdlibLinkage(of path: String) -> String {
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) else { return "unknown" }
        return data.range(of: Data("libswiftCore.so".utf8)) == nil ? "static" : "dynamic"
    }

    /// The 1-minute load average, as a string from /proc/loadavg.
    static func loadAverage() -> String {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "unknown" }
        return text.split(separator: " ").first.map(String.init) ?? "unknown"
    }

    static func kernelRelease() -> String {
        var name = utsname()
        guard uname(&name) == 0 else { return "unknown" }
        return withUnsafeBytes(of: name.release) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }
}
