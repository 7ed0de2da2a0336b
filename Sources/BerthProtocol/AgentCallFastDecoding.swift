import BerthCore

/// A decoder for agent calls that does not go through Foundation's `JSONDecoder`: when 10,000
/// agents re-register at once, decoding their REGISTER bodies with it was about 40% of the
/// coordinator's CPU (generic containers and metadata look-ups per field).
///
/// It takes only the shapes agents send: ASCII text, strings without escapes, resources without
/// reservations, TEXT and SCALAR attributes, no health checks. For anything else, and for
/// anything malformed, it returns nil and the caller decodes with `MesosJSON.decode`, which
/// gives the same value or a precise error message. For every body it accepts it gives the
/// value the Codable path gives (`AgentCallFastDecodingTests` holds the two side by side).
extension AgentCall {
    public static func decodeFast(_ bytes: UnsafeRawBufferPointer) -> AgentCall? {
        guard let root = FastJSON.parse(bytes), case .object(let call) = root else { return nil }
        return try? AgentCall(fast: call)
    }

    init(fast call: FastJSON.Object) throws {
        guard let type = Kind(rawValue: try call.required("type").string()) else { throw FastJSON.Unsupported() }
        self.init(type: type)
        agentID = try call.optional("agent_id").map { AgentID(try $0.idValue()) }
        register = try call.optional("register").map { try Register(fast: $0.object()) }
        statusUpdate = try call.optional("status_update").map { try StatusUpdate(fast: $0.object()) }
    }
}

extension AgentCall.Register {
    init(fast register: FastJSON.Object) throws {
        self.init(hostname: try register.required("hostname").string(), resources: try Resources(fast: register.required("resources")))
        attributes = try register.optional("attributes").map { try $0.array().map { try Attribute(fast: $0.object()) } }
        tasks = try register.optional("tasks").map { try $0.array().map { try AgentCall.RunningTask(fast: $0.object()) } }
        version = try register.optional("version")?.string()
        ip = try register.optional("ip")?.string()
        port = try register.optional("port").map { Int(try $0.integer()) }
    }
}

extension AgentCall.RunningTask {
    init(fast running: FastJSON.Object) throws {
        self.init(frameworkID: FrameworkID(try running.required("framework_id").idValue()),
                  task: try TaskInfo(fast: running.required("task").object()),
                  status: try TaskStatus(fast: running.required("status").object()))
    }
}

extension AgentCall.StatusUpdate {
    init(fast update: FastJSON.Object) throws {
        self.init(frameworkID: FrameworkID(try update.required("framework_id").idValue()),
                  status: try TaskStatus(fast: update.required("status").object()))
    }
}

extension TaskInfo {
    init(fast task: FastJSON.Object) throws {
        // HealthCheck has its own decoding rules (unknown types kept): left to the Codable path.
        guard task.optional("health_check") == nil else { throw FastJSON.Unsupported() }
        self.init(name: try task.required("name").string(), taskID: TaskID(try task.required("task_id").idValue()),
                  agentID: AgentID(try task.required("agent_id").idValue()),
                  resources: try task.optional("resources").map { try Resources(fast: $0) } ?? Resources())
        command = try task.optional("command").map { try CommandInfo(fast: $0.object()) }
        container = task.optional("container")?.jsonValue
        executor = task.optional("executor")?.jsonValue
        killPolicy = try task.optional("kill_policy").map { try KillPolicy(fast: $0.object()) }
        labels = task.optional("labels")?.jsonValue
        discovery = task.optional("discovery")?.jsonValue
        data = try task.optional("data")?.string()
        maxCompletionTime = task.optional("max_completion_time")?.jsonValue
    }
}

extension CommandInfo {
    init(fast command: FastJSON.Object) throws {
        self.init(value: try command.optional("value")?.string(), shell: try command.optional("shell")?.bool(),
                  arguments: try command.optional("arguments").map { try $0.array().map { try $0.string() } },
                  environment: try command.optional("environment").map { environment in
                      Environment(variables: try environment.object().required("variables").array().map { item in
                          let variable = try item.object()
                          var result = Environment.Variable(name: try variable.required("name").string(), value: "")
                          result.type = try variable.optional("type")?.string()
                          result.value = try variable.optional("value")?.string()
                          return result
                      })
                  },
                  user: try command.optional("user")?.string())
        uris = command.optional("uris")?.jsonValue
    }
}

extension KillPolicy {
    init(fast policy: FastJSON.Object) throws {
        self.init(gracePeriod: try policy.optional("grace_period").map {
            DurationInfo(nanoseconds: try $0.object().required("nanoseconds").integer())
        })
    }
}

extension TaskStatus {
    init(fast status: FastJSON.Object) throws {
        guard let state = TaskState(rawValue: try status.required("state").string()) else { throw FastJSON.Unsupported() }
        self.init(taskID: TaskID(try status.required("task_id").idValue()), state: state)
        message = try status.optional("message")?.string()
        source = try status.optional("source").map {
            guard let source = StatusSource(rawValue: try $0.string()) else { throw FastJSON.Unsupported() }
            return source
        }
        reason = try status.optional("reason").map { Reason(rawValue: try $0.string()) }
        agentID = try status.optional("agent_id").map { AgentID(try $0.idValue()) }
        executorID = try status.optional("executor_id").map { ExecutorID(try $0.idValue()) }
        timestamp = try status.optional("timestamp")?.double()
        uuid = try status.optional("uuid")?.string()
        healthy = try status.optional("healthy")?.bool()
        data = try status.optional("data")?.string()
        labels = status.optional("labels")?.jsonValue
    }
}

extension Attribute {
    init(fast attribute: FastJSON.Object) throws {
        let name = try attribute.required("name").string()
        switch try attribute.required("type").string() {
        case "TEXT": self.init(name: name, value: try attribute.required("text").object().required("value").string())
        case "SCALAR":
            let number = try attribute.required("scalar").object().required("value").double()
            self.init(name: name, value: Scalar(rounding: number)?.description ?? String(number))
        default: throw FastJSON.Unsupported()
        }
    }
}

extension Resources {
    init(fast value: FastJSON.Value) throws {
        self.init(try value.array().map { item in
            let resource = try item.object()
            // Reservations (and the pre-1.4 role) carry validation the Codable path does.
            guard resource.optional("reservations") == nil, resource.optional("role") == nil else { throw FastJSON.Unsupported() }
            let name = try resource.required("name").string()
            switch try resource.required("type").string() {
            case "SCALAR":
                guard let amount = Scalar(rounding: try resource.required("scalar").object().required("value").double()), amount >= .zero else {
                    throw FastJSON.Unsupported()
                }
                return Resource(name: name, value: .scalar(amount))
            case "RANGES":
                let ranges: [ValueRange] = try resource.required("ranges").object().optional("range")?.array().map { item in
                    let range = try item.object()
                    let begin = try range.required("begin").integer()
                    let end = try range.required("end").integer()
                    guard begin >= 0, begin <= end else { throw FastJSON.Unsupported() }
                    return ValueRange(UInt64(begin), UInt64(end))
                } ?? []
                return Resource(name: name, value: .ranges(ValueRanges(ranges)))
            case "SET":
                let items: [String] = try resource.required("set").object().optional("item")?.array().map { try $0.string() } ?? []
                return Resource(name: name, value: .set(Set(items)))
            default:
                throw FastJSON.Unsupported()
            }
        })
    }
}

/// A small strict JSON reader for `decodeFast`: a tree of values, nil for anything it does not
/// take (non-ASCII bytes, escaped strings, duplicate keys, objects of more than 64 fields, deep
/// nesting, malformed input).
enum FastJSON {
    /// An object's fields in their order. Agents' objects have a handful of fields each: looking
    /// one up by comparing keys is cheaper than hashing into a dictionary built per object, which
    /// was half of this decoder's time.
    struct Object {
        /// Larger objects are left to the Codable path: duplicate keys are found by comparison.
        static let maximumFields = 64

        private(set) var fields: [(key: String, value: Value)] = []

        subscript(key: String) -> Value? {
            for field in fields where field.key == key { return field.value }
            return nil
        }

        /// Adds a field; false when the key is already there or the object is too large.
        mutating func add(_ key: String, _ value: Value) -> Bool {
            guard fields.count < Self.maximumFields, self[key] == nil else { return false }
            fields.append((key, value))
            return true
        }

        /// A field that must be there and not null, as `decode(_:forKey:)` has it.
        func required(_ key: String) throws -> Value {
            guard let value = self[key] else { throw Unsupported() }
            if case .null = value { throw Unsupported() }
            return value
        }

        /// An optional field: absent and null are both nil, as `decodeIfPresent` has it.
        func optional(_ key: String) -> Value? {
            guard let value = self[key] else { return nil }
            if case .null = value { return nil }
            return value
        }
    }

    indirect enum Value {
        case null
        case bool(Bool)
        /// The number, and its exact value when it was written as an integer that fits Int64.
        case number(Double, integer: Int64?)
        case string(String)
        case array([Value])
        case object(Object)

        /// The JSONValue the Codable path makes of the same text.
        var jsonValue: JSONValue {
            switch self {
            case .null: .null
            case .bool(let value): .bool(value)
            case .number(let value, _): .number(value)
            case .string(let value): .string(value)
            case .array(let items): .array(items.map(\.jsonValue))
            case .object(let object): .object(Dictionary(object.fields.map { ($0.key, $0.value.jsonValue) }) { first, _ in first })
            }
        }

        func string() throws -> String {
            guard case .string(let value) = self else { throw Unsupported() }
            return value
        }

        func bool() throws -> Bool {
            guard case .bool(let value) = self else { throw Unsupported() }
            return value
        }

        func double() throws -> Double {
            guard case .number(let value, _) = self else { throw Unsupported() }
            return value
        }

        func integer() throws -> Int64 {
            guard case .number(_, let integer?) = self else { throw Unsupported() }
            return integer
        }

        func array() throws -> [Value] {
            guard case .array(let items) = self else { throw Unsupported() }
            return items
        }

        func object() throws -> Object {
            guard case .object(let fields) = self else { throw Unsupported() }
            return fields
        }

        /// An ID object's `value`: `{"value": "..."}`.
        func idValue() throws -> String { try object().required("value").string() }
    }

    /// A shape the fast path leaves to the Codable path.
    struct Unsupported: Error {}

    static let maximumDepth = 64

    static func parse(_ bytes: UnsafeRawBufferPointer) -> Value? {
        var reader = Reader(bytes: bytes)
        guard let value = reader.value(depth: 0) else { return nil }
        reader.skipWhitespace()
        return reader.position == bytes.count ? value : nil
    }

    struct Reader {
        let bytes: UnsafeRawBufferPointer
        var position = 0

        var current: UInt8? { position < bytes.count ? bytes[position] : nil }

        mutating func skipWhitespace() {
            while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { position += 1 }
        }

        mutating func literal(_ text: StaticString) -> Bool {
            let count = text.utf8CodeUnitCount
            guard position + count <= bytes.count else { return false }
            for offset in 0..<count where bytes[position + offset] != text.utf8Start[offset] { return false }
            position += count
            return true
        }

        mutating func value(depth: Int) -> Value? {
            guard depth < FastJSON.maximumDepth else { return nil }
            skipWhitespace()
            guard let byte = current else { return nil }
            switch byte {
            case UInt8(ascii: "{"): return object(depth: depth)
            case UInt8(ascii: "["): return array(depth: depth)
            case UInt8(ascii: "\""): return string().map(Value.string)
            case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
            case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
            case UInt8(ascii: "n"): return literal("null") ? .null : nil
            default: return number()
            }
        }

        mutating func object(depth: Int) -> Value? {
            position += 1
            var fields = Object()
            skipWhitespace()
            if current == UInt8(ascii: "}") {
                position += 1
                return .object(fields)
            }
            while true {
                skipWhitespace()
                guard current == UInt8(ascii: "\""), let key = string() else { return nil }
                skipWhitespace()
                guard current == UInt8(ascii: ":") else { return nil }
                position += 1
                guard let value = value(depth: depth + 1), fields.add(key, value) else { return nil }
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","): position += 1
                case UInt8(ascii: "}"):
                    position += 1
                    return .object(fields)
                default: return nil
                }
            }
        }

        mutating func array(depth: Int) -> Value? {
            position += 1
            var items: [Value] = []
            skipWhitespace()
            if current == UInt8(ascii: "]") {
                position += 1
                return .array(items)
            }
            while true {
                guard let value = value(depth: depth + 1) else { return nil }
                items.append(value)
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","): position += 1
                case UInt8(ascii: "]"):
                    position += 1
                    return .array(items)
                default: return nil
                }
            }
        }

        /// A string of printable ASCII without escapes; nil for anything else.
        mutating func string() -> String? {
            position += 1
            let start = position
            while let byte = current {
                if byte == UInt8(ascii: "\"") {
                    let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
                    position += 1
                    return text
                }
                guard byte >= 0x20, byte < 0x80, byte != UInt8(ascii: "\\") else { return nil }
                position += 1
            }
            return nil
        }

        /// JSON's number grammar, strictly: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
        mutating func number() -> Value? {
            let start = position
            func digits() -> Int {
                let first = position
                while let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { position += 1 }
                return position - first
            }
            if current == UInt8(ascii: "-") { position += 1 }
            let leadingZero = current == UInt8(ascii: "0")
            let integerDigits = digits()
            guard integerDigits > 0, !(leadingZero && integerDigits > 1) else { return nil }
            var isInteger = true
            if current == UInt8(ascii: ".") {
                position += 1
                guard digits() > 0 else { return nil }
                isInteger = false
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                position += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
                guard digits() > 0 else { return nil }
                isInteger = false
            }
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
            guard let value = Double(text), value.isFinite else { return nil }
            return .number(value, integer: isInteger ? Int64(text) : nil)
        }
    }
}
