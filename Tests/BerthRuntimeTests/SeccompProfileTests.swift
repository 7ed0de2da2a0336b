import BerthCore
import BerthLinux
import Foundation
import Testing

@testable import BerthRuntime

/// Docker's default capability set.
private let dockerCaps: Set<String> = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
]

private let everyCap: Set<String> = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
    "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
]

/// Names the filter allows whatever their arguments.
private func allowed(_ spec: SeccompFilterSpec) -> Set<String> {
    Set(spec.rules.filter { $0.action == .allow && $0.arguments.isEmpty }.flatMap(\.names))
}

private func parse(_ json: String) throws -> SeccompProfile {
    try SeccompProfile.parse(Data(json.utf8), source: "test.json")
}

@Suite struct SeccompProfileParsingTests {
    @Test func readsDockerFormat() throws {
        let profile = try parse("""
            {
              "defaultAction": "SCMP_ACT_ERRNO",
              "defaultErrnoRet": 1,
              "archMap": [
                {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
                {"architecture": "SCMP_ARCH_RISCV64", "subArchitectures": null}
              ],
              "syscalls": [
                {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW", "args": [], "comment": "", "includes": {}, "excludes": {}},
                {"name": "ptrace", "action": "SCMP_ACT_ALLOW", "args": null, "includes": {"minKernel": "4.8"}},
                {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}],
                 "excludes": {"caps": ["CAP_SYS_ADMIN"], "arches": ["s390", "s390x"]}},
                {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38, "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
                {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"], "arches": ["amd64"]}}
              ]
            }
            """)
        #expect(profile.defaultAction == .errno)
        #expect(profile.defaultErrnoRet == 1)
        #expect(profile.architectures.isEmpty)
        #expect(profile.archMap == [
            .init(architecture: "SCMP_ARCH_X86_64", subArchitectures: ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]),
            .init(architecture: "SCMP_ARCH_RISCV64"),
        ])
        #expect(profile.syscalls.count == 5)
        #expect(profile.syscalls[0] == .init(names: ["read", "write"], action: .allow, comment: ""))
        #expect(profile.syscalls[1] == .init(names: ["ptrace"], action: .allow, includes: .init(minKernel: KernelVersion(major: 4, minor: 8))))
        #expect(profile.syscalls[2].args == [.init(index: 0, value: 0x7E02_0000, valueTwo: 0, op: .maskedEqual)])
        #expect(profile.syscalls[2].excludes == .init(caps: ["CAP_SYS_ADMIN"], arches: ["s390", "s390x"]))
        #expect(profile.syscalls[3].action == .errno)
        #expect(profile.syscalls[3].errnoRet == 38)
        #expect(profile.syscalls[4].includes == .init(caps: ["CAP_SYS_ADMIN"], arches: ["amd64"]))
    }

    @Test func readsOCIFormat() throws {
        let profile = try parse("""
            {
              "defaultAction": "SCMP_ACT_KILL_PROCESS",
              "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
              "flags": ["SECCOMP_FILTER_FLAG_LOG"],
              "syscalls": [
                {"names": ["read", "exit_group"], "action": "SCMP_ACT_ALLOW"},
                {"names": ["getcwd"], "action": "SCMP_ACT_ERRNO", "errnoRet": 2},
                {"names": ["socket"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 1, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]},
                {"names": ["ptrace"], "action": "SCMP_ACT_TRACE", "errnoRet": 3},
                {"names": ["uname"], "action": "SCMP_ACT_LOG"}
              ]
            }
            """)
        #expect(profile.defaultAction == .killProcess)
        #expect(profile.defaultErrnoRet == nil)
        #expect(profile.architectures == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"])
        #expect(profile.flags == ["SECCOMP_FILTER_FLAG_LOG"])

        let spec = profile.filterSpec(capabilities: [])
        #expect(spec.defaultAction == .killProcess)
        #expect(spec.architectures == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"])
        #expect(spec.rules == [
            SeccompRule(names: ["read", "exit_group"], action: .allow),
            SeccompRule(names: ["getcwd"], action: .errno(2)),
            SeccompRule(names: ["socket"], action: .allow, arguments: [.init(index: 0, value: 1, op: .equalTo), .init(index: 1, value: 1, op: .equalTo)]),
            SeccompRule(names: ["ptrace"], action: .trace(3)),
            SeccompRule(names: ["uname"], action: .log),
        ])
        let program = try SeccompCompiler.compile(spec)
        #expect(try program.action(for: "getcwd") == .errno(2))
        #expect(try program.action(for: "socket", arguments: [1, 1]) == .allow)
        #expect(try program.action(for: "socket", arguments: [1, 2]) == .killProcess)
        #expect(try program.action(for: "mount") == .killProcess)
    }

    @Test func errnoDefaultsToEPERM() throws {
        let profile = try parse(#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mount"], "action": "SCMP_ACT_ERRNO"}]}"#)
        let spec = profile.filterSpec(capabilities: [])
        #expect(spec.rules == [SeccompRule(names: ["mount"], action: .errno(1))])
        let bare = try parse(#"{"defaultAction": "SCMP_ACT_ERRNO"}"#)
        #expect(bare.filterSpec(capabilities: []).defaultAction == .errno(1))
        #expect(bare.syscalls.isEmpty)
    }

    static let syscallsWithBadAction = """
        {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
          {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
          {"names": ["write"], "action": "SCMP_ACT_ALLOW"},
          {"names": ["close"], "action": "SCMP_ACT_ALLOW"},
          {"names": ["mount"], "action": "SCMP_ACT_FOO"}
        ]}
        """

    @Test(arguments: [
        ("{", "test.json: not valid JSON: Unexpected end of file"),
        ("{\"defaultAction\": \"SCMP_ACT_ERRNO\" \"syscalls\": []}", "test.json: not valid JSON: Unexpected character '\"' at line 1, column 36"),
        ("[]", "test.json: expected an object"),
        (syscallsWithBadAction,
         #"test.json: syscalls[3].action: unknown action "SCMP_ACT_FOO"; accepted: SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL, SCMP_ACT_KILL_THREAD, SCMP_ACT_KILL_PROCESS, SCMP_ACT_TRAP, SCMP_ACT_TRACE, SCMP_ACT_LOG"#),
        (#"{"defaultAction": "SCMP_ACT_DENY"}"#, #"test.json: defaultAction: unknown action "SCMP_ACT_DENY"; accepted: SCMP_ACT_ALLOW"#),
        (#"{"defaultAction": "SCMP_ACT_NOTIFY"}"#, "user notification is not supported"),
        (#"{"syscalls": []}"#, "test.json: defaultAction: missing"),
        (#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 1, "op": "SCMP_CMP_FOO"}]}]}"#,
         #"test.json: syscalls[0].args[1].op: unknown operator "SCMP_CMP_FOO"; accepted: SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ"#),
        (#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["ioctl"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}"#,
         "test.json: syscalls[0].args[0].index: 6 is out of range; a system call has arguments 0 to 5"),
        (#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["ioctl"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": -1, "op": "SCMP_CMP_EQ"}]}]}"#,
         "test.json: syscalls[0].args[0].value: expected an integer from 0 to 18446744073709551615"),
        (#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["ioctl"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1.5, "value": 1, "op": "SCMP_CMP_EQ"}]}]}"#,
         "test.json: syscalls[0].args[0].index: expected an integer from 0 to 4294967295"),
        (#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["ioctl"], "action": "SCMP_ACT_ALLOW", "args": [{"value": 1, "op": "SCMP_CMP_EQ"}]}]}"#,
         "test.json: syscalls[0].args[0].index: missing"),
        (#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["ioctl"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1}]}]}"#,
         "test.json: syscalls[0].args[0].op: missing"),
        (#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": "read", "action": "SCMP_ACT_ALLOW"}]}"#,
         "test.json: syscalls[0].names: expected an array"),
        (#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"name": "read", "names": ["write"], "action": "SCMP_ACT_ALLOW"}]}"#,
         "test.json: syscalls[0].name: use either name or names, not both"),
        (#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": [], "action": "SCMP_ACT_ALLOW"}]}"#,
         "test.json: syscalls[0].names: no system call names"),
        (#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"]}]}"#, "test.json: syscalls[0].action: missing"),
        (#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "errnoRet": 1}]}"#,
         "test.json: syscalls[0].errnoRet: only used with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, but the action is SCMP_ACT_ALLOW"),
        (#"{"defaultAction": "SCMP_ACT_ALLOW", "defaultErrnoRet": 1}"#, "test.json: defaultErrnoRet: only used with"),
        (#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 5000}"#, "test.json: defaultErrnoRet: 5000 is out of range; use 0 to 4095"),
        (#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "four"}}]}"#,
         #"test.json: syscalls[0].includes.minKernel: "four" is not a kernel version like "4.8""#),
        (#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "4.8"}}]}"#,
         "test.json: syscalls[0].excludes: minKernel is only supported in includes"),
        (#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_FOO"]}"#,
         #"test.json: architectures[1]: unknown architecture "SCMP_ARCH_FOO"; accepted: SCMP_ARCH_X86_64, SCMP_ARCH_X86"#),
        (#"{"defaultAction": "SCMP_ACT_ERRNO", "archMap": [{"architecture": "amd64"}]}"#,
         #"test.json: archMap[0].architecture: unknown architecture "amd64""#),
        (#"{"defaultAction": "SCMP_ACT_ERRNO", "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["x86"]}]}"#,
         #"test.json: archMap[0].subArchitectures[0]: unknown architecture "x86""#),
        (#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"], "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]}"#,
         "test.json: archMap: use either architectures or archMap, not both"),
        (#"{"defaultAction": "SCMP_ACT_ERRNO", "flags": ["SECCOMP_FILTER_FLAG_FAST"]}"#,
         #"test.json: flags[0]: unknown flag "SECCOMP_FILTER_FLAG_FAST"; accepted: SECCOMP_FILTER_FLAG_TSYNC"#),
        (#"{"defaultAction": "SCMP_ACT_ERRNO", "listenerPath": "/run/notify.sock"}"#, "test.json: listenerPath: seccomp user notification"),
    ])
    func errorsNameTheFieldAndWhatIsAccepted(json: String, expected: String) {
        #expect {
            try parse(json)
        } throws: { error in
            guard let error = error as? BerthError, error.code == .invalidArgument else { return false }
            #expect(error.message.contains(expected), "\(error.message)")
            return true
        }
    }

    @Test func loadNamesTheFile() throws {
        let missing = "/nonexistent/berth/seccomp.json"
        #expect {
            try SeccompProfile.load(path: missing)
        } throws: { error in
            (error as? BerthError)?.message.hasPrefix("cannot read seccomp profile \(missing)") == true
        }

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("berth-seccomp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("profile.json")

        try Data(Self.syscallsWithBadAction.utf8).write(to: file)
        #expect {
            try SeccompProfile.load(path: file.path)
        } throws: { error in
            (error as? BerthError)?.message.hasPrefix("\(file.path): syscalls[3].action: unknown action") == true
        }

        try JSONEncoder().encode(SeccompProfile.dockerDefault).write(to: file)
        #expect(try SeccompProfile.load(path: file.path) == SeccompProfile.dockerDefault)
    }

    @Test func dockerDefaultRoundTripsThroughJSON() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json = try encoder.encode(SeccompProfile.dockerDefault)
        #expect(try SeccompProfile.parse(json, source: "default") == SeccompProfile.dockerDefault)
    }

    @Test(arguments: [("4.8", KernelVersion(major: 4, minor: 8)), ("6.18.44-fc-v669", .init(major: 6, minor: 18)), ("5.10.0-28-amd64", .init(major: 5, minor: 10))])
    func kernelVersionsParse(text: String, expected: KernelVersion) {
        #expect(KernelVersion(text) == expected)
    }

    @Test(arguments: ["", "4", "four.8", "4.", "4.x"])
    func badKernelVersionsDoNotParse(text: String) {
        #expect(KernelVersion(text) == nil)
    }

    @Test func kernelVersionsOrder() {
        #expect(KernelVersion(major: 4, minor: 8) < KernelVersion(major: 4, minor: 10))
        #expect(KernelVersion(major: 4, minor: 19) < KernelVersion(major: 5, minor: 0))
        #expect(KernelVersion.running != nil)
    }
}

@Suite struct SeccompProfileResolutionTests {
    let profile = SeccompProfile.dockerDefault

    @Test func dockerDefaultCapsDenyAdministration() {
        let spec = profile.filterSpec(capabilities: dockerCaps, architecture: "amd64", kernel: .init(major: 6, minor: 1))
        let names = allowed(spec)
        for name in ["read", "write", "execve", "exit_group", "chroot", "arch_prctl", "modify_ldt", "name_to_handle_at", "ptrace"] {
            #expect(names.contains(name), "\(name) should be allowed")
        }
        for name in ["mount", "unshare", "setns", "bpf", "keyctl", "add_key", "request_key", "kexec_load", "reboot",
                     "init_module", "clone", "clone3", "io_uring_setup", "open_by_handle_at", "perf_event_open", "set_tls"] {
            #expect(!names.contains(name), "\(name) should not be allowed")
        }
        #expect(spec.defaultAction == .errno(1))
        #expect(spec.rules.contains(SeccompRule(names: ["clone3"], action: .errno(38))))
        #expect(spec.rules.contains(SeccompRule(names: ["clone"], action: .allow, arguments: [.init(index: 0, value: 0x7E02_0000, op: .maskedEqual)])))
        #expect(spec.architectures == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"])
    }

    @Test func sysAdminAllowsMountButNeverKeyctl() {
        let spec = profile.filterSpec(capabilities: dockerCaps.union(["CAP_SYS_ADMIN"]), architecture: "amd64", kernel: .init(major: 6, minor: 1))
        let names = allowed(spec)
        for name in ["mount", "unshare", "setns", "clone", "clone3", "bpf", "read", "write", "execve", "exit_group"] {
            #expect(names.contains(name), "\(name) should be allowed")
        }
        #expect(!names.contains("keyctl"))
        #expect(!spec.rules.contains { $0.names == ["clone3"] && $0.action == .errno(38) })
        #expect(!spec.rules.contains { $0.names == ["clone"] && !$0.arguments.isEmpty })
    }

    @Test func capabilitiesAreMatchedWithOrWithoutPrefix() {
        let spec = profile.filterSpec(capabilities: ["sys_admin", "SYS_BOOT"], architecture: "amd64")
        #expect(allowed(spec).isSuperset(of: ["mount", "reboot"]))
    }

    @Test func someCallsAreNeverAllowed() {
        let names = allowed(profile.filterSpec(capabilities: everyCap, architecture: "amd64", kernel: .init(major: 6, minor: 1)))
        for name in ["keyctl", "add_key", "request_key", "kexec_load", "kexec_file_load", "io_uring_setup", "io_uring_enter",
                     "swapon", "swapoff", "pivot_root", "userfaultfd", "_sysctl", "uselib", "ustat", "sysfs", "nfsservctl"] {
            #expect(!names.contains(name), "\(name) should never be allowed")
        }
        #expect(names.isSuperset(of: ["mount", "reboot", "init_module", "acct", "ptrace", "iopl", "settimeofday", "vhangup", "mbind", "syslog", "bpf", "perf_event_open"]))
    }

    @Test(arguments: [
        ("amd64", ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]),
        ("x86_64", ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]),
        ("SCMP_ARCH_AARCH64", ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]),
        ("riscv64", ["SCMP_ARCH_RISCV64"]),
        ("ppc64le", []),
        ("sparc64", []),
    ])
    func archMapPicksTheNativeEntry(architecture: String, expected: [String]) {
        #expect(profile.filterSpec(capabilities: [], architecture: architecture).architectures == expected)
    }

    @Test func architectureConditions() {
        let arm = allowed(profile.filterSpec(capabilities: [], architecture: "arm64"))
        #expect(arm.contains("set_tls"))
        #expect(!arm.contains("arch_prctl"))
        let s390 = profile.filterSpec(capabilities: [], architecture: "s390x")
        #expect(allowed(s390).contains("s390_runtime_instr"))
        #expect(s390.rules.contains(SeccompRule(names: ["clone"], action: .allow, arguments: [.init(index: 1, value: 0x7E02_0000, op: .maskedEqual)])))
        #expect(!s390.rules.contains { $0.names == ["clone"] && $0.arguments.first?.index == 0 })
    }

    @Test(arguments: [(nil, false), (KernelVersion(major: 4, minor: 4), false), (KernelVersion(major: 4, minor: 8), true), (KernelVersion(major: 6, minor: 1), true)])
    func minKernel(kernel: KernelVersion?, ptraceAllowed: Bool) {
        let names = allowed(profile.filterSpec(capabilities: dockerCaps, architecture: "amd64", kernel: kernel))
        #expect(names.contains("ptrace") == ptraceAllowed)
    }

    @Test func argumentsRepeatingAnIndexBecomeSeparateRules() throws {
        let profile = try parse("""
            {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [
              {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]}]}
            """)
        let spec = profile.filterSpec(capabilities: [])
        #expect(spec.rules == [
            SeccompRule(names: ["socket"], action: .allow, arguments: [.init(index: 0, value: 1, op: .equalTo)]),
            SeccompRule(names: ["socket"], action: .allow, arguments: [.init(index: 0, value: 2, op: .equalTo)]),
        ])
        let program = try SeccompCompiler.compile(spec)
        #expect(try program.action(for: "socket", arguments: [1]) == .allow)
        #expect(try program.action(for: "socket", arguments: [2]) == .allow)
        #expect(try program.action(for: "socket", arguments: [3]) == .errno(1))
    }
}

/// The expectations below use x86_64 system call names and the x86 sub-architecture.
@Suite(.enabled(if: SeccompArchitecture.native.goName == "amd64", "x86_64 expectations"))
struct SeccompDockerDefaultFilterTests {
    static let defaultSpec = SeccompProfile.dockerDefault.filterSpec(capabilities: dockerCaps, kernel: .init(major: 6, minor: 1))
    static let adminSpec = SeccompProfile.dockerDefault.filterSpec(capabilities: dockerCaps.union(["CAP_SYS_ADMIN"]), kernel: .init(major: 6, minor: 1))

    @Test func compilesReproducibly() throws {
        let program = try SeccompCompiler.compile(Self.defaultSpec)
        #expect(program.bytes.count % 8 == 0)
        #expect(program.instructionCount > 100)
        #expect(try SeccompCompiler.compile(Self.defaultSpec) == program)
    }

    /// Built as a binary tree over syscall numbers (`jgt` branches), which the kernel attaches in
    /// half the time of a linear list of `jeq` tests (SeccompCompiler.compile).
    @Test func theFilterIsATreeNotAList() throws {
        let program = try SeccompCompiler.compile(Self.defaultSpec)
        let jumpIfGreater: UInt16 = 0x25  // BPF_JMP | BPF_JGT | BPF_K
        let codes = stride(from: 0, to: program.bytes.count, by: 8).map { UInt16(program.bytes[$0]) | UInt16(program.bytes[$0 + 1]) << 8 }
        #expect(codes.filter { $0 == jumpIfGreater }.count > 100)
    }

    @Test func theCacheServesTheDefaultProfile() throws {
        let cache = SeccompProgramCache()
        let first = try cache.program(for: Self.defaultSpec)
        #expect(try cache.program(for: SeccompProfile.dockerDefault.filterSpec(capabilities: dockerCaps, kernel: .init(major: 6, minor: 1))) == first)
        #expect(cache.count == 1)
    }

    static let CLONE_NEWNS: UInt64 = 0x0002_0000
    static let CLONE_NEWUSER: UInt64 = 0x1000_0000
    static let forkFlags: UInt64 = 0x0120_0011
    static let threadFlags: UInt64 = 0x003D_0F00  // what glibc's pthread_create passes

    @Test(arguments: [
        ("read", [], SeccompAction.allow),
        ("write", [], .allow),
        ("execve", [], .allow),
        ("exit_group", [], .allow),
        ("mount", [], .errno(1)),
        ("umount2", [], .errno(1)),
        ("unshare", [], .errno(1)),
        ("setns", [], .errno(1)),
        ("bpf", [], .errno(1)),
        ("keyctl", [], .errno(1)),
        ("kexec_load", [], .errno(1)),
        ("reboot", [], .errno(1)),
        ("io_uring_setup", [], .errno(1)),
        ("clone", [forkFlags], .allow),
        ("clone", [threadFlags], .allow),
        ("clone", [forkFlags | CLONE_NEWNS], .errno(1)),
        ("clone", [forkFlags | CLONE_NEWUSER], .errno(1)),
        ("clone3", [], .errno(38)),
        ("socket", [2 /* AF_INET */], .allow),
        ("socket", [37], .allow),
        ("socket", [38 /* AF_ALG */], .errno(1)),
        ("socket", [39], .allow),
        ("socket", [40 /* AF_VSOCK */], .errno(1)),
        ("socket", [41], .allow),
        ("personality", [0], .allow),
        ("personality", [0xffff_ffff], .allow),
        ("personality", [0x0040_0000 /* READ_IMPLIES_EXEC */], .errno(1)),
        ("chroot", [], .allow),
        ("ptrace", [], .allow),
    ] as [(String, [UInt64], SeccompAction)])
    func dockerCapsFilter(syscall: String, arguments: [UInt64], expected: SeccompAction) throws {
        let program = try SeccompCompiler.compile(Self.defaultSpec)
        #expect(try program.action(for: syscall, arguments: arguments) == expected)
    }

    @Test(arguments: [
        ("mount", [], SeccompAction.allow),
        ("unshare", [], .allow),
        ("clone", [forkFlags | CLONE_NEWNS], .allow),
        ("clone3", [], .allow),
        ("keyctl", [], .errno(1)),
    ] as [(String, [UInt64], SeccompAction)])
    func sysAdminFilter(syscall: String, arguments: [UInt64], expected: SeccompAction) throws {
        let program = try SeccompCompiler.compile(Self.adminSpec)
        #expect(try program.action(for: syscall, arguments: arguments) == expected)
    }

    @Test(arguments: [
        ("read", SeccompAction.allow),
        ("socketcall", .allow),
        ("chown32", .allow),
        ("mount", .errno(1)),
        ("keyctl", .errno(1)),
    ] as [(String, SeccompAction)])
    func thirtyTwoBitCallsAreFilteredToo(syscall: String, expected: SeccompAction) throws {
        let program = try SeccompCompiler.compile(Self.defaultSpec)
        #expect(try program.action(for: syscall, architecture: "SCMP_ARCH_X86") == expected)
    }
}
