import CVips
import Foundation

/// Process-wide libvips set-up. `vips_init` must run once before any other call; `Vips.ensureStarted()`
/// does that lazily and thread-safely (a Swift `static let` is initialised exactly once).
public enum Vips {
    private static let started: Result<Void, ImagingError> = {
        guard jdrl_vips_init("jdrl") == 0 else {
            return .failure(.vips(operation: "vips_init", reason: takeErrorMessage()))
        }
        // No operation cache: a re-ingested file with the same name must be decoded again, and tiling
        // thousands of crops must not pin their sources in memory.
        vips_cache_set_max(0)
        return .success(())
    }()

    public static func ensureStarted() throws {
        try started.get()
    }

    /// Threads libvips uses inside one operation (our own workers parallelise across tiles).
    public static func setConcurrency(_ threads: Int) {
        try? ensureStarted()
        vips_concurrency_set(Int32(max(1, threads)))
    }

    /// The text libvips accumulated for the last failure, cleared so the next error starts fresh.
    /// (The buffer is process-global: under concurrency a message may mix two failures; it is advisory.)
    static func takeErrorMessage() -> String {
        let text = vips_error_buffer().map { String(cString: $0) } ?? ""
        vips_error_clear()
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return lines.isEmpty ? "unknown libvips error" : lines.joined(separator: "; ")
    }
}

/// Why an image could not be read or written. Each case names the file and a reason a user can act on.
public enum ImagingError: Error, CustomStringConvertible, Equatable, Sendable {
    case missing(path: String)
    case zeroBytes(path: String)
    case notAnImage(path: String)
    case unreadable(path: String, reason: String)
    case truncatedOrCorrupt(path: String, reason: String)
    case unsupported(path: String, reason: String)
    /// The header declares more pixels than the caller allows (checked before decoding).
    case tooManyPixels(path: String, width: Int, height: Int, limit: Int)
    case vips(operation: String, reason: String)
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .missing(path): return "\(path): file not found"
        case let .zeroBytes(path): return "\(path): zero bytes"
        case let .notAnImage(path): return "\(path): not an image (no loader recognises its content)"
        case let .unreadable(path, reason): return "\(path): unreadable (\(reason))"
        case let .truncatedOrCorrupt(path, reason): return "\(path): truncated or corrupt (\(reason))"
        case let .unsupported(path, reason): return "\(path): unsupported image (\(reason))"
        case .tooManyPixels(let path, _, _, _): return "\(path): \(reason)"
        case let .vips(operation, reason): return "libvips \(operation) failed: \(reason)"
        case let .writeFailed(path, reason): return "\(path): cannot write (\(reason))"
        }
    }

    /// The short reason without the path, for manifest rows that already store the path.
    public var reason: String {
        switch self {
        case .missing: return "file not found"
        case .zeroBytes: return "zero bytes"
        case .notAnImage: return "not an image (no image loader recognises its content)"
        case let .unreadable(_, reason): return "unreadable: \(reason)"
        case let .truncatedOrCorrupt(_, reason): return "truncated or corrupt: \(reason)"
        case let .unsupported(_, reason): return "unsupported: \(reason)"
        case let .tooManyPixels(_, width, height, limit):
            func amount(_ pixels: Int) -> String { pixels >= 100_000 ? String(format: "%.1f Mpx", Double(pixels) / 1e6) : "\(pixels) px" }
            return "header declares \(width)x\(height) (\(amount(width * height))), above the pixel limit of \(amount(limit)); not decoded"
        case let .vips(operation, reason): return "\(operation): \(reason)"
        case let .writeFailed(_, reason): return "write failed: \(reason)"
        }
    }
}
