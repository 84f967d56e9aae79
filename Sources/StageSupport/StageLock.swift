import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One process at a time per (manifest, stage, shard): an exclusive `flock` on a small file beside the
/// manifest. Two `make patches` at once would otherwise tile the same captures twice and sweep each
/// other's files in progress. The kernel drops the lock when its holder exits, however it exits
/// (SIGKILL included), so a killed stage never leaves a lock that blocks the next run. The holder
/// writes who it is into the file, so the process that waits (or refuses) can name it.
public final class StageLock {
    private let descriptor: Int32
    public let url: URL

    public enum Mode { case wait, refuse }

    public struct Held: StageError {
        public let url: URL
        public let holder: String
        public var exitStatus: ExitStatus { .busy }
        public var description: String { "\(holder) holds \(url.path); not started (wait for it to finish)" }
    }

    /// `<manifest>.<stage>.lock` (with the shard in the name when the stage is sharded, so shards still
    /// run side by side).
    public static func url(stage: String, manifest: String, shard: Shard = .all) -> URL {
        let suffix = shard == .all ? "" : "-shard-\(shard.index)-of-\(shard.count)"
        return URL(fileURLWithPath: "\(manifest).\(stage)\(suffix).lock")
    }

    /// Takes the lock. `.wait` blocks until the holder is done, saying once whom it waits for (the work
    /// the holder finished is then skipped as usual); `.refuse` throws `Held` naming the holder.
    public init(_ url: URL, mode: Mode, log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) throws {
        self.url = url
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        descriptor = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: url.path,
                                                               NSLocalizedDescriptionKey: "cannot open lock \(url.path): \(String(cString: strerror(errno)))"])
        }
        if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let holder = Self.holder(of: url)
            if mode == .refuse {
                close(descriptor)
                throw Held(url: url, holder: holder)
            }
            log("\(holder) holds \(url.path); waiting for it to finish")
            while flock(descriptor, LOCK_EX) != 0 && errno == EINTR {}
        }
        let me = "\(CommandLine.arguments.first.map { ($0 as NSString).lastPathComponent } ?? "process") (pid \(getpid()), started \(ISO8601DateFormatter().string(from: Date())))\n"
        ftruncate(descriptor, 0)
        _ = me.withCString { pwrite(descriptor, $0, strlen($0), 0) }
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    /// What the holder wrote about itself.
    static func holder(of url: URL) -> String {
        let text = (try? String(contentsOf: url, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        return text.isEmpty ? "another process" : "another process, \(text),"
    }
}
