import Foundation

/// The processes one training run is spread over (data parallelism): each computes its slice of every
/// global batch, and their gradients are averaged before the optimizer step, so every rank applies the
/// same update and keeps the same weights. Every rank makes the same calls in the same order.
public protocol ProcessGroup: AnyObject {
    /// This process's index, 0..<size. Rank 0 writes the run folder, checkpoints and manifest rows.
    var rank: Int { get }
    var size: Int { get }
    /// What the group runs on, for the run log.
    var description: String { get }
    /// Replaces each of the `count` values with its mean over the ranks.
    func average(_ values: UnsafeMutablePointer<Float>, count: Int) throws
    func average(_ values: UnsafeMutablePointer<Double>, count: Int) throws
    /// Ends the group after a run that finished on every rank.
    func finish()
    /// Ends every rank of the group at once after this one failed (the others may be waiting in an average).
    func abort(exitCode: Int32) -> Never
}

extension ProcessGroup {
    public var isLeader: Bool { rank == 0 }
}

/// One process: averaging over one rank changes nothing.
public final class SingleProcess: ProcessGroup {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public var description: String { "one process" }
    public func average(_ values: UnsafeMutablePointer<Float>, count: Int) throws {}
    public func average(_ values: UnsafeMutablePointer<Double>, count: Int) throws {}
    public func finish() {}
    public func abort(exitCode: Int32) -> Never { exit(exitCode) }
}

public enum DistributedError: Error, CustomStringConvertible {
    case mpiUnavailable(ranks: Int, library: String, reason: String)
    case mpiCall(String, code: Int32)
    case sizeMismatch(environment: Int, mpi: Int)

    public var description: String {
        switch self {
        case let .mpiUnavailable(ranks, library, reason):
            return "started by mpirun with \(ranks) ranks, but the MPI library \(library) cannot be loaded (\(reason)); install Debian's openmpi-bin"
        case let .mpiCall(name, code):
            return "\(name) failed with MPI error \(code)"
        case let .sizeMismatch(environment, mpi):
            return "mpirun announced \(environment) ranks but MPI_COMM_WORLD has \(mpi)"
        }
    }
}

public enum ProcessGroups {
    /// The group this process was started in: OpenMPI's when `mpirun` started it with more than one rank
    /// (it sets OMPI_COMM_WORLD_SIZE), else a single process. MPI is loaded at run time only then, so
    /// nothing in the default build needs it.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ProcessGroup {
        guard let text = environment["OMPI_COMM_WORLD_SIZE"], let ranks = Int(text), ranks > 1 else { return SingleProcess() }
        return try OpenMPIGroup(expectedSize: ranks)
    }
}
