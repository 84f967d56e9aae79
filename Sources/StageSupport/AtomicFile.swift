import Foundation

/// Writes that never leave a half-written file visible: produce into a hidden temporary name in the
/// destination directory, then rename (atomic on one filesystem). A killed process leaves only
/// `.partial-*` files, which `removeStalePartials` sweeps on the next run. The temporary name carries
/// the writer's process id, so a sweep never deletes what a live process (another shard, a second
/// `make patches`) is still writing.
public enum AtomicFile {
    public static let partialPrefix = ".partial-"

    /// `.partial-PID-RANDOM-NAME`.
    static func temporaryName(for destination: URL) -> String {
        "\(partialPrefix)\(getpid())-\(UUID().uuidString.prefix(8))-\(destination.lastPathComponent)"
    }

    /// True when a partial file's name says a process that is still running writes it. Names without a
    /// process id (older builds) count as stale.
    static func writerIsAlive(_ name: String) -> Bool {
        guard let field = name.dropFirst(partialPrefix.count).split(separator: "-").first, let pid = Int32(field), pid > 0 else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    /// Calls `produce` with a temporary path next to `destination`, then renames it into place.
    public static func write(to destination: URL, _ produce: (URL) throws -> Void) throws {
        let directory = destination.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let temporary = directory.appendingPathComponent(temporaryName(for: destination))
        do {
            try produce(temporary)
            try flushToDisk(temporary)
            if rename(temporary.path, destination.path) != 0 {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: destination.path])
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
    }

    /// Forces a regular file's bytes to the disk before it is renamed into place: a write the disk
    /// refused late (full, I/O error) fails here instead of publishing a short file, and a power loss
    /// right after the rename cannot leave an empty file under the final name.
    static func flushToDisk(_ url: URL) throws {
        var info = stat()
        guard stat(url.path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return }
        let descriptor = open(url.path, O_RDONLY)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        if fsync(descriptor) != 0 {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path,
                                                          NSLocalizedDescriptionKey: "cannot flush \(url.path): \(String(cString: strerror(errno)))"])
        }
    }

    public static func write(_ data: Data, to destination: URL) throws {
        try write(to: destination) { try data.write(to: $0) }
    }

    /// Deletes leftovers of killed writers under `directory` (recursively); a live writer's are left alone.
    public static func removeStalePartials(under directory: URL) {
        guard let walker = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil) else { return }
        for case let url as URL in walker where url.lastPathComponent.hasPrefix(partialPrefix) && !writerIsAlive(url.lastPathComponent) {
            try? FileManager.default.removeItem(at: url)
        }
    }
}
