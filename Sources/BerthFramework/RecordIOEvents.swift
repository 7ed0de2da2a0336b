import AsyncHTTPClient
import BerthCore
import BerthProtocol
import Foundation
import NIOCore

/// A streaming HTTP response body read as RecordIO-framed JSON documents: Mesos' SUBSCRIBE
/// stream (and Berth's agent stream). Single pass, like the body it reads.
public struct RecordIOEvents<Element: Decodable & Sendable>: AsyncSequence, Sendable {
    let body: HTTPClientResponse.Body
    let what: String

    public init(body: HTTPClientResponse.Body, what: String = "event") {
        self.body = body
        self.what = what
    }

    public func makeAsyncIterator() -> Iterator {
        Iterator(chunks: body.makeAsyncIterator(), what: what)
    }

    public struct Iterator: AsyncIteratorProtocol {
        var chunks: HTTPClientResponse.Body.AsyncIterator
        let what: String
        var decoder = RecordIODecoder()
        var ready: [[UInt8]] = []

        /// The next document, or nil when the stream ended between records.
        public mutating func next() async throws -> Element? {
            while ready.isEmpty {
                guard let chunk = try await chunks.next() else {
                    guard decoder.isAtRecordBoundary else {
                        throw BerthError(.invalidArgument, "the \(what) stream ended in the middle of a record")
                    }
                    return nil
                }
                ready = try decoder.feed(chunk.readableBytesView)
            }
            return try MesosJSON.decode(Element.self, from: Data(ready.removeFirst()), what: what)
        }
    }
}
