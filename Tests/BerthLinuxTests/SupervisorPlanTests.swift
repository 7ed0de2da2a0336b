import BerthCore
import BerthLinux
import Glibc
import Testing

/// The plan the agent hands to `berth-supervise`, read back through the supervisor's own C
/// decoder: what it would launch must be exactly what the agent planned.
@Suite("Supervisor launch plans")
struct SupervisorPlanTests {
    static func sampleSpec() throws -> LaunchSpec {
        var spec = LaunchSpec()
        spec.namespaces = [.mount, .uts, .ipc, .pid, .cgroup]
        spec.ops = [
            .mount("make mounts private", source: nil, target: "/", flags: UInt(MS_REC) | UInt(MS_PRIVATE)),
            .mount("mount /proc", source: "proc", target: "/r/proc", fstype: "proc", flags: UInt(MS_NOSUID), data: "hidepid=0"),
            SetupOp(.mkdir, label: "create /r/dev/pts", target: "/r/dev/pts", mode: 0o755),
            SetupOp(.mask, label: "mask /proc/kcore", target: "/proc/kcore", optional: true),
            SetupOp(.setHostname, label: "set the hostname", source: "täsk-1"),
            SetupOp(.pivotRoot, label: "pivot_root into /r", target: "/r"),
        ]
        spec.argv = ["/bin/sh", "-c", "echo 'hello world'", ""]
        spec.env = ["PATH=/bin", "EMPTY=", "MESOS_TASK_ID=a b"]
        spec.searchPath = "/usr/bin:/bin"
        spec.uid = 1000
        spec.gid = 100
        spec.groups = [10, 20, 30]
        spec.capabilities = try CapabilitySet.dockerDefault()
        spec.boundingSet = try CapabilitySet.dockerDefault()
        spec.noNewPrivileges = true
        spec.seccomp = SeccompProgram(bytes: (0..<64).map { UInt8($0) })
        spec.newSession = true
        spec.parentDeathSignal = SIGKILL
        return spec
    }

    @Test func whatTheSupervisorDecodesIsWhatTheAgentPlanned() throws {
        let spec = try Self.sampleSpec()
        let plan = SupervisorPlan(spec: spec, cloneCgroup: nil,
                                  joinFiles: ["/sys/fs/cgroup/cpu/berth-x/tasks", "/sys/fs/cgroup/memory/berth-x/tasks"])
        let decoded = try SupervisorPlan.decode(try plan.encoded())
        #expect(decoded.spec.namespaces == spec.namespaces)
        #expect(decoded.spec.ops == spec.ops)
        #expect(decoded.spec.argv == spec.argv)
        #expect(decoded.spec.env == spec.env)
        #expect(decoded.spec.searchPath == spec.searchPath)
        #expect(decoded.spec.uid == 1000 && decoded.spec.gid == 100)
        #expect(decoded.spec.groups == [10, 20, 30])
        #expect(decoded.spec.capabilities == spec.capabilities)
        #expect(decoded.spec.boundingSet == spec.boundingSet)
        #expect(decoded.spec.noNewPrivileges)
        #expect(decoded.spec.seccomp == spec.seccomp)
        #expect(decoded.spec.newSession)
        #expect(decoded.spec.parentDeathSignal == SIGKILL)
        #expect(decoded.cloneCgroup == nil)
        #expect(decoded.joinFiles == plan.joinFiles)
    }

    @Test func aPlanWithoutCapabilitiesOrFilterLeavesThemAlone() throws {
        var spec = LaunchSpec()
        spec.argv = ["true"]
        spec.noNewPrivileges = false
        let decoded = try SupervisorPlan.decode(try SupervisorPlan(spec: spec, cloneCgroup: "/sys/fs/cgroup/berth-y",
                                                                   joinFiles: ["/sys/fs/cgroup/berth-y/cgroup.procs"]).encoded())
        #expect(decoded.spec.capabilities == nil)
        #expect(decoded.spec.boundingSet == nil)
        #expect(decoded.spec.seccomp == nil)
        #expect(!decoded.spec.noNewPrivileges)
        #expect(decoded.cloneCgroup == "/sys/fs/cgroup/berth-y")
    }

    @Test func everyTruncationAndAForeignFileAreRefused() throws {
        let bytes = try SupervisorPlan(spec: try Self.sampleSpec(), cloneCgroup: nil, joinFiles: ["/c/tasks"]).encoded()
        for length in stride(from: 0, to: bytes.count, by: 7) {
            #expect(throws: SystemError.self, "\(length) of \(bytes.count) bytes") { try SupervisorPlan.decode(Array(bytes.prefix(length))) }
        }
        #expect(throws: SystemError.self) { try SupervisorPlan.decode(bytes + [0]) }
        var foreign = bytes
        foreign[3] = UInt8(ascii: "9")
        #expect(throws: SystemError.self) { try SupervisorPlan.decode(foreign) }
        // A count far beyond the bytes that follow must not be believed (nor allocated).
        var huge = bytes
        let opCountOffset = 4 + 7 * 4 + 4 + 8 + 4 + Int(CapabilitySet.lastCapability) + 1
        for index in 0..<4 { huge[opCountOffset + index] = 0xff }
        #expect(throws: SystemError.self) { try SupervisorPlan.decode(huge) }
    }

    @Test func aPlanWithoutACommandIsNotWritten() {
        #expect(throws: BerthError.self) { try SupervisorPlan(spec: LaunchSpec(), cloneCgroup: nil, joinFiles: []).encoded() }
    }
}
