import Foundation

/// Writes that never leave a half-written file visible: produce into a hidden temporary name in the
/// destination directory, then rename (atomic on one filesystem). A killed process leaves only
/// `.partial-*` files, which `removeStalePartials` sweeps on the next run.
public enum AtomicFile {
    public static let partialPrefix = ".partial-"

    /// Calls `produce` with a temporary path next to `destination`, then renames it into place.
    public static func write(to destination: URL, _ produce: (URL) throws -> Void) throws {
        let directory = destination.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let temporary = directory.appendingPathComponent(
            "\(partialPrefix)\(UUID().uuidString.prefix(8))-\(destination.lastPathComponent)")
        do {
            try produce(temporary)
            if rename(temporary.path, destination.path) != 0 {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: destination.path])
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
    }

    public static func write(_ data: Data, to destination: URL) throws {
        try write(to: destination) { try data.write(to: $0) }
    }

    /// Deletes leftovers of killed writers under `directory` (recursively).
    public static func removeStalePartials(under directory: URL) {
        guard let walker = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil) else { return }
        for case let url as URL in walker where url.lastPathComponent.hasPrefix(partialPrefix) {
            try? FileManager.default.removeItem(at: url)
        }
    }
}
