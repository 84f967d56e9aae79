import Foundation
import Yams

/// A training config may name another as its `base:` (a path relative to the config's folder) and state
/// only what differs: its values override the base's key by key, sections merged recursively, lists and
/// values replaced whole. Resolved once at load into the complete text; the resolved config, and so its
/// hash, is what the same keys written out in full give.
enum ConfigBase {
    static let key = "base"

    /// `text` with its base chain merged in (unchanged when it names no base). Each file's keys are
    /// checked on their own, so an unknown key is reported in the file that holds it.
    static func resolve(_ text: String, path: String, checkKeys: (String, String, Bool) throws -> Void,
                        read: (URL) throws -> String, visited: [String] = []) throws -> String {
        try checkKeys(text, path, true)
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            throw TrainingConfigError(path: path, reason: "not valid YAML (\(error))")
        }
        guard var mapping = root?.mapping, let baseNode = mapping[key] else { return text }
        guard let basePath = baseNode.string, !basePath.isEmpty else {
            throw TrainingConfigError(path: path, reason: "base must be the path of another training config")
        }
        mapping[key] = nil
        let folder = path.hasPrefix("<") ? URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            : URL(fileURLWithPath: path).deletingLastPathComponent()
        let baseURL = URL(fileURLWithPath: basePath, relativeTo: folder).standardizedFileURL
        guard !visited.contains(baseURL.path), baseURL.path != URL(fileURLWithPath: path).standardizedFileURL.path else {
            throw TrainingConfigError(path: path, reason: "base \(basePath) leads back to this file")
        }
        let baseText = try resolve(try read(baseURL), path: baseURL.path, checkKeys: checkKeys, read: read,
                                   visited: visited + [URL(fileURLWithPath: path).standardizedFileURL.path])
        guard let baseRoot = try Yams.compose(yaml: baseText), case .mapping = baseRoot else {
            throw TrainingConfigError(path: baseURL.path, reason: "not a mapping of config sections (the base of \(path))")
        }
        return try Yams.serialize(node: merged(baseRoot, .mapping(mapping)))
    }

    /// `over` laid on `base`: mappings key by key, anything else replaced.
    static func merged(_ base: Node, _ over: Node) -> Node {
        guard case var .mapping(result) = base, case let .mapping(overrides) = over else { return over }
        for (key, value) in overrides {
            result[key] = result[key].map { merged($0, value) } ?? value
        }
        return .mapping(result)
    }
}
