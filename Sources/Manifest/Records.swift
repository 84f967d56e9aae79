import Foundation
import GRDB

// One plain struct per table; columns are snake_case in SQL and camelCase here (GRDB converts).
// Enumerated columns decode into enums, so a bad value in the file fails loudly instead of drifting.

/// Shared GRDB settings for every record: snake_case columns, auto-incremented ids.
public protocol ManifestRecord: Codable, Sendable, FetchableRecord, MutablePersistableRecord {}

extension ManifestRecord {
    public static var databaseColumnDecodingStrategy: DatabaseColumnDecodingStrategy { .convertFromSnakeCase }
    public static var databaseColumnEncodingStrategy: DatabaseColumnEncodingStrategy { .convertToSnakeCase }
}

public enum Split: String, Codable, Sendable, CaseIterable { case train, val, test }
public enum Layout: String, Codable, Sendable, CaseIterable { case sdd, dpdd, realdof, generic }
public enum CaptureStatus: String, Codable, Sendable { case ok, rejected }
public enum TilingProtocol: String, Codable, Sendable, CaseIterable { case sdd, dpdd }

/// A blurry / all-in-focus pair as ingested. Identity: (root, split, name).
public struct Capture: ManifestRecord, Equatable {
    public static let databaseTableName = "captures"
    public var id: Int64?
    /// The dataset root folder the pair was found under (absolute path).
    public var root: String
    public var name: String
    public var split: Split
    public var layout: Layout
    public var blurryPath: String
    public var sharpPath: String
    public var width: Int?
    public var height: Int?
    public var bitDepth: Int?
    public var blurryHash: String?
    public var sharpHash: String?
    public var status: CaptureStatus
    public var reason: String?
    public var notes: String?
    public var ingestedAt: Date

    public init(id: Int64? = nil, root: String, name: String, split: Split, layout: Layout, blurryPath: String, sharpPath: String,
                width: Int? = nil, height: Int? = nil, bitDepth: Int? = nil, blurryHash: String? = nil, sharpHash: String? = nil,
                status: CaptureStatus, reason: String? = nil, notes: String? = nil, ingestedAt: Date = Date()) {
        self.id = id; self.root = root; self.name = name; self.split = split; self.layout = layout
        self.blurryPath = blurryPath; self.sharpPath = sharpPath; self.width = width; self.height = height
        self.bitDepth = bitDepth; self.blurryHash = blurryHash; self.sharpHash = sharpHash
        self.status = status; self.reason = reason; self.notes = notes; self.ingestedAt = ingestedAt
    }

    /// Both files' content hashes: what later stages key their idempotence on.
    public var contentHash: String { "\(blurryHash ?? "-"):\(sharpHash ?? "-")" }

    /// What `--shard` splits captures by: stable over re-ingests and the same in every stage (ingest,
    /// tile, eval), so shard K of each stage handles the same captures.
    public static func shardKey(root: String, split: Split, name: String) -> String { "\(root)|\(split.rawValue)|\(name)" }
    public var shardKey: String { Self.shardKey(root: root, split: split, name: name) }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A 512x512 (or `size`) patch cut from a capture. `x`, `y` are in the resized image (scale `scale`).
/// Patches dropped by the sharpness filter are kept as rows with `kept = false` and no files.
public struct Patch: ManifestRecord, Equatable {
    public static let databaseTableName = "patches"
    public var id: Int64?
    public var captureId: Int64
    public var split: Split
    public var blurryPath: String?
    public var sharpPath: String?
    public var x: Int
    public var y: Int
    public var size: Int
    public var scale: Double
    public var `protocol`: TilingProtocol
    /// Mean squared Sobel gradient of the sharp patch's luma (samples in [0, 1]).
    public var sharpness: Double?
    public var kept: Bool
    public var paramsHash: String

    public init(id: Int64? = nil, captureId: Int64, split: Split, blurryPath: String?, sharpPath: String?, x: Int, y: Int,
                size: Int, scale: Double, protocol: TilingProtocol, sharpness: Double?, kept: Bool, paramsHash: String) {
        self.id = id; self.captureId = captureId; self.split = split; self.blurryPath = blurryPath; self.sharpPath = sharpPath
        self.x = x; self.y = y; self.size = size; self.scale = scale; self.protocol = `protocol`
        self.sharpness = sharpness; self.kept = kept; self.paramsHash = paramsHash
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// One invocation of a stage, with what it did.
public struct StageRun: ManifestRecord, Equatable {
    public static let databaseTableName = "stage_runs"
    public var id: Int64?
    public var stage: String
    public var paramsHash: String
    public var startedAt: Date
    public var finishedAt: Date?
    public var itemsDone: Int
    public var itemsSkipped: Int
    public var itemsRejected: Int
    public var outputs: Int

    public init(id: Int64? = nil, stage: String, paramsHash: String, startedAt: Date = Date(), finishedAt: Date? = nil,
                itemsDone: Int = 0, itemsSkipped: Int = 0, itemsRejected: Int = 0, outputs: Int = 0) {
        self.id = id; self.stage = stage; self.paramsHash = paramsHash; self.startedAt = startedAt; self.finishedAt = finishedAt
        self.itemsDone = itemsDone; self.itemsSkipped = itemsSkipped; self.itemsRejected = itemsRejected; self.outputs = outputs
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// "Stage S with parameters P finished capture C whose content hash was H": the idempotence record.
public struct StageItem: ManifestRecord, Equatable {
    public static let databaseTableName = "stage_items"
    public var stage: String
    public var paramsHash: String
    public var captureId: Int64
    public var inputHash: String
    public var outputCount: Int
    public var finishedAt: Date

    public init(stage: String, paramsHash: String, captureId: Int64, inputHash: String, outputCount: Int, finishedAt: Date = Date()) {
        self.stage = stage; self.paramsHash = paramsHash; self.captureId = captureId; self.inputHash = inputHash
        self.outputCount = outputCount; self.finishedAt = finishedAt
    }
}

/// A dense flow file for a patch or a whole capture. `direction` names source and target, e.g.
/// "blurry_to_sharp" (convention: A(p) matches B(p + flow(p))). Global-fit stats are optional.
public struct FlowRecord: ManifestRecord, Equatable {
    public static let databaseTableName = "flows"
    public var id: Int64?
    public var patchId: Int64?
    public var captureId: Int64?
    public var direction: String
    public var flowPath: String
    public var maskPath: String?
    public var zoom: Double?
    public var shiftX: Double?
    public var shiftY: Double?
    public var rotationDeg: Double?
    public var residualEpe: Double?
    public var paramsHash: String
    public var createdAt: Date
    /// Photometric alignment (migration v4-flow-colour): target colours, warped into the source's frame
    /// by this flow, map onto the source's as `source_c ~ gain_c * warped_target_c + offset_c`
    /// (low-pass fit inside the mask). All nil for rows written before the colour fit existed.
    public var colourGainR: Double?
    public var colourGainG: Double?
    public var colourGainB: Double?
    public var colourOffsetR: Double?
    public var colourOffsetG: Double?
    public var colourOffsetB: Double?
    /// Robust RMS of the low-pass residual after the map (largest over channels).
    public var colourResidual: Double?
    /// Where the map acts: "linear" (on linear light, sRGB decoded and re-encoded around it) or "srgb".
    public var colourSpace: String?

    public init(id: Int64? = nil, patchId: Int64? = nil, captureId: Int64? = nil, direction: String, flowPath: String,
                maskPath: String? = nil, zoom: Double? = nil, shiftX: Double? = nil, shiftY: Double? = nil,
                rotationDeg: Double? = nil, residualEpe: Double? = nil, paramsHash: String, createdAt: Date = Date()) {
        self.id = id; self.patchId = patchId; self.captureId = captureId; self.direction = direction; self.flowPath = flowPath
        self.maskPath = maskPath; self.zoom = zoom; self.shiftX = shiftX; self.shiftY = shiftY; self.rotationDeg = rotationDeg
        self.residualEpe = residualEpe; self.paramsHash = paramsHash; self.createdAt = createdAt
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    /// The stored colour map as (gain, offset) per R, G, B and its space; nil unless all of it is there.
    public var colourMap: (gain: [Double], offset: [Double], space: String)? {
        guard let gr = colourGainR, let gg = colourGainG, let gb = colourGainB,
              let or = colourOffsetR, let og = colourOffsetG, let ob = colourOffsetB, let space = colourSpace else { return nil }
        return ([gr, gg, gb], [or, og, ob], space)
    }

    /// Sets the colour columns from per-channel gains and offsets (3 each), their space and the fit's residual.
    public mutating func setColourMap(gain: [Double], offset: [Double], space: String, residual: Double) {
        precondition(gain.count == 3 && offset.count == 3, "the manifest stores R, G, B")
        colourGainR = gain[0]; colourGainG = gain[1]; colourGainB = gain[2]
        colourOffsetR = offset[0]; colourOffsetG = offset[1]; colourOffsetB = offset[2]
        colourResidual = residual
        colourSpace = space
    }
}

public enum RunStatus: String, Codable, Sendable { case running, finished, failed, stopped }

/// A training run (its folder holds the resolved config, log and checkpoints).
public struct Run: ManifestRecord, Equatable {
    public static let databaseTableName = "runs"
    public var id: Int64?
    public var name: String
    public var configPath: String
    public var configHash: String
    public var status: RunStatus
    public var startedAt: Date
    public var updatedAt: Date

    public init(id: Int64? = nil, name: String, configPath: String, configHash: String, status: RunStatus = .running,
                startedAt: Date = Date(), updatedAt: Date = Date()) {
        self.id = id; self.name = name; self.configPath = configPath; self.configHash = configHash; self.status = status
        self.startedAt = startedAt; self.updatedAt = updatedAt
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

public struct Checkpoint: ManifestRecord, Equatable {
    public static let databaseTableName = "checkpoints"
    public var id: Int64?
    public var runId: Int64
    public var step: Int
    public var epoch: Int
    public var path: String
    public var createdAt: Date

    public init(id: Int64? = nil, runId: Int64, step: Int, epoch: Int, path: String, createdAt: Date = Date()) {
        self.id = id; self.runId = runId; self.step = step; self.epoch = epoch; self.path = path; self.createdAt = createdAt
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// One logged optimisation step. Each loss term the step computed is stored by its name in the column
/// `loss_<name>` (`loss_deblur`, `loss_cycle`, ...); a term it did not compute is NULL.
public struct TrainingStep: ManifestRecord, Equatable {
    public static let databaseTableName = "training_steps"
    public var runId: Int64
    public var step: Int
    public var epoch: Int
    public var lr: Double
    public var lossTotal: Double
    /// Each computed term's value by the term's name (`deblur`, `cycle`, `reblur`, `prior`).
    public var losses: [String: Double]
    public var seconds: Double

    static let lossPrefix = "loss_", totalColumn = "loss_total"

    public init(runId: Int64, step: Int, epoch: Int, lr: Double, lossTotal: Double, losses: [String: Double], seconds: Double) {
        self.runId = runId; self.step = step; self.epoch = epoch; self.lr = lr; self.lossTotal = lossTotal
        self.losses = losses; self.seconds = seconds
    }

    public init(row: Row) throws {
        runId = row["run_id"]; step = row["step"]; epoch = row["epoch"]; lr = row["lr"]; lossTotal = row[Self.totalColumn]
        seconds = row["seconds"]
        losses = [:]
        for column in row.columnNames where column.hasPrefix(Self.lossPrefix) && column != Self.totalColumn {
            if let value: Double = row[column] { losses[String(column.dropFirst(Self.lossPrefix.count))] = value }
        }
    }

    public func encode(to container: inout PersistenceContainer) throws {
        container["run_id"] = runId; container["step"] = step; container["epoch"] = epoch; container["lr"] = lr
        container[Self.totalColumn] = lossTotal
        for (name, value) in losses { container[Self.lossPrefix + name] = value }
        container["seconds"] = seconds
    }
}

public enum EvaluationTarget: String, Codable, Sendable {
    case gt, deformedGt = "deformed_gt"
    /// Synthesised captures only: the sharp image in the blurry frame (no misalignment, no aligner).
    case alignedSharp = "aligned_sharp"
    /// The same, on the defocused region only (blur radius > 1 px in the synthesiser's map).
    case alignedSharpDefocused = "aligned_sharp_defocused"
}

/// One image's scores; says what it was measured against (target, aligner, bit depth).
public struct Evaluation: ManifestRecord, Equatable {
    public static let databaseTableName = "evaluations"
    public var id: Int64?
    /// "checkpoint" for a trained model (then `checkpointPath` is set) or a baseline's name, e.g. "identity".
    public var method: String
    public var checkpointPath: String?
    public var captureId: Int64?
    public var imageName: String
    public var split: String
    public var target: EvaluationTarget
    public var aligner: String?
    public var bitDepth: Int
    public var psnr: Double
    public var ssim: Double
    public var mae: Double
    public var lpips: Double?
    public var createdAt: Date
    /// Mean colour error (migration v5-evaluation-colour): per-channel mean of (scored - target) over the
    /// scored region; nil for rows scored before it existed.
    public var colourErrorR: Double?
    public var colourErrorG: Double?
    public var colourErrorB: Double?
    /// PSNR after removing each channel's mean error: a separate, colour-corrected score (never the plain one).
    public var psnrColourCorrected: Double?
    /// Mean displacement in pixels of the global map from the scored image to its blurry input (migration
    /// v7): a model that warps instead of deblurring shows it here. nil for rows scored before.
    public var shiftToInputPx: Double?

    public init(id: Int64? = nil, method: String, checkpointPath: String? = nil, captureId: Int64? = nil, imageName: String,
                split: String, target: EvaluationTarget, aligner: String? = nil, bitDepth: Int, psnr: Double, ssim: Double,
                mae: Double, lpips: Double? = nil, createdAt: Date = Date(),
                colourError: [Double]? = nil, psnrColourCorrected: Double? = nil, shiftToInputPx: Double? = nil) {
        self.id = id; self.method = method; self.checkpointPath = checkpointPath; self.captureId = captureId
        self.imageName = imageName; self.split = split; self.target = target; self.aligner = aligner; self.bitDepth = bitDepth
        self.psnr = psnr; self.ssim = ssim; self.mae = mae; self.lpips = lpips; self.createdAt = createdAt
        if let colourError {
            precondition(colourError.count == 3, "the manifest stores R, G, B")
            colourErrorR = colourError[0]; colourErrorG = colourError[1]; colourErrorB = colourError[2]
        }
        self.psnrColourCorrected = psnrColourCorrected
        self.shiftToInputPx = shiftToInputPx
    }

    /// The largest |mean error| over R, G, B (what the tables show); nil for rows scored before.
    public var largestColourError: Double? {
        guard let r = colourErrorR, let g = colourErrorG, let b = colourErrorB else { return nil }
        return max(abs(r), abs(g), abs(b))
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
