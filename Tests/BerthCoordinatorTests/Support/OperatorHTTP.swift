import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Plain HTTP calls to the operator endpoints: status and body text.
enum OperatorHTTP {
    struct Answer {
        var status: Int
        var body: String
        var data: Data { Data(body.utf8) }
    }

    static func call(_ method: HTTPMethod, _ url: String, json: String? = nil) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        return Answer(status: Int(response.status.code), body: String(buffer: try await response.body.collect(upTo: 1 << 22)))
    }

    static func get(_ url: String) async throws -> Answer { try await call(.GET, url) }
}
