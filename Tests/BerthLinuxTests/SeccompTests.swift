import BerthCore
import Testing

@testable import BerthLinux

@Suite struct SeccompCompilerTests {
    static let small = SeccompFilterSpec(
        defaultAction: .errno(1),
        rules: [
            SeccompRule(names: ["read", "write", "exit_group"], action: .allow),
            SeccompRule(names: ["personality"], action: .allow, arguments: [.init(index: 0, value: 0, op: .equalTo)]),
            SeccompRule(names: ["clone3"], action: .errno(38)),
            SeccompRule(names: ["clone"], action: .allow, arguments: [.init(index: 0, value: 0x7E02_0000, valueTwo: 0, op: .maskedEqual)]),
        ])

    @Test func compilesToWholeInstructions() throws {
        let program = try SeccompCompiler.compile(Self.small)
        #expect(!program.bytes.isEmpty)
        #expect(program.bytes.count % 8 == 0)
        #expect(program.instructionCount == program.bytes.count / 8)
    }

    @Test func compilingTwiceGivesTheSameBytes() throws {
        #expect(try SeccompCompiler.compile(Self.small) == SeccompCompiler.compile(Self.small))
    }

    @Test func unknownSyscallNamesAreSkipped() throws {
        var withUnknown = Self.small
        withUnknown.rules.append(SeccompRule(names: ["berth_no_such_syscall"], action: .allow))
        withUnknown.rules[0].names.append("another_made_up_call")
        #expect(try SeccompCompiler.compile(withUnknown) == SeccompCompiler.compile(Self.small))
    }

    @Test func rulesRepeatingTheDefaultActionAreSkipped() throws {
        var spec = Self.small
        spec.rules.append(SeccompRule(names: ["mount"], action: .errno(1)))
        #expect(try SeccompCompiler.compile(spec) == SeccompCompiler.compile(Self.small))
    }

    @Test func subArchitecturesAddCode() throws {
        var multi = Self.small
        multi.architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_X86"]
        let native = try SeccompCompiler.compile(Self.small)
        let program = try SeccompCompiler.compile(multi)
        #expect(program.instructionCount > native.instructionCount)
    }

    @Test func theFilterDoesWhatTheRulesSay() throws {
        let program = try SeccompCompiler.compile(Self.small)
        #expect(try program.action(for: "read") == .allow)
        #expect(try program.action(for: "mount") == .errno(1))
        #expect(try program.action(for: "clone3") == .errno(38))
        #expect(try program.action(for: "personality", arguments: [0]) == .allow)
        #expect(try program.action(for: "personality", arguments: [0x0040_0000]) == .errno(1))
        #expect(try program.action(for: "clone", arguments: [0x0120_0011 /* fork: CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD */]) == .allow)
        #expect(try program.action(for: "clone", arguments: [0x2000_0000 /* CLONE_NEWPID */]) == .errno(1))
    }

    @Test func anArchitectureOutsideTheFilterIsKilled() throws {
        let program = try SeccompCompiler.compile(Self.small)
        // libseccomp's default bad-architecture action kills the thread.
        #expect(try program.action(for: "read", architecture: "SCMP_ARCH_X86") == .killThread)
        var multi = Self.small
        multi.architectures = ["SCMP_ARCH_X86"]
        #expect(try SeccompCompiler.compile(multi).action(for: "read", architecture: "SCMP_ARCH_X86") == .allow)
    }

    @Test(arguments: [
        SeccompAction.allow, .errno(13), .killThread, .killProcess, .trap, .trace(7), .log,
    ])
    func everyActionRoundTrips(action: SeccompAction) throws {
        let spec = SeccompFilterSpec(
            defaultAction: action == .allow ? .errno(1) : .allow,
            rules: [SeccompRule(names: ["getpid"], action: action)])
        #expect(try SeccompCompiler.compile(spec).action(for: "getpid") == action)
    }

    @Test(arguments: [
        (SeccompArgument.Op.notEqual, [(5, false), (6, true)]),
        (.lessThan, [(4, true), (5, false)]),
        (.lessOrEqual, [(5, true), (6, false)]),
        (.equalTo, [(5, true), (4, false)]),
        (.greaterOrEqual, [(5, true), (4, false)]),
        (.greaterThan, [(6, true), (5, false)]),
    ] as [(SeccompArgument.Op, [(UInt64, Bool)])])
    func comparisons(op: SeccompArgument.Op, cases: [(UInt64, Bool)]) throws {
        let spec = SeccompFilterSpec(
            defaultAction: .errno(1),
            rules: [SeccompRule(names: ["socket"], action: .allow, arguments: [.init(index: 0, value: 5, op: op)])])
        let program = try SeccompCompiler.compile(spec)
        for (argument, allowed) in cases {
            #expect(try program.action(for: "socket", arguments: [argument]) == (allowed ? .allow : .errno(1)), "\(op) \(argument)")
        }
    }

    @Test(arguments: [
        (SeccompFilterSpec(defaultAction: .errno(1), architectures: ["SCMP_ARCH_NOPE"], rules: []), "SCMP_ARCH_NOPE"),
        (SeccompFilterSpec(defaultAction: .errno(1), architectures: ["x86_64"], rules: []), "not a libseccomp name"),
        (SeccompFilterSpec(defaultAction: .errno(5000), rules: []), "errno 5000 is out of range"),
        (SeccompFilterSpec(defaultAction: .allow, rules: [.init(names: ["ptrace"], action: .trace(70000))]), "trace message 70000"),
        (SeccompFilterSpec(defaultAction: .allow, rules: [.init(names: ["ioctl"], action: .errno(1), arguments: [.init(index: 6, value: 0, op: .equalTo)])]), "argument index 6 is out of range"),
        (
            SeccompFilterSpec(defaultAction: .allow, rules: [
                .init(names: ["socket"], action: .errno(1), arguments: [.init(index: 0, value: 38, op: .notEqual), .init(index: 0, value: 40, op: .notEqual)]),
            ]), "compares argument 0 twice"
        ),
    ])
    func errorsNameTheProblem(spec: SeccompFilterSpec, expected: String) {
        #expect {
            try SeccompCompiler.compile(spec)
        } throws: { error in
            guard let error = error as? BerthError else { return false }
            return error.code == .seccomp && error.message.contains(expected)
        }
    }
}

@Suite struct SeccompProgramCacheTests {
    @Test func compilesOnceAndReturnsTheCachedProgram() throws {
        let cache = SeccompProgramCache()
        let spec = SeccompCompilerTests.small
        #expect(cache.cached(spec) == nil)
        let first = try cache.program(for: spec)
        #expect(cache.count == 1)
        #expect(cache.cached(spec) == first)
        #expect(try cache.program(for: spec) == first)
        #expect(cache.count == 1)

        var other = spec
        other.defaultAction = .errno(13)
        #expect(try cache.program(for: other) != first)
        #expect(cache.count == 2)

        cache.removeAll()
        #expect(cache.count == 0)
    }

    @Test func isSafeUnderConcurrentUse() async throws {
        let cache = SeccompProgramCache()
        let spec = SeccompCompilerTests.small
        let programs = try await withThrowingTaskGroup(of: SeccompProgram.self) { group in
            for _ in 0..<16 { group.addTask { try cache.program(for: spec) } }
            return try await group.reduce(into: [SeccompProgram]()) { $0.append($1) }
        }
        #expect(Set(programs).count == 1)
        #expect(cache.count == 1)
    }
}

@Suite struct SeccompEvaluatorTests {
    @Test func rejectsUnknownNamesAndTooManyArguments() throws {
        let program = try SeccompCompiler.compile(SeccompCompilerTests.small)
        #expect(throws: BerthError.self) { try program.action(for: "berth_no_such_syscall") }
        #expect(throws: BerthError.self) { try program.action(for: "read", arguments: [0, 0, 0, 0, 0, 0, 0]) }
    }

    @Test func aProgramWithoutReturnIsAnError() {
        // One "ld [0]" and nothing after it.
        let program = SeccompProgram(bytes: [0x20, 0, 0, 0, 0, 0, 0, 0])
        #expect(throws: BerthError.self) { try program.evaluate(number: 0, auditArchitecture: 0) }
    }
}
