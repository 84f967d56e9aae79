import Foundation

/// The process's one worker count: every parallel loop of the project (`Parallel`) and oneDNN's OpenMP
/// pool (read by `Tensors.Engine` when it is created) take it from here. It starts as OMP_NUM_THREADS,
/// else the number of cores; a stage's `--threads` replaces it while parsing, before any work starts.
public enum Workers {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var chosen: Int?

    public static var count: Int {
        lock.lock(); defer { lock.unlock() }
        return chosen ?? fromEnvironment
    }

    /// Sets the count for the rest of the process. oneDNN reads it once, when the engine is created, so
    /// a stage calls this before its first network or primitive (argument parsing does).
    public static func use(_ count: Int) {
        precondition(count > 0, "a worker count must be positive")
        lock.lock(); defer { lock.unlock() }
        chosen = count
    }

    /// OMP_NUM_THREADS when it is a positive number (the Makefile exports it), else every core.
    public static var fromEnvironment: Int {
        if let text = ProcessInfo.processInfo.environment["OMP_NUM_THREADS"], let value = Int(text), value > 0 { return value }
        return ProcessInfo.processInfo.activeProcessorCount
    }
}
