import Foundation
import Yams

public struct ConfigError: CallError {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}

/// Loads a YAML config into a `Decodable` type. Unknown keys are rejected (a typo must not silently fall
/// back to a default): check sections with `unknownKeys(in:allowed:section:)` before decoding.
public enum YAMLConfig {
    public static func load<T: Decodable>(_ type: T.Type, from url: URL) throws -> T {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw ConfigError(path: url.path, reason: "cannot read (\(error.localizedDescription))")
        }
        return try decode(type, from: text, path: url.path)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from text: String, path: String = "<config>") throws -> T {
        do { return try YAMLDecoder().decode(type, from: text) } catch let error as DecodingError {
            throw ConfigError(path: path, reason: describe(error))
        } catch {
            throw ConfigError(path: path, reason: "\(error)")
        }
    }

    /// Keys present in the YAML mapping (one level) that `allowed` does not list. Text that is not YAML
    /// at all (a tab in the indentation, an unclosed bracket) is a `ConfigError` naming `path`.
    public static func unknownKeys(in text: String, allowed: Set<String>, section: [String] = [], path: String = "<config>") throws -> [String] {
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            throw ConfigError(path: path, reason: "not valid YAML (\(error))")
        }
        guard var node = root else { return [] }
        for key in section {
            guard let next = node.mapping?[Node(key)] else { return [] }
            node = next
        }
        return (node.mapping?.keys.compactMap { $0.string } ?? []).filter { !allowed.contains($0) }.sorted()
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case let .keyNotFound(key, context): return "missing key '\(([path(context)] + [key.stringValue]).filter { !$0.isEmpty }.joined(separator: "."))'"
        case let .typeMismatch(_, context), let .valueNotFound(_, context), let .dataCorrupted(context):
            return "bad value at '\(path(context))': \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
