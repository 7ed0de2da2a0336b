import BerthCore
import CBerthShim
import Glibc

/// A launch another process performs: the whole `LaunchSpec` and the cgroup to start the child
/// in, as bytes that `berth-supervise` hands to the C launcher (`berth_spawn_plan_decode`). The
/// agent builds it, so starting a container execs no Swift program.
///
/// Layout, native byte order (writer and reader are on the same host): "BSP2"; u32 clone flags,
/// unshare cgroup, new session, parent death signal, uid, gid, no_new_privs; u32 has
/// capabilities, u64 their mask; i32 last capability (-1: bounding set left alone) and that many
/// + 1 bytes, 1 to keep; u32 op count, each op i32 kind, i32 flags, u64 mount flags, u32 mode and
/// the strings label, source, target, fstype, data; u32 argc and strings; u32 envc and strings;
/// string PATH; u32 group count and u32 each; u32 seccomp instruction count and 8 bytes each;
/// string cgroup to clone into; u32 count and strings of files the child writes "0" into to join
/// its cgroup when it was not cloned into it. A string is a u32 length (UInt32.max: none), its
/// bytes and a NUL. stdio is not part of it: the supervisor decides.
public struct SupervisorPlan: Sendable {
    public var spec: LaunchSpec
    /// cgroup v2: the directory the kernel starts the child in (clone3), when it can.
    public var cloneCgroup: String?
    /// What the child writes "0" into to join its cgroup when it was not started in it
    /// (`Cgroup.selfJoinFiles`).
    public var joinFiles: [String]

    public init(spec: LaunchSpec, cloneCgroup: String?, joinFiles: [String]) {
        self.spec = spec
        self.cloneCgroup = cloneCgroup
        self.joinFiles = joinFiles
    }

    public func encoded() throws -> [UInt8] {
        guard let first = spec.argv.first, !first.isEmpty else {
            throw BerthError(.invalidArgument, "no command given: say what to run")
        }
        var out: [UInt8] = Array("BSP2".utf8)
        out.reserveCapacity(4096 + (spec.seccomp?.bytes.count ?? 0))
        func u32(_ value: UInt32) { withUnsafeBytes(of: value) { out.append(contentsOf: $0) } }
        func i32(_ value: Int32) { u32(UInt32(bitPattern: value)) }
        func u64(_ value: UInt64) { withUnsafeBytes(of: value) { out.append(contentsOf: $0) } }
        func string(_ value: String?) {
            guard let value else { return u32(.max) }
            let bytes = Array(value.utf8)
            u32(UInt32(bytes.count))
            out += bytes
            out.append(0)
        }
        func strings(_ values: [String]) {
            u32(UInt32(values.count))
            values.forEach(string)
        }

        i32(spec.namespaces.subtracting(.cgroup).rawValue)
        u32(spec.namespaces.contains(.cgroup) ? 1 : 0)
        u32(spec.newSession ? 1 : 0)
        i32(spec.parentDeathSignal)
        u32(spec.uid)
        u32(spec.gid)
        u32(spec.noNewPrivileges ? 1 : 0)
        u32(spec.capabilities == nil ? 0 : 1)
        u64(spec.capabilities?.mask ?? 0)
        if let bounding = spec.boundingSet {
            i32(CapabilitySet.lastCapability)
            out += (0...CapabilitySet.lastCapability).map { bounding.values.contains($0) ? 1 : 0 }
        } else {
            i32(-1)
        }
        u32(UInt32(spec.ops.count))
        for op in spec.ops {
            i32(op.kind.rawValue)
            i32(op.optional ? BERTH_OP_OPTIONAL : 0)
            u64(UInt64(op.mountFlags))
            u32(op.mode)
            string(op.label)
            string(op.source)
            string(op.target)
            string(op.fstype)
            string(op.data)
        }
        strings(spec.argv)
        strings(spec.env)
        string(spec.searchPath)
        u32(UInt32(spec.groups.count))
        spec.groups.forEach(u32)
        let filter = spec.seccomp?.bytes ?? []
        u32(UInt32(filter.count / 8))
        out += filter
        string(cloneCgroup)
        strings(joinFiles)
        return out
    }

    /// Reads a plan back through the supervisor's own decoder: what `berth-supervise` would run.
    public static func decode(_ bytes: [UInt8]) throws -> SupervisorPlan {
        var plan = berth_spawn_plan()
        let result = bytes.withUnsafeBufferPointer { berth_spawn_plan_decode($0.baseAddress, $0.count, &plan) }
        guard result == 0 else { throw SystemError("decode a supervisor plan", errno: result) }
        defer { berth_spawn_plan_free(&plan) }
        func text(_ pointer: UnsafePointer<CChar>?) -> String? { pointer.map { String(cString: $0) } }
        func list(_ pointer: UnsafePointer<UnsafePointer<CChar>?>?, _ count: Int) -> [String] {
            (0..<count).compactMap { text(pointer?[$0]) }
        }
        func terminatedList(_ pointer: UnsafePointer<UnsafePointer<CChar>?>?) -> [String] {
            var values: [String] = []
            while let value = pointer?[values.count] { values.append(String(cString: value)) }
            return values
        }
        let c = plan.config
        var spec = LaunchSpec()
        spec.namespaces = Namespaces(rawValue: c.clone_flags)
        if c.unshare_cgroup != 0 { spec.namespaces.insert(.cgroup) }
        spec.newSession = c.new_session != 0
        spec.parentDeathSignal = c.parent_death_signal
        spec.uid = c.uid
        spec.gid = c.gid
        spec.noNewPrivileges = c.no_new_privs != 0
        if plan.has_capabilities != 0 {
            spec.capabilities = CapabilitySet(values: Set((0..<64).filter { plan.capability_mask & (1 << UInt64($0)) != 0 }.map(Int32.init)))
        }
        if c.cap_last >= 0, let keep = c.bounding_keep {
            spec.boundingSet = CapabilitySet(values: Set((0...c.cap_last).filter { keep[Int($0)] != 0 }))
        }
        spec.ops = (0..<c.op_count).compactMap { index -> SetupOp? in
            guard let op = c.ops?[index], let kind = SetupOp.Kind(rawValue: op.kind) else { return nil }
            return SetupOp(kind, label: text(op.label) ?? "", source: text(op.source), target: text(op.target),
                           fstype: text(op.fstype), data: text(op.data), mountFlags: UInt(op.mount_flags), mode: op.mode,
                           optional: op.flags & BERTH_OP_OPTIONAL != 0)
        }
        spec.argv = terminatedList(c.argv)
        spec.env = terminatedList(c.envp)
        spec.searchPath = text(c.path) ?? ""
        spec.groups = (0..<c.group_count).compactMap { c.groups?[$0] }
        if let filter = c.seccomp_filter {
            spec.seccomp = SeccompProgram(bytes: Array(UnsafeRawBufferPointer(start: filter, count: c.seccomp_filter_len * 8)))
        }
        return SupervisorPlan(spec: spec, cloneCgroup: text(plan.clone_cgroup),
                              joinFiles: list(plan.cgroup_join_files, plan.cgroup_join_count))
    }
}
