// The oneDNN CPU engine, its stream, and a cache of primitives keyed by everything that defines them.
//
// One engine per process is what oneDNN expects on a CPU; it is created on first use. Its OpenMP thread
// count is the process's one worker count (Threading.Workers: a stage's --threads, else OMP_NUM_THREADS,
// else every core), set before the first primitive; OMP_WAIT_POLICY=passive keeps idle OpenMP workers
// from spinning against the other thread pools on the machine.
import CAMXTileConfig
import CDNNL
import Foundation
import Threading

/// Fails loudly: a oneDNN error here means a shape or layout the network was never meant to produce.
@inline(__always)
func dnnlCheck(_ status: dnnl_status_t, _ what: @autoclosure () -> String) {
    if status != dnnl_success {
        fatalError("oneDNN: \(what()) failed with status \(status.rawValue)")
    }
}

/// A created primitive together with its descriptor (kept to query memory layouts).
public final class Primitive {
    public let descriptor: dnnl_primitive_desc_t
    public let handle: dnnl_primitive_t
    /// The cache key up to its first memory descriptor: what a profile groups by.
    let label: String
    /// A memory object of the primitive's scratchpad size, pointed at the engine's shared buffer
    /// at each execution; nil when the primitive needs none.
    private let scratchpad: (memory: dnnl_memory_t, bytes: Int)?

    init(descriptor: dnnl_primitive_desc_t, what: String) {
        self.descriptor = descriptor
        let words = what.split(separator: " ").prefix(while: { $0.count < 40 && $0 != "src" }).joined(separator: " ")
        // Reorders are named by their implementation (their keys are only descriptors).
        label = words == "reorder" ? "reorder " + NumericPlatform.implementation(of: descriptor) : words
        var primitive: dnnl_primitive_t?
        dnnlCheck(dnnl_primitive_create(&primitive, descriptor), "primitive_create(\(what))")
        self.handle = primitive!
        var md = dnnl_primitive_desc_query_md(descriptor, dnnl_query_scratchpad_md, 0)!.pointee
        let bytes = dnnl_memory_desc_get_size(&md)
        if bytes > 0 {
            var memory: dnnl_memory_t?
            dnnlCheck(dnnl_memory_create(&memory, &md, Engine.shared.engine, nil), "scratchpad memory_create")
            scratchpad = (memory!, bytes)
        } else {
            scratchpad = nil
        }
    }

    /// The memory descriptor the primitive chose for an argument (e.g. `dnnl_query_weights_md`).
    public func memoryDescriptor(_ query: dnnl_query_t, index: Int32 = 0) -> dnnl_memory_desc_t {
        dnnl_primitive_desc_query_md(descriptor, query, index)!.pointee
    }

    /// oneDNN's name for the implementation that runs (`jit:avx512_core`, `ref:any`, ...).
    public var implementation: String { NumericPlatform.implementation(of: descriptor) }

    /// Runs the primitive on the engine's stream and waits (every layer is synchronous).
    public func execute(_ arguments: [(Int32, dnnl_memory_t)]) {
        var args = arguments.map { dnnl_exec_arg_t(arg: $0.0, memory: $0.1) }
        let engine = Engine.shared
        // Executions from several threads (tests run in parallel) must not overlap: they share
        // the scratchpad buffer.
        engine.executionLock.lock(); defer { engine.executionLock.unlock() }
        if let scratchpad {
            dnnlCheck(dnnl_memory_set_data_handle(scratchpad.memory, engine.scratchpadBuffer(bytes: scratchpad.bytes)), "scratchpad handle")
            args.append(dnnl_exec_arg_t(arg: DNNL_ARG_SCRATCHPAD, memory: scratchpad.memory))
        }
        let start = engine.profiling ? ProfileClock.now() : 0
        dnnlCheck(dnnl_primitive_execute(handle, engine.stream, Int32(args.count), &args), "execute")
        dnnlCheck(dnnl_stream_wait(engine.stream), "stream_wait")
        if engine.profiling { engine.record(label, ProfileClock.now() - start) }
        if engine.recorders > 0, let recorder = Thread.current.threadDictionary[ExecutionRecorder.key] as? ExecutionRecorder {
            recorder.executed.insert("\(label): \(implementation)")
        }
    }
}

/// The process-wide CPU engine and stream, plus the primitive cache.
public final class Engine {
    public static let shared = Engine()

    public let engine: dnnl_engine_t
    public let stream: dnnl_stream_t
    /// OpenMP threads oneDNN runs on (`Workers.count` when the engine was created).
    public let threads: Int
    /// What this CPU gives the core: activation layout, Winograd, bf16 (probed once, here).
    public let platform: NumericPlatform

    private var cache: [String: Primitive] = [:]
    /// Time per primitive label, collected while `profiling` is on (a development aid for benchmarks).
    public var profiling = false
    public private(set) var profile: [String: (calls: Int, seconds: Double)] = [:]
    public func resetProfile() { profile = [:] }
    func record(_ label: String, _ seconds: Double) {
        let old = profile[label] ?? (0, 0)
        profile[label] = (old.calls + 1, old.seconds + seconds)
    }
    /// Runs a Swift op, adding its time to the profile when profiling (primitives are recorded by
    /// Primitive.execute); the label is only built when profiling.
    @inline(__always)
    func profiled(_ label: @autoclosure () -> String, _ body: () -> Void) {
        guard profiling else { body(); return }
        let start = ProfileClock.now()
        body()
        record(label(), ProfileClock.now() - start)
    }
    /// Serialises primitive execution (recursive: staging copies hold it around a reorder).
    let executionLock = NSRecursiveLock()
    private let lock = NSLock()

    private init() {
        threads = Workers.count
        omp_set_num_threads(Int32(threads))
        var engine: dnnl_engine_t?
        dnnlCheck(dnnl_engine_create(&engine, dnnl_cpu, 0), "engine_create")
        self.engine = engine!
        var stream: dnnl_stream_t?
        dnnlCheck(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue), "stream_create")
        self.stream = stream!
        platform = NumericPlatform.detect(engine: engine!)
    }

    /// The implementation strings of every convolution primitive created so far (forward, backward
    /// data and weights), for run reports.
    /// The project's own Winograd (WinogradConvolution) counts as `jdrl_wino_4x3+` its matmul's implementation.
    public func convolutionImplementations() -> Set<String> {
        implementations(keysContaining: " conv ").union(implementations(keysContaining: "wino-matmul").map { "jdrl_wino_4x3+" + $0 })
    }

    /// The implementation strings of every cached primitive whose key contains `fragment` ("reorder", "pool", ...).
    public func implementations(keysContaining fragment: String) -> Set<String> {
        lock.lock(); defer { lock.unlock() }
        return Set(cache.filter { $0.key.contains(fragment) }.map { $0.value.implementation })
    }

    /// What a run prints when it ends: the convolution implementations it used and, when a reference
    /// (unvectorised) implementation ran, a warning naming each.
    public func implementationReport() -> [String] {
        var lines = ["convolution implementations: \(convolutionImplementations().sorted().joined(separator: ", "))"]
        let slow = referenceImplementations()
        if !slow.isEmpty { lines.append("warning: slow reference implementations ran (a bug on this CPU): \(slow.joined(separator: "; "))") }
        return lines
    }

    /// Every created primitive that runs a `ref:` (reference, unvectorised) implementation, by key
    /// prefix: on any CPU with SSE4.1 or better none should exist in a network's hot path.
    public func referenceImplementations() -> [String] {
        lock.lock(); defer { lock.unlock() }
        return cache.filter { $0.value.implementation.hasPrefix("ref") }
            .map { "\($0.value.label): \($0.value.implementation)" }.sorted()
    }

    // One scratchpad for every primitive (executions are serialised). oneDNN's own "library"
    // scratchpad lives in thread-local storage of the thread that created the primitive: a cached
    // primitive run from another thread then reads a missing buffer (seen as a crash of Winograd
    // convolutions when tests ran networks on two threads). So every primitive is created with a
    // user scratchpad, passed at execution.
    private var scratchpad: UnsafeMutableRawPointer?
    private var scratchpadBytes = 0

    /// The shared scratchpad, grown to at least `bytes` (call with `executionLock` held).
    func scratchpadBuffer(bytes: Int) -> UnsafeMutableRawPointer {
        if bytes > scratchpadBytes {
            scratchpad?.deallocate()
            scratchpad = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 4096)
            scratchpadBytes = bytes
        }
        return scratchpad!
    }

    /// Sets the user-scratchpad mode on attributes a caller builds (see `scratchpadBuffer`).
    static func useCallerScratchpad(_ attr: dnnl_primitive_attr_t?) {
        dnnlCheck(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), "set_scratchpad_mode")
    }

    /// Runs `body` with `attr`, or with fresh attributes when nil, in user-scratchpad mode.
    static func withAttributes<T>(_ attr: dnnl_primitive_attr_t?, _ body: (dnnl_primitive_attr_t?) -> T) -> T {
        var own: dnnl_primitive_attr_t?
        if attr == nil { dnnlCheck(dnnl_primitive_attr_create(&own), "attr_create") }
        defer { if let own { dnnl_primitive_attr_destroy(own) } }
        let used = attr ?? own
        useCallerScratchpad(used)
        return body(used)
    }

    /// True once oneDNN configured AMX tiles with palette 0 and CAMXTileConfig corrected it to 1.
    public var amxPaletteWasCorrected: Bool { jdrl_amx_palette_was_corrected() != 0 }
    /// AMX tile configurations seen by the interposer (0 when AMX never ran or the interposer is bypassed).
    public var amxTileConfigurations: Int { jdrl_amx_tile_configurations() }

    /// How many threads are recording executions (`executedImplementations(during:)`); 0 costs nothing.
    fileprivate var recorders = 0

    /// Runs `body` and returns "label: implementation" of every primitive it executed on this thread
    /// (tests: "no reference implementation in the network", whatever else runs in parallel).
    public func executedImplementations(during body: () throws -> Void) rethrows -> Set<String> {
        let recorder = ExecutionRecorder()
        Thread.current.threadDictionary[ExecutionRecorder.key] = recorder
        lock.lock(); recorders += 1; lock.unlock()
        defer {
            lock.lock(); recorders -= 1; lock.unlock()
            Thread.current.threadDictionary[ExecutionRecorder.key] = nil
        }
        try body()
        return recorder.executed
    }

    /// Returns the cached primitive for `key`, creating it with `makeDescriptor` on first request.
    /// The key must spell out every shape, layout and attribute the descriptor depends on.
    public func primitive(_ key: String, _ makeDescriptor: () -> dnnl_primitive_desc_t) -> Primitive {
        lock.lock(); defer { lock.unlock() }
        if let hit = cache[key] { return hit }
        let made = Primitive(descriptor: makeDescriptor(), what: key)
        cache[key] = made
        return made
    }

    /// Like `primitive`, but nil (and nothing cached) when oneDNN has no implementation for the descriptor.
    public func primitiveIfSupported(_ key: String, _ makeDescriptor: () -> dnnl_primitive_desc_t?) -> Primitive? {
        lock.lock(); defer { lock.unlock() }
        if let hit = cache[key] { return hit }
        guard let descriptor = makeDescriptor() else { return nil }
        let made = Primitive(descriptor: descriptor, what: key)
        cache[key] = made
        return made
    }

    /// A primitive descriptor, or nil when oneDNN reports the combination unimplemented.
    func descriptorIfSupported(_ opDesc: UnsafeRawPointer, attr: dnnl_primitive_attr_t? = nil,
                               hint: dnnl_primitive_desc_t? = nil) -> dnnl_primitive_desc_t? {
        var pd: dnnl_primitive_desc_t?
        let status = Engine.withAttributes(attr) { dnnl_primitive_desc_create(&pd, opDesc, $0, engine, hint) }
        return status == dnnl_success ? pd : nil
    }

    /// Creates a primitive descriptor from an op descriptor (optionally with attributes and a forward hint).
    func makeDescriptor(_ opDesc: UnsafeRawPointer, attr: dnnl_primitive_attr_t? = nil,
                        hint: dnnl_primitive_desc_t? = nil, what: String) -> dnnl_primitive_desc_t {
        var pd: dnnl_primitive_desc_t?
        Engine.withAttributes(attr) { dnnlCheck(dnnl_primitive_desc_create(&pd, opDesc, $0, engine, hint), "primitive_desc_create(\(what))") }
        return pd!
    }
}

/// The primitives one thread executed while it recorded (see `Engine.executedImplementations`).
private final class ExecutionRecorder {
    static let key = "jdrl.ExecutionRecorder"
    var executed = Set<String>()
}

/// An exact text key for a memory descriptor (its bytes), for primitive-cache keys.
func descriptorKey(_ desc: dnnl_memory_desc_t) -> String {
    var copy = desc
    return withUnsafeBytes(of: &copy) { Data($0).base64EncodedString() }
}

enum ProfileClock {
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}
