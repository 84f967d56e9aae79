import Flow
import Foundation
import Tensors
import Manifest
import StageSupport

/// What produced the image being scored: the blurry input itself (the baseline row of the paper's
/// tables) or a checkpoint's UNet.
public enum EvaluatedMethod: @unchecked Sendable {
    case blurryInput
    case checkpoint(DeblurCheckpoint)

    /// The `evaluations.method` column (SCHEMA.md: "checkpoint" or a baseline's name).
    public var methodColumn: String {
        switch self {
        case .blurryInput: return "blurry_input"
        case .checkpoint: return "checkpoint"
        }
    }

    /// The `evaluations.checkpoint_path` column: the weights file, unambiguous.
    public var checkpointPath: String? {
        if case let .checkpoint(checkpoint) = self { return checkpoint.weightsURL.path }
        return nil
    }

    public var label: String {
        switch self {
        case .blurryInput: return "blurry input"
        case let .checkpoint(checkpoint):
            // A weights file outside a run folder is named with its folder too (`pretrained/net_g.safetensors`):
            // the file name alone does not say which model a row is.
            guard checkpoint.runFolder == nil, checkpoint.step == nil else { return checkpoint.label }
            let folder = checkpoint.weightsURL.deletingLastPathComponent().lastPathComponent
            return folder.isEmpty || folder == "/" ? checkpoint.label : "\(folder)/\(checkpoint.label)"
        }
    }

    /// A file-name-safe form of the label (report crops).
    public var slug: String { Slug.make(label) }

    /// Everything that decides the scores: the weights' content, the tiling, the aligner's settings,
    /// the metric settings. Same hash and same capture content: the stored rows are still valid.
    func paramsHash(_ settings: EvaluationSettings) -> String {
        var parts = ["jdrl-eval v1", "method=\(methodColumn)", "aligner=\(settings.flow.fingerprint)",
                     "border=\(settings.border)", "ssim=uniform7", "lpips=\(settings.lpipsWeightsHash ?? "none")"]
        // Rows against the synthesised references exist only when the pairs folder was given.
        // Band sums came later: items scored before them are scored again once.
        if settings.pairs != nil { parts += ["aligned-sharp-v1", "bands-v1"] }
        if case let .checkpoint(checkpoint) = self {
            parts += ["weights=\(checkpoint.weightsHash)", "path=\(checkpoint.weightsURL.path)",
                      "tile=\(settings.tile)", "overlap=\(settings.overlap)"]
            // Only named when not the f32 default, so that earlier f32 rows keep their hash.
            if settings.precision != .f32 { parts.append("precision=\(settings.precision)") }
            if checkpoint.config.residual { parts.append("residual") }
            if checkpoint.nafnet != nil { parts.append("nafnet") }
        }
        return ContentHash.of(parts.joined(separator: "|"))
    }
}

enum Slug {
    static func make(_ text: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
        return String(text.map { allowed.contains($0) ? $0 : "_" })
    }
}

/// How a manifest evaluation runs (the settings that enter the parameters hash, and the scope).
public struct EvaluationSettings: Sendable {
    public var split: Split
    /// Only captures ingested from this folder (cron: the inbox); nil: the whole split.
    public var root: String?
    /// Only this shard's captures (`Capture.shardKey`). Scope only: the scores do not depend on it.
    public var shard = Shard.all
    public var tile = 512
    public var overlap = 128
    /// The UNet's arithmetic: f32 (reference) or bf16 (AMX convolutions).
    public var precision = ElementType.f32
    public var border = 0
    public var flow = FlowParameters()
    public var lpipsWeights: URL?
    /// jdrl-synth's pairs folder (`synthesis.pairs` of the dataset config): synthesised captures are
    /// also scored against their aligned sharp image, whole and on the defocused region.
    public var pairs: URL?
    /// Content hash of the LPIPS weights (set by the evaluator when it loads them).
    public var lpipsWeightsHash: String?

    public init(split: Split, root: String? = nil) {
        self.split = split
        self.root = root
    }

    /// The `evaluations.aligner` column: which flow deformed the GT, with a hash of its settings.
    public var alignerName: String {
        "classical-ecc-dense/" + String(ContentHash.of(flow.fingerprint).prefix(8))
    }

    /// The sentence every report carries about the deformed GT.
    public static let alignerSentence = "Deformed GT: the GT warped onto each scored image by our classical aligner "
        + "(Flow module: ECC similarity/affine fit + dense residual flow, flow(scored image -> GT) then a backward warp), "
        + "not the PWC-Net of the reference code; deformed-GT scores depend on the aligner and are not directly comparable to the paper's."
}
