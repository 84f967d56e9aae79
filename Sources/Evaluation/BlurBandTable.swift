import Foundation
import Manifest
import Metrics

/// Where does a model help, and does it sharpen? Over the synthesised captures, scored against their
/// exactly aligned sharp image, per blur-radius band: one pooled PSNR per band (squared errors summed
/// over every pixel of the band across all images) and its gain over the blurry input's, and the share
/// of the sharp image's fine detail each image holds there (median over images). Per model also: on how
/// many images it helps, where the input holds little detail how much the model brings back, and
/// whether its colour error exceeds the input's own.
public struct BlurBandTable: Sendable {
    /// A per-image detail ratio needs this many Laplacian pixels in the band (a 32x32 area): fewer give
    /// ratios dominated by a handful of edges.
    public static let minimumDetailPixels = 1024
    /// "The input holds less than half the sharp image's fine detail."
    public static let scarceDetail = 0.5
    /// The most a model's per-channel |mean colour error| may exceed the input's on an image.
    public static let colourTolerance = 0.001

    public struct Band: Sendable, Equatable {
        /// Pixels summed over the images, the pooled PSNR over them, and its gain over the input's pooled
        /// PSNR on the same images (nil for the input itself or without pixels).
        public var pixels = 0
        public var psnr: Double?
        public var gain: Double?
        /// Median over images of (scored detail / sharp detail), and over how many images; for a model,
        /// also the input's median over the same images.
        public var detail: Double?
        public var detailImages = 0
        public var inputDetail: Double?
    }

    /// Image/band cells where the input holds less than `scarceDetail` of the sharp image's detail.
    public struct ScarceDetail: Sendable, Equatable {
        public var cells: Int
        public var inputMedian: Double?
        public var outputMedian: Double?
        /// Output median / input median (the target asks for at least 2, without passing 1).
        public var factor: Double? {
            guard let i = inputMedian, let o = outputMedian, i > 0 else { return nil }
            return o / i
        }
    }

    /// The largest excess of a model's per-channel |mean colour error| over the input's on one image.
    public struct ColourExcess: Sendable, Equatable {
        public var value: Double
        public var image: String
        public var channel: String
    }

    public struct Row: Sendable {
        public var label: String
        public var checkpointPath: String?
        /// Images with band sums.
        public var images: Int
        /// In `BlurBand.allCases` order.
        public var bands: [Band]
        /// Models only (nil for the input): per-image verdicts against the input (InputGainTable.Gain's
        /// definitions, on each image), the detail where the input lacks it, and the colour criterion.
        public var helps: Int?
        public var worse: Int?
        public var compared: Int?
        public var scarce: ScarceDetail?
        public var colourViolations: Int?
        public var colourCompared: Int?
        public var worstColour: ColourExcess?

        public func band(_ band: BlurBand) -> Band { bands[band.index] }

        /// The in-focus detail of the output relative to the input's (the target: within 10 %).
        public var inFocusDetailChange: Double? {
            let b = band(.inFocus)
            guard let o = b.detail, let i = b.inputDetail, i > 0 else { return nil }
            return o / i
        }
    }

    public let rows: [Row]
    /// What helps-on-N and the colour criterion compare against ("aligned sharp image" or "deformed GT").
    public let wholeTarget: String
    /// Per (image, method, band): the per-image numbers behind the medians (`bands_per_image.csv`).
    let perImage: [(label: String, rows: [EvaluationBandScore])]
    let inputScores: [EvaluationBandScore]

    /// Is there anything to show (any synthesised capture scored with band sums)?
    public var isEmpty: Bool { rows.allSatisfy { $0.images == 0 } }

    /// `lines`, `bandRows` and `imageRows` in the same (method) order; the input's line has no checkpoint.
    public init(lines: [ResultsTable.Line], bandRows: [[EvaluationBandScore]], imageRows: [[Evaluation]], wholeTarget: String) {
        self.wholeTarget = wholeTarget
        perImage = zip(lines, bandRows).map { ($0.label, $1) }
        let inputIndex = lines.firstIndex { $0.checkpointPath == nil }
        let inputBands = inputIndex.map { bandRows[$0] } ?? []
        inputScores = inputBands
        let inputImages = inputIndex.map { imageRows[$0] } ?? []
        let target: EvaluationTarget = wholeTarget == "aligned sharp image" ? .alignedSharp : .deformedGt
        rows = lines.indices.map { index in
            let line = lines[index], mine = bandRows[index]
            let isInput = index == inputIndex
            var row = Row(label: line.label, checkpointPath: line.checkpointPath, images: Set(mine.map(\.captureId)).count,
                          bands: Self.bands(mine, input: isInput ? nil : inputBands))
            if !isInput {
                Self.verdicts(&row, mine: imageRows[index], input: inputImages, target: target)
                row.scarce = Self.scarceDetailCells(mine, input: inputBands)
                Self.colour(&row, mine: imageRows[index], input: inputImages, target: target)
            }
            return row
        }
    }

    // MARK: Pooling

    static func bands(_ mine: [EvaluationBandScore], input: [EvaluationBandScore]?) -> [Band] {
        BlurBand.allCases.map { band in
            let own = mine.filter { $0.band == band }
            var cell = Band()
            cell.pixels = own.reduce(0) { $0 + $1.pixels }
            cell.psnr = pooled(own)
            let ratios = own.compactMap { $0.detailRatio(minimumPixels: minimumDetailPixels) }
            cell.detail = median(ratios)
            cell.detailImages = ratios.count
            if let input {
                // The input over exactly the images this method was scored on.
                let images = Set(own.map(\.captureId))
                let theirs = input.filter { $0.band == band && images.contains($0.captureId) }
                let shared = Set(theirs.map(\.captureId))
                if let a = pooled(own.filter { shared.contains($0.captureId) }), let b = pooled(theirs), a.isFinite, b.isFinite { cell.gain = a - b }
                let withRatio = Set(own.filter { $0.detailRatio(minimumPixels: minimumDetailPixels) != nil }.map(\.captureId))
                cell.inputDetail = median(theirs.filter { withRatio.contains($0.captureId) }.compactMap { $0.detailRatio(minimumPixels: minimumDetailPixels) })
            }
            return cell
        }
    }

    /// One PSNR over every pixel and channel of the rows.
    static func pooled(_ rows: [EvaluationBandScore]) -> Double? {
        PooledPSNR.value(squaredError: rows.reduce(0) { $0 + $1.squaredError }, samples: rows.reduce(0) { $0 + $1.pixels * $1.channels })
    }

    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted(), mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }

    /// Every (image, band) cell where the input's detail ratio is below `scarceDetail`, with the model's ratio there.
    static func scarceDetailCells(_ mine: [EvaluationBandScore], input: [EvaluationBandScore]) -> ScarceDetail {
        var inputs: [Double] = [], outputs: [Double] = []
        for output in mine {
            guard let o = output.detailRatio(minimumPixels: minimumDetailPixels),
                  let i = input.first(where: { $0.captureId == output.captureId && $0.band == output.band })?.detailRatio(minimumPixels: minimumDetailPixels),
                  i < scarceDetail else { continue }
            inputs.append(i)
            outputs.append(o)
        }
        return ScarceDetail(cells: inputs.count, inputMedian: median(inputs), outputMedian: median(outputs))
    }

    // MARK: Per-image verdicts

    /// Helps / worse per image, with the gain table's definitions applied to each image's differences.
    static func verdicts(_ row: inout Row, mine: [Evaluation], input: [Evaluation], target: EvaluationTarget) {
        var helps = 0, worse = 0, compared = 0
        for own in mine where own.target == target {
            guard let theirs = input.first(where: { $0.captureId == own.captureId && $0.target == target }) else { continue }
            let region = mine.first { $0.captureId == own.captureId && $0.target == .alignedSharpDefocused }
            let inputRegion = input.first { $0.captureId == own.captureId && $0.target == .alignedSharpDefocused }
            func delta(_ a: Double?, _ b: Double?) -> Double? { if let a, let b { return a - b }; return nil }
            let gain = InputGainTable.Gain(label: row.label, psnr: own.psnr - theirs.psnr, ssim: own.ssim - theirs.ssim,
                                           regionPSNR: delta(region?.psnr, inputRegion?.psnr), regionSSIM: delta(region?.ssim, inputRegion?.ssim))
            compared += 1
            if gain.helps { helps += 1 }
            if gain.isWorse { worse += 1 }
        }
        row.helps = helps; row.worse = worse; row.compared = compared
    }

    /// Per image and channel: |model's mean colour error| - |input's|, against the same target.
    static func colour(_ row: inout Row, mine: [Evaluation], input: [Evaluation], target: EvaluationTarget) {
        var violations = 0, compared = 0
        var worst: ColourExcess?
        for own in mine where own.target == target {
            guard let theirs = input.first(where: { $0.captureId == own.captureId && $0.target == target }),
                  let m = channels(own), let i = channels(theirs) else { continue }
            compared += 1
            let excess = zip(m, i).map { abs($0) - abs($1) }
            let largest = excess.max()!, channel = ["R", "G", "B"][excess.firstIndex(of: largest)!]
            if largest > colourTolerance { violations += 1 }
            if worst == nil || largest > worst!.value { worst = ColourExcess(value: largest, image: own.imageName, channel: channel) }
        }
        row.colourViolations = compared > 0 ? violations : nil
        row.colourCompared = compared > 0 ? compared : nil
        row.worstColour = worst
    }

    static func channels(_ row: Evaluation) -> [Double]? {
        guard let r = row.colourErrorR, let g = row.colourErrorG, let b = row.colourErrorB else { return nil }
        return [r, g, b]
    }
}
