import BerthCore
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The one place errors become HTTP statuses: a BerthError's code picks the status, its message
/// is the plain-text body (as Mesos answers 4xx, so a person reading curl output knows what to fix).
enum HTTPErrorMapping {
    static func status(for code: BerthError.Code) -> HTTPResponse.Status {
        switch code {
        case .invalidArgument: .badRequest
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .unsupported: .notImplemented
        case .invalidState: .conflict
        case .unavailable: .serviceUnavailable
        default: .internalServerError
        }
    }

    static func response(for error: BerthError) -> Response {
        Response(status: status(for: error.code), headers: [.contentType: "text/plain; charset=utf-8"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: error.message + "\n")))
    }
}

struct BerthErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as BerthError {
            let response = HTTPErrorMapping.response(for: error)
            logger.info("request refused", metadata: ["path": "\(request.uri.path)", "status": "\(response.status.code)", "why": "\(error.message)"])
            return response
        }
    }
}
