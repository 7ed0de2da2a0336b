import BerthCgroups
import BerthCore
import Testing

@Suite("cgroup CPU conversion")
struct CgroupCPUConversionTests {
    @Test("quota per 100 ms period", arguments: [
        (0.5, 50_000), (1, 100_000), (1.5, 150_000), (2.25, 225_000), (0.01, 1_000), (0.333, 33_300), (64, 6_400_000),
    ])
    func cgroupQuota(cpus: Double, quota: Int) {
        #expect(CPUConversion.quota(cpus: cpus) == quota)
    }

    @Test("quota with another period")
    func cgroupQuotaOtherPeriod() {
        #expect(CPUConversion.quota(cpus: 0.5, period: 50_000) == 25_000)
    }

    @Test("quota never traps on values validation would reject", arguments: [Double.nan, .infinity, -1, 0, 1e300])
    func cgroupQuotaClamps(cpus: Double) {
        #expect(CPUConversion.quota(cpus: cpus) >= 1)
    }

    @Test("shares: 1024 per CPU, at least 2, at most 262144", arguments: [
        (0.5, 512), (1, 1024), (2, 2048), (0.25, 256), (0.001, 2), (0.0015, 2), (300, 262_144),
    ])
    func cgroupShares(cpus: Double, shares: Int) {
        #expect(CPUConversion.shares(cpus: cpus) == shares)
    }

    @Test("weight from shares, as runc converts", arguments: [
        (2, 1), (512, 20), (1024, 39), (2048, 79), (262_144, 10_000), (1, 1), (1_000_000, 10_000),
    ])
    func cgroupWeight(shares: Int, weight: Int) {
        #expect(CPUConversion.weight(shares: shares) == weight)
    }
}

@Suite("cgroup limits validation")
struct CgroupLimitsValidationTests {
    @Test("accepted", arguments: [
        CgroupLimits(),
        CgroupLimits(cpus: 0.5, memoryBytes: 32 << 20, pids: 20),
        CgroupLimits(cpus: 0.01),
        CgroupLimits(memoryBytes: 6 << 20),
        CgroupLimits(pids: 1),
        CgroupLimits(cpus: 256, memoryBytes: 1 << 40, pids: 4_194_304),
    ])
    func cgroupLimitsAccepted(limits: CgroupLimits) throws {
        try limits.validate()
    }

    @Test("rejected, saying what to give instead", arguments: [
        (CgroupLimits(cpus: 0), "--cpus"),
        (CgroupLimits(cpus: -1), "not a positive number"),
        (CgroupLimits(cpus: .nan), "not a positive number"),
        (CgroupLimits(cpus: .infinity), "not a positive number"),
        (CgroupLimits(cpus: 0.001), "smallest share"),
        (CgroupLimits(cpus: 1e9), "more than"),
        (CgroupLimits(memoryBytes: 1 << 20), "at least 6 MiB"),
        (CgroupLimits(memoryBytes: 0), "--memory 6m"),
        (CgroupLimits(memoryBytes: -5), "-5 bytes"),
        (CgroupLimits(pids: 0), "--pids 1"),
        (CgroupLimits(pids: -3), "--pids 1"),
        (CgroupLimits(pids: 5_000_000), "maximum"),
    ])
    func cgroupLimitsRejected(limits: CgroupLimits, hint: String) {
        let error = #expect(throws: BerthError.self) { try limits.validate() }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains(hint) == true, "\(error?.message ?? "")")
    }

    @Test("required controllers follow the limits")
    func cgroupRequiredControllers() {
        #expect(CgroupLimits().requiredControllers == [])
        #expect(CgroupLimits(cpus: 1, pids: 5).requiredControllers == ["cpu", "pids"])
        #expect(CgroupLimits(memoryBytes: 8 << 20).requiredControllers == ["memory"])
    }

    @Test("description for logs")
    func cgroupLimitsDescription() {
        #expect(CgroupLimits().description == "unlimited")
        #expect(CgroupLimits(cpus: 0.5, memoryBytes: 32 << 20, pids: 20).description == "cpus 0.5, memory 32 MiB, pids 20")
    }
}
