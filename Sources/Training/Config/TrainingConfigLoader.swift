import Foundation
import Models
import StageSupport
import Yams

/// Reads a training YAML: unknown keys are rejected section by section (a typo must not fall back
/// to a default), the sections are decoded into `TrainingConfig`, then cross-field rules are checked.
public enum TrainingConfigLoader {
    /// Every mapping section of the file and the keys it may hold.
    static let sections: [(path: [String], keys: [String])] = [
        ([], TrainingConfig.CodingKeys.allCases.map(\.rawValue)),
        (["datasets"], DatasetsSection.CodingKeys.allCases.map(\.rawValue)),
        (["datasets", "train"], TrainDataset.CodingKeys.allCases.map(\.rawValue)),
        (["network_g"], NetworkSpec.CodingKeys.allCases.map(\.rawValue)),
        (["network_g", "nafnet"], NAFNetConfig.CodingKeys.allCases.map(\.rawValue)),
        (["network_g", "prior"], BlurPriorSection.CodingKeys.allCases.map(\.rawValue)),
        (["network_reblur"], ReblurNetworkSection.CodingKeys.allCases.map(\.rawValue)),
        (["train"], TrainSection.CodingKeys.allCases.map(\.rawValue)),
        (["train", "optimizer"], OptimizerSection.CodingKeys.allCases.map(\.rawValue)),
        (["train", "scheduler"], SchedulerSection.CodingKeys.allCases.map(\.rawValue)),
        (["train", "ablation"], AblationSection.CodingKeys.allCases.map(\.rawValue)),
        (["checkpoint"], CheckpointSection.CodingKeys.allCases.map(\.rawValue)),
        (["logger"], LoggerSection.CodingKeys.allCases.map(\.rawValue)),
    ]

    public static func load(_ url: URL) throws -> TrainingConfig {
        try parse(read(url), path: url.path)
    }

    /// `path` names the text in errors; a `base:` in it is resolved relative to the folder of `path`.
    public static func parse(_ text: String, path: String = "<config>") throws -> TrainingConfig {
        let resolved = try ConfigBase.resolve(text, path: path, checkKeys: checkKeys, read: read)
        try checkKeys(resolved, path: path, allowingBase: false)
        let config = try YAMLConfig.decode(TrainingConfig.self, from: resolved, path: path)
        try validate(config, path: path)
        return config
    }

    static func read(_ url: URL) throws -> String {
        do { return try String(contentsOf: url, encoding: .utf8) } catch {
            throw TrainingConfigError(path: url.path, reason: "cannot read (\(error.localizedDescription))")
        }
    }

    /// Refuses a key no section has, naming the file, the section and the key.
    static func checkKeys(_ text: String, path: String, allowingBase: Bool) throws {
        for section in sections {
            let allowed = section.keys + (allowingBase && section.path.isEmpty ? [ConfigBase.key] : [])
            let unknown = try YAMLConfig.unknownKeys(in: text, allowed: Set(allowed), section: section.path, path: path)
            if !unknown.isEmpty {
                let whereText = section.path.isEmpty ? "top level" : "section '\(section.path.joined(separator: "."))'"
                throw TrainingConfigError(path: path, reason: "unknown key(s) \(unknown.map { "'\($0)'" }.joined(separator: ", ")) in \(whereText); allowed: \(allowed.joined(separator: ", "))")
            }
        }
    }

    /// The rules a single key cannot express. Each message says what to change.
    public static func validate(_ c: TrainingConfig, path: String = "<config>") throws {
        func fail(_ reason: String) throws -> Never { throw TrainingConfigError(path: path, reason: reason) }
        if c.name.isEmpty || c.name.contains("/") { try fail("name must be a non-empty folder name (no '/')") }
        let d = c.datasets.train
        if d.batchSize < 1 { try fail("datasets.train.batch_size must be >= 1") }
        if d.prefetch < 1 { try fail("datasets.train.prefetch must be >= 1") }
        if let problem = c.networkG.problem(cropSize: d.cropSize) { try fail(problem) }
        if c.networkReblur.width < 1 { try fail("network_reblur.width must be >= 1") }
        let t = c.train
        if t.optimizer.lr <= 0 { try fail("train.optimizer.lr must be > 0") }
        if t.optimizer.betas.count != 2 || t.optimizer.betas.contains(where: { !(0..<1).contains($0) }) {
            try fail("train.optimizer.betas must be two values in [0, 1)")
        }
        if t.epochs < 1 { try fail("train.epochs must be >= 1") }
        if t.scheduler.warmupSteps < 0 { try fail("train.scheduler.warmup_steps must be >= 0 (0: no warm-up)") }
        if t.initEpochs < 0 || t.initEpochs > t.epochs { try fail("train.init_epochs must be in 0...epochs") }
        if let warmup = t.reblurWarmupEpochs {
            if warmup < 0 || t.initEpochs + warmup > t.epochs { try fail("train.reblur_warmup_epochs must be in 0...(epochs - init_epochs)") }
            if warmup > 0 && (t.lossMode != .jdrl || t.ablation.noReblur) {
                try fail("train.reblur_warmup_epochs trains R alone: it needs loss_mode jdrl with the reblur term")
            }
        }
        if let initFrom = t.initFrom, initFrom.isEmpty { try fail("train.init_from must name a weights file (or be left out)") }
        if t.alpha < 0 { try fail("train.alpha must be >= 0") }
        if !(t.lambda > 0 && t.lambda < 1) { try fail("train.lambda must be in (0, 1)") }
        if t.charbonnierEps <= 0 { try fail("train.charbonnier_eps must be > 0") }
        switch t.scheduler.type {
        case .multistep:
            if t.scheduler.gamma <= 0 { try fail("train.scheduler.gamma must be > 0") }
            if t.scheduler.milestones != t.scheduler.milestones.sorted() { try fail("train.scheduler.milestones must be increasing") }
        case .cosine:
            if t.scheduler.etaMin < 0 || t.scheduler.etaMin > t.optimizer.lr { try fail("train.scheduler.eta_min must be in [0, lr]") }
        }
        if t.ablation.noIsotropic {
            try fail("""
                train.ablation.no_isotropic (the paper's Table 4, row 5: unconstrained per-pixel KxK kernels in R) is not \
                supported: the Models ReblurModule only generates isotropic kernels from radial seeds, and an \
                unconstrained kernel-prediction head (K^2 channels per kernel size, no radial tying) is not \
                implemented. Set it to false.
                """)
        }
        if t.lossMode == .baseline && t.ablation != .none {
            try fail("train.ablation switches only apply to loss_mode jdrl; the baseline has no deformation, mask or reblur to switch off")
        }
        if c.checkpoint.everySteps < 1 { try fail("checkpoint.every_steps must be >= 1") }
        if c.checkpoint.keepLast < 0 { try fail("checkpoint.keep_last must be >= 0") }
        if c.logger.printEverySteps < 1 { try fail("logger.print_every_steps must be >= 1") }
    }

    /// The fully resolved config as YAML (what the run folder keeps and what the hash is taken over).
    public static func resolvedYAML(_ config: TrainingConfig) throws -> String {
        let encoder = YAMLEncoder()
        encoder.options.sortKeys = false
        return try encoder.encode(config)
    }

    /// A stable 64-bit hash of the resolved config (FNV-1a, hex): stored with the run, logged first.
    public static func hash(_ config: TrainingConfig) throws -> String {
        String(format: "%016llx", Shard.fnv1a(try resolvedYAML(config)))
    }
}

/// A config that cannot be used, with the file and a sentence saying what to change.
public struct TrainingConfigError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let reason: String
    public init(path: String, reason: String) { self.path = path; self.reason = reason }
    public var description: String { "\(path): \(reason)" }
}
