/// The coordinator refused a call: its HTTP status and the message it gave. Carried as the
/// `underlying` of the BerthError a call throws, for programs that switch on the status.
public struct HTTPStatusError: Error, Sendable, CustomStringConvertible {
    public var status: Int
    public var body: String

    public init(status: Int, body: String) {
        self.status = status
        self.body = body
    }

    public var description: String { "HTTP \(status): \(body)" }
}
