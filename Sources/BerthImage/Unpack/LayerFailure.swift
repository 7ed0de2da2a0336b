import BerthCore

/// A reason a layer cannot be applied, before the image and layer are known: the unpacker
/// prefixes the message with them ("image X, layer 2/3 (sha256:…): …").
struct LayerFailure: Error {
    var message: String
    /// Set for failed system calls, so the unpacker can tell a full disk from other failures.
    var errno: Int32?

    init(_ message: String, errno: Int32? = nil) {
        self.message = message
        self.errno = errno
    }

    /// A system call that failed on an entry: "entry "usr/bin/x": write: EIO (Input/output error)".
    static func system(_ step: String, entry: String, errno: Int32) -> LayerFailure {
        LayerFailure("entry \(quoted: entry): \(SystemError(step, errno: errno))", errno: errno)
    }

    /// An entry the layer must not contain: "entry "a/../../x" climbs out of the image root; the layer is rejected".
    static func rejected(_ entry: String, _ problem: String) -> LayerFailure {
        LayerFailure("entry \(quoted: entry) \(problem); the layer is rejected")
    }
}

extension String.StringInterpolation {
    /// A tar name in double quotes, with quotes, backslashes and control characters escaped so a
    /// hostile name cannot forge the rest of a log line.
    mutating func appendInterpolation(quoted name: String) {
        var escaped = "\""
        for scalar in name.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7f:
                escaped += "\\u{\(String(scalar.value, radix: 16))}"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        appendLiteral(escaped + "\"")
    }
}
