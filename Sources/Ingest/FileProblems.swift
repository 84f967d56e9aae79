import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What can be wrong with a path before any image loader sees it, found with the system calls
/// themselves so the reason is the operating system's (a loop, a dangling link, a folder, no
/// permission) rather than a loader's "not found" or a partner silently missing.
enum FileProblems {
    /// nil when `url` is a regular file this process can open for reading; otherwise one sentence.
    static func problem(at url: URL) -> String? {
        let path = url.path
        var link = stat()
        guard lstat(path, &link) == 0 else { return "cannot be listed (\(String(cString: strerror(errno))))" }
        var target = stat()
        if stat(path, &target) != 0 {
            let cause = errno
            let destination = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?"
            switch cause {
            case ELOOP: return "symbolic link loop (\(path) -> \(destination) never reaches a file)"
            case ENOENT: return "dangling symbolic link (\(path) -> \(destination), which does not exist)"
            default: return "cannot be followed (\(String(cString: strerror(cause))))"
            }
        }
        if (target.st_mode & S_IFMT) == S_IFDIR { return "is a folder, not an image file" }
        if (target.st_mode & S_IFMT) != S_IFREG { return "is not a regular file (a device, pipe or socket)" }
        // Only now open it: opening a pipe for reading would wait for a writer forever.
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return "cannot be opened for reading (\(String(cString: strerror(errno))))" }
        close(descriptor)
        return nil
    }

    /// True for an entry a scanner must list, so that the validator can say what is wrong with it: every
    /// file, symbolic link (whatever it points at), pipe or device, and a folder only when its name says
    /// it is meant to be an image.
    static func isListable(_ url: URL, looksLikeImage: Bool) -> Bool {
        var link = stat()
        guard lstat(url.path, &link) == 0 else { return false }
        return (link.st_mode & S_IFMT) != S_IFDIR || looksLikeImage
    }
}
