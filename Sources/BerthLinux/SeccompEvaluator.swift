import BerthCore
import CSeccomp

extension SeccompProgram {
    /// What this filter does to one system call, found by running its BPF on a `seccomp_data` the
    /// way the kernel would. For tests and for explaining a denial ("why does mount fail?") without
    /// loading the filter into a process.
    ///
    /// `architecture` is a libseccomp name ("SCMP_ARCH_X86"); nil means the native one.
    public func action(
        for syscall: String, arguments: [UInt64] = [], architecture: String? = nil
    ) throws -> SeccompAction {
        let arch = try architecture.map(SeccompCompiler.architectureToken) ?? seccomp_arch_native()
        let number = seccomp_syscall_resolve_name_arch(arch, syscall)
        // Negative numbers are libseccomp's placeholders for calls this architecture lacks.
        guard number >= 0 else {
            let on = architecture ?? "the native architecture"
            throw BerthError(.seccomp, "\(syscall) is not a system call on \(on) for this libseccomp")
        }
        let verdict = try evaluate(number: number, auditArchitecture: arch, arguments: arguments)
        return try Self.action(fromReturnValue: verdict)
    }

    /// Runs the classic BPF program on `struct seccomp_data { int nr; u32 arch; u64 ip; u64 args[6]; }`
    /// and returns the filter's 32-bit return value.
    public func evaluate(
        number: Int32, auditArchitecture: UInt32, arguments: [UInt64] = [], instructionPointer: UInt64 = 0
    ) throws -> UInt32 {
        guard arguments.count <= 6 else {
            throw BerthError(.invalidArgument, "a system call has at most 6 arguments, got \(arguments.count)")
        }
        // The kernel fills seccomp_data in native byte order; BPF loads native 32-bit words.
        var data: [UInt32] = [UInt32(bitPattern: number), auditArchitecture]
        func append(_ value: UInt64) {
            let low = UInt32(truncatingIfNeeded: value), high = UInt32(truncatingIfNeeded: value >> 32)
            #if _endian(little)
            data += [low, high]
            #else
            data += [high, low]
            #endif
        }
        append(instructionPointer)
        for index in 0..<6 { append(index < arguments.count ? arguments[index] : 0) }

        let count = instructionCount
        var accumulator: UInt32 = 0, index: UInt32 = 0
        var scratch = [UInt32](repeating: 0, count: 16)
        var pc = 0
        while pc < count {
            let (code, jt, jf, k) = instruction(at: pc)
            pc += 1
            func fail(_ what: String) -> BerthError {
                BerthError(.seccomp, "BPF instruction \(pc - 1) (code 0x\(String(code, radix: 16))): \(what)")
            }
            switch code & 0x07 {
            case 0x00, 0x01:  // LD, LDX
                let value: UInt32
                switch code & 0xe0 {
                case 0x00: value = k  // IMM
                case 0x20:  // ABS: 32-bit word at byte offset k of seccomp_data
                    guard code & 0x18 == 0, k % 4 == 0, Int(k / 4) < data.count else { throw fail("load outside seccomp_data") }
                    value = data[Int(k / 4)]
                case 0x60:  // MEM
                    guard k < 16 else { throw fail("scratch slot \(k)") }
                    value = scratch[Int(k)]
                case 0x80: value = UInt32(data.count * 4)  // LEN
                default: throw fail("unsupported load mode")
                }
                if code & 0x07 == 0x00 { accumulator = value } else { index = value }
            case 0x02, 0x03:  // ST, STX
                guard k < 16 else { throw fail("scratch slot \(k)") }
                scratch[Int(k)] = code & 0x07 == 0x02 ? accumulator : index
            case 0x04:  // ALU
                let operand = code & 0x08 == 0 ? k : index
                switch code & 0xf0 {
                case 0x00: accumulator &+= operand
                case 0x10: accumulator &-= operand
                case 0x20: accumulator &*= operand
                case 0x30: guard operand != 0 else { throw fail("division by zero") }; accumulator /= operand
                case 0x40: accumulator |= operand
                case 0x50: accumulator &= operand
                case 0x60: accumulator = operand >= 32 ? 0 : accumulator << operand
                case 0x70: accumulator = operand >= 32 ? 0 : accumulator >> operand
                case 0x80: accumulator = 0 &- accumulator
                case 0x90: guard operand != 0 else { throw fail("division by zero") }; accumulator %= operand
                case 0xa0: accumulator ^= operand
                default: throw fail("unsupported ALU operation")
                }
            case 0x05:  // JMP
                let operand = code & 0x08 == 0 ? k : index
                let taken: Bool
                switch code & 0xf0 {
                case 0x00: pc += Int(k); continue  // JA
                case 0x10: taken = accumulator == operand
                case 0x20: taken = accumulator > operand
                case 0x30: taken = accumulator >= operand
                case 0x40: taken = accumulator & operand != 0
                default: throw fail("unsupported jump")
                }
                pc += Int(taken ? jt : jf)
            case 0x06:  // RET
                return code & 0x18 == 0x10 ? accumulator : k
            default:  // MISC: TAX, TXA
                if code & 0xf8 == 0x80 { accumulator = index } else { index = accumulator }
            }
        }
        throw BerthError(.seccomp, "BPF program ran past its end without returning")
    }

    private func instruction(at index: Int) -> (code: UInt16, jt: UInt8, jf: UInt8, k: UInt32) {
        bytes.withUnsafeBytes { raw in
            let base = index * 8
            return (
                raw.loadUnaligned(fromByteOffset: base, as: UInt16.self),
                raw[base + 2], raw[base + 3],
                raw.loadUnaligned(fromByteOffset: base + 4, as: UInt32.self))
        }
    }

    /// SECCOMP_RET_* values back to an action.
    static func action(fromReturnValue value: UInt32) throws -> SeccompAction {
        let data = Int32(value & 0xffff)
        switch value & 0xffff_0000 {
        case 0x7fff_0000: return .allow
        case 0x0005_0000: return .errno(data)
        case 0x0000_0000: return .killThread
        case 0x8000_0000: return .killProcess
        case 0x0003_0000: return .trap
        case 0x7ff0_0000: return .trace(data)
        case 0x7ffc_0000: return .log
        default: throw BerthError(.seccomp, "filter returned 0x\(String(value, radix: 16)), an action Berth does not model")
        }
    }
}
