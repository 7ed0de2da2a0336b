import BerthCore
import Foundation

/// The one JSON configuration for the wire: field names are spelled out in each type's CodingKeys
/// (exactly Mesos' snake_case), so no key strategy is applied here.
public enum MesosJSON {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    public static func encode(_ value: some Encodable) throws -> Data {
        try encoder().encode(value)
    }

    /// Decodes `data` as `type`, turning Foundation's decoding errors into a BerthError whose
    /// message names the field that was wrong: it becomes the body of a 400 answer.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data, what: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw BerthError(.invalidArgument, "malformed \(what): \(describe(error)); see https://mesos.apache.org/documentation/latest/scheduler-http-api/", underlying: error)
        } catch let error as BerthError {
            throw error
        } catch {
            throw BerthError(.invalidArgument, "malformed \(what): \(error)")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            let text = keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return text.isEmpty ? "the document" : String(text.drop { $0 == "." })
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context.codingPath)
            return "missing field \"\(key.stringValue)\"" + (context.codingPath.isEmpty ? "" : " in \(parent)")
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "wrong type at \(path(context.codingPath)): \(context.debugDescription)"
        case .dataCorrupted(let context):
            if let underlying = context.underlyingError as? NSError, context.codingPath.isEmpty {
                return "not valid JSON (\(underlying.localizedDescription))"
            }
            return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
