import Foundation
import Testing
import Tensors

/// `--precision auto`: the choice from measured times, the per-CPU cache on real files, and the probe.
@Suite struct AutoPrecisionTests {
    @Test func bf16IsChosenOnlyWhenMeasuredClearlyFaster() {
        #expect(AutoPrecision.decide(PrecisionTimings(f32Seconds: 0.004, bf16Seconds: 0.002)) == .bf16)
        #expect(AutoPrecision.decide(PrecisionTimings(f32Seconds: 0.002, bf16Seconds: 0.0036)) == .f32)
        // Within the noise margin f32, the reference, stays.
        #expect(AutoPrecision.decide(PrecisionTimings(f32Seconds: 0.0014, bf16Seconds: 0.001)) == .f32)
        #expect(AutoPrecision.decide(PrecisionTimings(f32Seconds: 0.0015, bf16Seconds: 0.001)) == .bf16)
        // A failed measurement never picks bf16.
        #expect(AutoPrecision.decide(PrecisionTimings(f32Seconds: .nan, bf16Seconds: 0.001)) == .f32)
        #expect(AutoPrecision.decide(PrecisionTimings(f32Seconds: 0.002, bf16Seconds: 0)) == .f32)
        #expect(AutoPrecision.decide(PrecisionTimings(f32Seconds: .infinity, bf16Seconds: 0.001)) == .f32)
        let decision = AutoPrecision.decision(PrecisionTimings(f32Seconds: 0.002, bf16Seconds: 0.0036), source: "measured now")
        #expect(decision.precision == .f32)
        #expect(decision.reason.contains("bf16 3.60 ms vs f32 2.00 ms") && decision.reason.contains("measured now"), "\(decision.reason)")
    }

    @Test func withoutBF16ConvolutionsNothingIsMeasured() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cache = PrecisionVerdictCache(file: folder.appendingPathComponent("jdrl/precision.json"))
        var probes = 0
        let decision = AutoPrecision.resolve(bf16Available: false, isa: "avx2", key: "cpu", cache: cache) {
            probes += 1
            return PrecisionTimings(f32Seconds: 1, bf16Seconds: 0.1)
        }
        #expect(decision.precision == .f32 && probes == 0 && decision.reason.contains("avx2"), "\(decision.reason)")
        #expect(!FileManager.default.fileExists(atPath: cache.file.path))
    }

    @Test func theVerdictIsMeasuredOnceThenReadFromTheCache() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cache = PrecisionVerdictCache(file: folder.appendingPathComponent("jdrl/precision.json"))
        var probes = 0
        func resolve(_ key: String, _ timings: PrecisionTimings) -> PrecisionDecision {
            AutoPrecision.resolve(bf16Available: true, isa: "avx512_core_bf16", key: key, cache: cache, busy: { nil }) {
                probes += 1
                return timings
            }
        }
        let slowBF16 = PrecisionTimings(f32Seconds: 0.002, bf16Seconds: 0.004)
        let first = resolve("cpu A", slowBF16)
        #expect(first.precision == .f32 && probes == 1 && first.reason.contains("measured now, cached in"), "\(first.reason)")
        #expect(cache.timings(for: "cpu A") == slowBF16)
        // The second call reads the file: a probe that would now say bf16 is not run.
        let second = resolve("cpu A", PrecisionTimings(f32Seconds: 0.004, bf16Seconds: 0.001))
        #expect(second.precision == .f32 && probes == 1 && second.reason.contains("cached in \(cache.file.path)"), "\(second.reason)")
        // Another CPU gets its own entry; the first one stays.
        let other = resolve("cpu B", PrecisionTimings(f32Seconds: 0.004, bf16Seconds: 0.001))
        #expect(other.precision == .bf16 && probes == 2)
        #expect(cache.timings(for: "cpu A") == slowBF16)
        #expect(cache.timings(for: "cpu B") == PrecisionTimings(f32Seconds: 0.004, bf16Seconds: 0.001))
        let text = try String(contentsOf: cache.file, encoding: .utf8)
        #expect(text.contains("cpu A") && text.contains("cpu B") && text.contains("measured"), "\(text)")
    }

    @Test func aCorruptCacheIsIgnoredAndRewritten() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cache = PrecisionVerdictCache(file: folder.appendingPathComponent("precision.json"))
        for garbage in [Data("{\"cpu\": {\"f32Seconds\": ".utf8), Data([0xFF, 0x00, 0x7B]), Data("[1, 2]".utf8),
                        Data(#"{"cpu": {"f32Seconds": -1, "bf16Seconds": 0.001, "measured": "x"}}"#.utf8)] {
            try garbage.write(to: cache.file)
            #expect(cache.timings(for: "cpu") == nil)
            var probes = 0
            let decision = AutoPrecision.resolve(bf16Available: true, isa: "avx512_core_bf16", key: "cpu", cache: cache, busy: { nil }) {
                probes += 1
                return PrecisionTimings(f32Seconds: 0.003, bf16Seconds: 0.001)
            }
            #expect(decision.precision == .bf16 && probes == 1 && decision.reason.contains("measured now"), "\(decision.reason)")
            #expect(cache.timings(for: "cpu") == PrecisionTimings(f32Seconds: 0.003, bf16Seconds: 0.001))
            let parsed = try JSONSerialization.jsonObject(with: Data(contentsOf: cache.file)) as? [String: Any]
            #expect(parsed?.keys.sorted() == ["cpu"])
        }
        // No temporary file is left beside the cache.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["precision.json"])
    }

    @Test func anUnwritableCacheStillDecides() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let blocker = folder.appendingPathComponent("file")
        try Data("x".utf8).write(to: blocker)
        let cache = PrecisionVerdictCache(file: blocker.appendingPathComponent("jdrl/precision.json"))
        let decision = AutoPrecision.resolve(bf16Available: true, isa: "avx512_core_bf16", key: "cpu", cache: cache, busy: { nil }) {
            PrecisionTimings(f32Seconds: 0.001, bf16Seconds: 0.002)
        }
        #expect(decision.precision == .f32 && decision.reason.contains("not cached"), "\(decision.reason)")
    }

    @Test func aProbeOnABusyMachineIsUsedOnceNotCached() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cache = PrecisionVerdictCache(file: folder.appendingPathComponent("precision.json"))
        var probes = 0
        for _ in 0..<2 {
            let decision = AutoPrecision.resolve(bf16Available: true, isa: "avx512_core_bf16", key: "cpu", cache: cache,
                                                 busy: { "the machine is busy (load 9.0 on 2 cores)" }) {
                probes += 1
                return PrecisionTimings(f32Seconds: 0.004, bf16Seconds: 0.001)
            }
            #expect(decision.precision == .bf16 && decision.reason.contains("not cached: the machine is busy"), "\(decision.reason)")
        }
        #expect(probes == 2 && !FileManager.default.fileExists(atPath: cache.file.path))
    }

    @Test func theCacheLivesInTheUsersCacheFolder() {
        #expect(PrecisionVerdictCache.userDefault(environment: ["XDG_CACHE_HOME": "/x/cache", "HOME": "/h"])?.file.path
                    == "/x/cache/jdrl/precision.json")
        #expect(PrecisionVerdictCache.userDefault(environment: ["HOME": "/h"])?.file.path == "/h/.cache/jdrl/precision.json")
        // A relative XDG_CACHE_HOME is invalid by the XDG rules and ignored.
        #expect(PrecisionVerdictCache.userDefault(environment: ["XDG_CACHE_HOME": "rel", "HOME": "/h"])?.file.path
                    == "/h/.cache/jdrl/precision.json")
        #expect(PrecisionVerdictCache.userDefault(environment: [:]) == nil)
        let key = PrecisionVerdictCache.key(for: Engine.shared.platform)
        #expect(key.contains(Engine.shared.platform.cpuModel) && key.contains(Engine.shared.platform.isa) && key.contains("oneDNN 2."), "\(key)")
    }

    @Test(.enabled(if: Engine.shared.platform.bf16 != .unavailable, "no bf16 convolutions on this CPU: nothing to probe"))
    func theProbeTimesBothPrecisionsInMilliseconds() {
        let started = Date()
        let timings = PrecisionProbe.measure()
        let elapsed = Date().timeIntervalSince(started)
        #expect(timings.f32Seconds > 0 && timings.f32Seconds < 0.5 && timings.bf16Seconds > 0 && timings.bf16Seconds < 0.5, "\(timings)")
        #expect(elapsed < 5, "the probe took \(elapsed) s")
        print("precision probe on \(Engine.shared.platform.cpuModel): f32 \(timings.f32Seconds * 1e3) ms, bf16 \(timings.bf16Seconds * 1e3) ms, whole probe \(elapsed * 1e3) ms")
    }

    private func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("jdrl-auto-precision-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
