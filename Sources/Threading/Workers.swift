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

    /// OMP_NUM_THREADS when it is a positive number (the Makefile exports it), else every core, or, in
    /// a process that mpirun started beside others on this node, its share of the cores (at least one).
    public static var fromEnvironment: Int {
        let environment = ProcessInfo.processInfo.environment
        if let text = environment["OMP_NUM_THREADS"], let value = Int(text), value > 0 { return value }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        if let text = environment["OMPI_COMM_WORLD_LOCAL_SIZE"], let ranksHere = Int(text), ranksHere > 1 {
            return max(1, cores / ranksHere)
        }
        return cores
    }
}
