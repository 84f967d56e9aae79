import Distributed
import Foundation
import Manifest
import StageSupport
import Tensors

/// What `jdrl-train` asks for: a config file and the command-line overrides.
public struct TrainingRequest: Sendable {
    public var configPath: String
    /// Replaces datasets.train.manifest (part of the resolved config and of its hash).
    public var manifestOverride: String?
    /// Replaces `name` (the run folder runs/<name>/ and the `runs` row).
    public var runName: String?
    /// Steps to run in this invocation (nil: to the end of the schedule). A checkpoint is written when it stops.
    public var maxSteps: Int?
    public var runsDirectory: URL

    public init(configPath: String, manifestOverride: String? = nil, runName: String? = nil, maxSteps: Int? = nil,
                runsDirectory: URL = URL(fileURLWithPath: "runs")) {
        self.configPath = configPath
        self.manifestOverride = manifestOverride
        self.runName = runName
        self.maxSteps = maxSteps
        self.runsDirectory = runsDirectory
    }
}

/// Wires one run together: config -> run folder and log -> data -> networks -> loss -> loop.
/// Each piece is its own type; this only builds them in order and hands them to `TrainingLoop`.
public enum TrainingSession {
    /// Loads the config, applies the overrides, opens the manifest and trains (as one rank of `group`).
    public static func run(_ request: TrainingRequest, group: ProcessGroup = SingleProcess()) throws -> TrainingOutcome {
        var config = try TrainingConfigLoader.load(URL(fileURLWithPath: request.configPath))
        if let manifest = request.manifestOverride { config.datasets.train.manifest = manifest }
        if let name = request.runName { config.name = name }
        try TrainingConfigLoader.validate(config, path: request.configPath)
        try checkBatchDivides(config, among: group, configPath: request.configPath)
        let manifestPath = config.datasets.train.manifest
        guard FileManager.default.fileExists(atPath: manifestPath) else {
            throw DataError.emptySplit(manifest: manifestPath, split: config.datasets.train.split)
        }
        let manifest = try Manifest.open(path: manifestPath)
        let source = try ManifestPatchSource(manifest: manifest, manifestPath: manifestPath, split: config.datasets.train.split)
        return try run(config: config, configPath: request.configPath, source: source, manifest: manifest,
                       runsDirectory: request.runsDirectory, maxSteps: request.maxSteps, group: group)
    }

    /// Trains `config` on `source`; rows go to `manifest` when given. Only the leader of `group` writes the
    /// run folder, the log and the rows; every rank reads the checkpoint it resumes from.
    public static func run(config: TrainingConfig, configPath: String, source: PatchSource, manifest: Manifest?,
                           runsDirectory: URL, maxSteps: Int?, logToTerminal: Bool? = nil,
                           group: ProcessGroup = SingleProcess()) throws -> TrainingOutcome {
        let hash = try TrainingConfigLoader.hash(config)
        try checkBatchDivides(config, among: group, configPath: configPath)
        let batch = config.datasets.train.batchSize
        let folder = RunFolder(runsDirectory: runsDirectory, name: config.name)
        let log: RunLog
        if group.isLeader {
            try folder.create()
            try AtomicFile.write(Data(try TrainingConfigLoader.resolvedYAML(config).utf8), to: folder.configURL)
            log = logToTerminal.map { RunLog(fileURL: folder.logURL, isTerminal: $0) } ?? RunLog(fileURL: folder.logURL)
        } else {
            log = RunLog(fileURL: nil, isTerminal: false, echoes: false)
        }
        log.info("jdrl-train \(config.name): run folder \(folder.root.path)")
        for line in TrainingEnvironment.describe(configHash: hash, configPath: configPath) { log.info(line) }
        let perRank = batch / group.size
        if group.size > 1 {
            log.info("data parallel: \(group.description); global batch \(batch), \(perRank) per rank; gradients averaged over the ranks before each Adam step; rank 0 writes")
        }

        let requirements = PatchRequirements(config.train)
        let cache = PatchCache(source: source, requirements: requirements,
                               complete: FlowCompletion.completer(maskMode: config.train.maskMode, lambda: config.train.lambda))
        let assembler = try BatchAssembler(patches: cache, randomness: TrainingRandomness(seed: config.seed),
                                           dataset: config.datasets.train, requirements: requirements,
                                           samples: group.rank * perRank..<(group.rank + 1) * perRank)
        var dataLine = "data: \(source.count) patches (split \(config.datasets.train.split)), crop \(config.datasets.train.cropSize), batch \(config.datasets.train.batchSize), augmentation \(config.datasets.train.augmentation.rawValue)"
        if let manifestSource = source as? ManifestPatchSource {
            dataLine += ", \(manifestSource.patchesWithFlows) with precomputed flows (the rest computed once on load when needed)"
            if requirements.colour { dataLine += ", \(manifestSource.patchesWithColour) with a stored colour map" }
        }
        dataLine += requirements.colour ? "; colour_alignment gain_offset: GT mapped onto the blurry image's colours before the loss"
            : "; colour_alignment none: GT colours as shot"

        log.info(dataLine)

        let models = try ModelState.make(config, rank: group.rank)
        let g = config.networkG
        let network = (g.nafnet.map(\.summary) ?? "UNet widths \(g.widths), dropout \(g.dropout)")
            + (g.prior.map { ", blur-map prior (pseudo-supervision weight \($0.weight), ramp from \($0.rampStart))" } ?? "")
        log.info("network_g: \(network), \(models.deblur.parameterCount) parameters; "
                 + (models.reblur.map { "network_reblur: width \(config.networkReblur.width), \($0.parameterCount) parameters" } ?? "no reblurring module"))
        log.info("loss: \(config.train.lossMode.rawValue), init_epochs \(config.train.initEpochs), alpha \(config.train.alpha), lambda \(config.train.lambda), flows \(config.train.flowSource.rawValue), mask \(config.train.maskMode.configName), ablation \(ablationText(config.train.ablation))")
        let loss = JDRLLoss(settings: LossSettings(config.train, prior: g.prior), batchSize: perRank, size: config.datasets.train.cropSize)

        let resumeStep = (try? folder.checkpoints.latest())??.state.step ?? 0
        if resumeStep == 0, let initFrom = config.train.initFrom {
            try models.loadDeblurWeights(from: URL(fileURLWithPath: initFrom))
            log.info("network_g starts from \(initFrom)")
        }
        let recorder = try manifest.flatMap { manifest in group.isLeader ? manifest : nil }.map {
            try RunRecorder(manifest: $0, name: config.name, configPath: configPath, configHash: hash, resumingFromStep: resumeStep)
        }
        let loop = TrainingLoop(config: config, configHash: hash, models: models, assembler: assembler, loss: loss,
                                folder: folder, recorder: recorder, log: log, group: group)
        do {
            return try loop.run(maxSteps: maxSteps)
        } catch {
            log.closeLine()
            log.info("error: \(error)")
            try? recorder?.finish(.failed)
            throw error
        }
    }

    static func checkBatchDivides(_ config: TrainingConfig, among group: ProcessGroup, configPath: String) throws {
        let batch = config.datasets.train.batchSize
        guard batch % group.size == 0 else {
            throw TrainingConfigError(path: configPath, reason: "datasets.train.batch_size \(batch) is the global batch and must divide among the \(group.size) ranks (use a multiple of \(group.size))")
        }
    }

    static func ablationText(_ a: AblationSection) -> String {
        let on = [("no_deformation", a.noDeformation), ("no_mask", a.noMask), ("no_cycle", a.noCycle),
                  ("no_reblur", a.noReblur), ("no_isotropic", a.noIsotropic)].filter(\.1).map(\.0)
        return on.isEmpty ? "none" : on.joined(separator: ",")
    }
}

/// The environment lines every run log starts with (what decides speed and bitwise reproducibility).
public enum TrainingEnvironment {
    public static func describe(configHash: String, configPath: String) -> [String] {
        let env = ProcessInfo.processInfo.environment
        func value(_ key: String) -> String { env[key] ?? "(unset)" }
        return [
            "config \(configPath), hash \(configHash)",
            "cores \(ProcessInfo.processInfo.activeProcessorCount), oneDNN threads \(Engine.shared.threads), OMP_NUM_THREADS \(value("OMP_NUM_THREADS")), OMP_WAIT_POLICY \(value("OMP_WAIT_POLICY")), OPENBLAS_CORETYPE \(value("OPENBLAS_CORETYPE"))",
            "host \(ProcessInfo.processInfo.hostName), \(ProcessInfo.processInfo.operatingSystemVersionString)",
            "\(Engine.shared.platform)",
        ]
    }

}
