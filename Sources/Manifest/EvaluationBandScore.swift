import Foundation
import GRDB

/// The blur-radius bands of a synthesised capture's blur map, as stored in `evaluation_bands.band`.
public enum BlurBand: String, Codable, Sendable, CaseIterable {
    /// Radius <= 1 px: a disk that small barely changes an 8-bit image.
    case inFocus = "in_focus"
    /// 1 px < radius <= 3 px.
    case moderate = "r1_3"
    /// Radius > 3 px.
    case strong = "r_over_3"

    /// The band a blur radius (px) falls in.
    public static func of(radius: Float) -> BlurBand {
        radius <= 1 ? .inFocus : radius <= 3 ? .moderate : .strong
    }

    public var title: String {
        switch self {
        case .inFocus: return "in focus (r <= 1 px)"
        case .moderate: return "1 < r <= 3 px"
        case .strong: return "r > 3 px"
        }
    }

    /// Its index in `allCases` (the label of its pixels).
    public var index: Int {
        switch self {
        case .inFocus: return 0
        case .moderate: return 1
        case .strong: return 2
        }
    }
}

/// One scored image's sums over one blur-radius band: they add across images, so a table pools them
/// into one PSNR per band and keeps per-image ratios of fine detail (table `evaluation_bands`).
public struct EvaluationBandScore: ManifestRecord, Equatable {
    public static let databaseTableName = "evaluation_bands"
    public var id: Int64?
    public var method: String
    public var checkpointPath: String?
    public var captureId: Int64
    public var imageName: String
    public var split: String
    public var band: BlurBand
    /// Pixels of the band (after the metrics' border crop), and the channels each contributes.
    public var pixels: Int
    public var channels: Int
    /// Squared (scored - aligned sharp) summed over the band's pixels and channels.
    public var squaredError: Double
    /// Pixels the Laplacian sums cover (the band minus a border), and the squared Laplacian of the
    /// luminance summed over them, of the scored image and of the aligned sharp image.
    public var hfPixels: Int
    public var hfScored: Double
    public var hfSharp: Double
    public var createdAt: Date

    public init(id: Int64? = nil, method: String, checkpointPath: String?, captureId: Int64, imageName: String, split: String,
                band: BlurBand, pixels: Int, channels: Int, squaredError: Double, hfPixels: Int, hfScored: Double, hfSharp: Double,
                createdAt: Date = Date()) {
        self.id = id; self.method = method; self.checkpointPath = checkpointPath; self.captureId = captureId
        self.imageName = imageName; self.split = split; self.band = band; self.pixels = pixels; self.channels = channels
        self.squaredError = squaredError; self.hfPixels = hfPixels; self.hfScored = hfScored; self.hfSharp = hfSharp
        self.createdAt = createdAt
    }

    /// The scored image's fine detail as a share of the aligned sharp image's over the same pixels;
    /// nil when the band holds fewer than `minimumPixels` Laplacian pixels or the sharp image none.
    public func detailRatio(minimumPixels: Int) -> Double? {
        guard hfPixels >= max(minimumPixels, 1), hfSharp > 0 else { return nil }
        return hfScored / hfSharp
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension Manifest {
    /// The stored band sums of these captures, in the order they were stored.
    public func evaluationBands(captureIDs: [Int64]) throws -> [EvaluationBandScore] {
        try reader.read { db in
            try EvaluationBandScore.filter(captureIDs.contains(Column("capture_id"))).order(Column("id")).fetchAll(db)
        }
    }
}
