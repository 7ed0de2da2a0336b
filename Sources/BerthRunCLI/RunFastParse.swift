extension RunOptions {
    /// `berth run`'s arguments read without ArgumentParser, or nil to leave them to it.
    ///
    /// Why: ArgumentParser builds its picture of a command by reflecting over the command's
    /// properties, and each of the Swift runtime's first protocol-conformance checks scans every
    /// conformance record in this large binary. That took 4.8 ms of a 17 ms `berth run`
    /// (docs/benchmarks.md). This reads the forms it is sure of: `--name value`, `--name=value`,
    /// `-e`/`-w`/`-u value`, the two flags, each single-valued option at most once, then the
    /// command as ArgumentParser captures it (from the first argument that is not an option, or
    /// from `--`, verbatim). Anything else (help, an unknown or repeated option, a value it cannot
    /// convert or that starts with `-`, arguments `validate()` refuses) returns nil, and
    /// ArgumentParser parses the whole line as before, with its messages. The two readings are
    /// compared in `RunFastParseTests`.
    public static func parseFast(_ arguments: ArraySlice<String>) -> RunOptions? {
        var options = RunOptions()
        // An array: a Set's storage would be the run's first Hashable conformance look-up (PathText).
        var seen: [String] = []
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            guard argument.hasPrefix("-"), argument != "--" else {
                options.command = Array(arguments[index...])
                break
            }
            var name = argument
            var value: String?
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                value = String(argument[argument.index(after: equals)...])
            }
            guard let option = Self.fastOption(name) else { return nil }
            if case .flag(let set) = option {
                guard value == nil, !seen.contains(name) else { return nil }
                seen.append(name)
                set(&options)
                index += 1
                continue
            }
            if value == nil {
                index += 1
                guard index < arguments.endIndex, !arguments[index].hasPrefix("-") else { return nil }
                value = arguments[index]
            }
            guard let value else { return nil }
            switch option {
            case .single(let canonical, let set):
                guard !seen.contains(canonical), set(&options, value) else { return nil }
                seen.append(canonical)
            case .repeated(let append):
                append(&options, value)
            case .flag:
                return nil
            }
            index += 1
        }
        guard (try? options.validate()) != nil else { return nil }
        return options
    }

    /// Whether `--help` or `-h` comes among the options, before the image or `--`. ArgumentParser
    /// cannot tell: `berth run` captures its command for passthrough, options included, so it took
    /// `berth run --help` for an image named "--help".
    public static func asksForHelp(_ arguments: ArraySlice<String>) -> Bool {
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            if argument == "--help" || argument == "-h" { return true }
            guard argument.hasPrefix("-"), argument != "--" else { return false }
            switch fastOption(argument) {
            case .single?, .repeated?: index += 2 // the option and its value
            default: index += 1
            }
        }
        return false
    }

    private enum FastOption: Sendable {
        case flag(@Sendable (inout RunOptions) -> Void)
        /// Sets the value; false when it cannot be converted. `canonical` names the option
        /// whichever spelling was used, so a second one is caught.
        case single(canonical: String, @Sendable (inout RunOptions, String) -> Bool)
        case repeated(@Sendable (inout RunOptions, String) -> Void)

        /// A string option: taken as it is.
        static func text(_ canonical: String, _ set: @escaping @Sendable (inout RunOptions, String) -> Void) -> FastOption {
            .single(canonical: canonical) { options, value in
                set(&options, value)
                return true
            }
        }
    }

    /// The option a name spells, by a plain switch: a dictionary of them, built at the first
    /// use, was itself a visible part of the start.
    private static func fastOption(_ name: String) -> FastOption? {
        switch name {
        case "--rootfs": .text("--rootfs") { $0.rootfs = $1 }
        case "--home": .text("--home") { $0.home = $1 }
        case "--pull": .single(canonical: "--pull") { options, value in
                guard let policy = PullPolicy(rawValue: value) else { return false }
                options.pull = policy
                return true
            }
        case "--entrypoint": .text("--entrypoint") { $0.entrypoint = $1 }
        case "--insecure": .flag { $0.insecure = true }
        case "--cpus": .single(canonical: "--cpus") { options, value in
                guard let cpus = Double(value) else { return false }
                options.cpus = cpus
                return true
            }
        case "--memory": .text("--memory") { $0.memory = $1 }
        case "--pids": .single(canonical: "--pids") { options, value in
                guard let pids = Int(value) else { return false }
                options.pids = pids
                return true
            }
        case "--network": .text("--network") { $0.network = $1 }
        case "--hostname": .text("--hostname") { $0.hostname = $1 }
        case "--env", "-e": .repeated { $0.env.append($1) }
        case "--workdir", "-w": .text("--workdir") { $0.workdir = $1 }
        case "--user", "-u": .text("--user") { $0.user = $1 }
        case "--read-only": .flag { $0.readOnly = true }
        case "--cap-add": .repeated { $0.capAdd.append($1) }
        case "--cap-drop": .repeated { $0.capDrop.append($1) }
        case "--seccomp": .text("--seccomp") { $0.seccomp = $1 }
        case "--stop-timeout": .single(canonical: "--stop-timeout") { options, value in
                guard let seconds = Int(value) else { return false }
                options.stopTimeout = seconds
                return true
            }
        case "--log-level": .text("--log-level") { $0.logLevel = $1 }
        default: nil
        }
    }
}
