import BerthCore
import BerthRunCLI
import Glibc

/// Hands the command line to `berth-full`, the executable with every subcommand.
enum FullCommand {
    static let name = "berth-full"

    /// `berth-full` in the directory of this executable (symbolic links resolved, so a link to
    /// berth in /usr/local/bin finds the real directory).
    static func path() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return name }
        let executable = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let slash = executable.lastIndex(of: "/") else { return name }
        return String(executable[...slash]) + name
    }

    /// Replaces this process with `berth-full` and the same arguments; returns only by exiting 125
    /// with what went wrong.
    static func exec(_ arguments: [String]) -> Never {
        let target = path()
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        execv(target, argv)
        let code = errno
        Terminal.error("cannot run \(target): \(Errno.name(code)) (\(Errno.message(code))). Every command but `berth run --rootfs` "
                       + "is in \(name), which must be installed beside berth: build it with `swift build --product \(name)`")
        exit(125)
    }
}
