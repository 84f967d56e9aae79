import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The ranks of an `mpirun` job, through Debian's OpenMPI loaded with dlopen: the default build links
/// no MPI, and only a process that mpirun started with more than one rank ever loads it.
///
/// OpenMPI's handles are the addresses of exported objects (MPI_COMM_WORLD is &ompi_mpi_comm_world,
/// MPI_FLOAT &ompi_mpi_float, MPI_SUM &ompi_mpi_op_sum), so dlsym yields them directly.
final class OpenMPIGroup: ProcessGroup {
    static let library = "libmpi.so.40"

    private typealias Init = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Int32
    private typealias CommQuery = @convention(c) (UnsafeMutableRawPointer, UnsafeMutablePointer<Int32>) -> Int32
    private typealias Allreduce = @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer, Int32, UnsafeMutableRawPointer,
                                                  UnsafeMutableRawPointer, UnsafeMutableRawPointer) -> Int32
    private typealias Finalize = @convention(c) () -> Int32
    private typealias Abort = @convention(c) (UnsafeMutableRawPointer, Int32) -> Int32

    let rank: Int
    let size: Int
    private let allreduce: Allreduce
    private let finalize: Finalize
    private let abortJob: Abort
    private let world, float, double, sum: UnsafeMutableRawPointer
    /// MPI_IN_PLACE: the send buffer is the receive buffer.
    private let inPlace = UnsafeRawPointer(bitPattern: 1)
    /// MPI counts are C ints: longer buffers go in pieces.
    private let largestCount = 1 << 30

    init(expectedSize: Int) throws {
        // RTLD_GLOBAL: OpenMPI's own plugins (dlopened by MPI_Init) resolve their symbols against libmpi.
        guard let handle = dlopen(Self.library, RTLD_NOW | RTLD_GLOBAL) else {
            throw DistributedError.mpiUnavailable(ranks: expectedSize, library: Self.library, reason: String(cString: dlerror()))
        }
        func symbol(_ name: String) throws -> UnsafeMutableRawPointer {
            guard let address = dlsym(handle, name) else {
                throw DistributedError.mpiUnavailable(ranks: expectedSize, library: Self.library, reason: "no symbol \(name)")
            }
            return address
        }
        func function<F>(_ name: String, as _: F.Type) throws -> F { unsafeBitCast(try symbol(name), to: F.self) }

        let initialise = try function("MPI_Init", as: Init.self)
        let commRank = try function("MPI_Comm_rank", as: CommQuery.self)
        let commSize = try function("MPI_Comm_size", as: CommQuery.self)
        allreduce = try function("MPI_Allreduce", as: Allreduce.self)
        finalize = try function("MPI_Finalize", as: Finalize.self)
        abortJob = try function("MPI_Abort", as: Abort.self)
        world = try symbol("ompi_mpi_comm_world")
        float = try symbol("ompi_mpi_float")
        double = try symbol("ompi_mpi_double")
        sum = try symbol("ompi_mpi_op_sum")

        try Self.check("MPI_Init", initialise(nil, nil))
        var value: Int32 = 0
        try Self.check("MPI_Comm_rank", commRank(world, &value))
        rank = Int(value)
        try Self.check("MPI_Comm_size", commSize(world, &value))
        size = Int(value)
        guard size == expectedSize else { throw DistributedError.sizeMismatch(environment: expectedSize, mpi: size) }
    }

    var description: String { "OpenMPI (\(Self.library)), rank \(rank) of \(size)" }

    func average(_ values: UnsafeMutablePointer<Float>, count: Int) throws {
        try sumInPlace(UnsafeMutableRawPointer(values), count: count, stride: MemoryLayout<Float>.stride, type: float)
        let scale = 1 / Float(size)
        for i in 0..<count { values[i] *= scale }
    }

    func average(_ values: UnsafeMutablePointer<Double>, count: Int) throws {
        try sumInPlace(UnsafeMutableRawPointer(values), count: count, stride: MemoryLayout<Double>.stride, type: double)
        for i in 0..<count { values[i] /= Double(size) }
    }

    private func sumInPlace(_ values: UnsafeMutableRawPointer, count: Int, stride: Int, type: UnsafeMutableRawPointer) throws {
        var start = 0
        while start < count {
            let piece = min(largestCount, count - start)
            try Self.check("MPI_Allreduce", allreduce(inPlace, values + start * stride, Int32(piece), type, sum, world))
            start += piece
        }
    }

    func finish() { _ = finalize() }

    func abort(exitCode: Int32) -> Never {
        _ = abortJob(world, exitCode)
        exit(exitCode)
    }

    private static func check(_ name: String, _ code: Int32) throws {
        guard code == 0 else { throw DistributedError.mpiCall(name, code: code) }
    }
}
