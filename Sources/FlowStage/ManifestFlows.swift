import Flow
import Foundation
import Imaging
import Manifest
import StageSupport

/// Manifest mode: for every patch (or capture) in this shard, flows both ways (blurry_to_sharp:
/// blurry(p) matches sharp(p + flow(p)); sharp_to_blurry the reverse) as .flo, calibration masks as
/// PNG and the misalignment statistics in `flows`. Idempotent: an item whose rows for this params hash
/// exist, with their files, is skipped. Files are written atomically before the rows (one transaction
/// per item), so a killed run leaves nothing half-done visible. A failing item is reported by file and
/// reason; the others go on. Next to each flow, the photometric alignment: the per-channel gain and
/// offset mapping the target (warped by that flow) onto the source's colours (ColourAlignment: low-pass
/// fit inside the mask). Rows from before the colour fit existed get it filled in without redoing the flow.
public struct ManifestFlows {
    public let manifestPath: String
    public let shard: Shard
    public let threads: Int
    public let outputDirectory: URL
    public let maskMode: MaskMode
    public let fullCaptures: Bool
    let alignment: PairAlignment

    static let directions = Manifest.flowDirections

    /// Where a manifest's flows go unless told otherwise: one folder per manifest, because the files are
    /// named by patch id and ids repeat across manifests (two datasets once overwrote each other's flows).
    public static func defaultOutputDirectory(forManifest manifestPath: String, under root: String = "work-data/flows") -> URL {
        let name = URL(fileURLWithPath: manifestPath).deletingPathExtension().lastPathComponent
        return URL(fileURLWithPath: root).appendingPathComponent(name)
    }

    public init(manifestPath: String, shard: Shard = .all, threads: Int, outputDirectory: URL, maskMode: MaskMode, fullCaptures: Bool) {
        self.manifestPath = manifestPath
        self.shard = shard
        self.threads = threads
        self.outputDirectory = outputDirectory
        self.maskMode = maskMode
        self.fullCaptures = fullCaptures
        alignment = PairAlignment(maskMode: maskMode, workers: threads)
    }

    /// Everything that decides the outputs: flow settings, mask mode and mask settings.
    public var paramsHash: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let mask = (try? encoder.encode(alignment.mask)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return ContentHash.of("flow-v1|\(alignment.flow.fingerprint)|\(maskMode.rawValue)|\(mask)")
    }

    struct Item { let key: String; let patchId: Int64?; let captureId: Int64?; let blurry: String; let sharp: String }

    /// Returns the number of items that failed.
    public func run() throws -> Int {
        let manifest = try Manifest.open(path: manifestPath)
        AtomicFile.removeStalePartials(under: outputDirectory)
        let hash = paramsHash
        let items = try collectItems(manifest).filter { shard.contains(key: $0.key) }
        let progress = Progress(label: "jdrl-flow", total: items.count)
        var failures = 0, skipped = 0, colourFilled = 0
        for item in items {
            defer { progress.advance() }
            do {
                switch try state(of: item, manifest: manifest, hash: hash) {
                case .done: skipped += 1
                case let .needsColour(rows): try fillColour(item, rows: rows, manifest: manifest); colourFilled += 1
                case .pending: try process(item, manifest: manifest, hash: hash)
                }
            } catch {
                failures += 1
                FileHandle.standardError.write(Data("jdrl-flow: \(item.blurry) / \(item.sharp): \(error)\n".utf8))
            }
        }
        progress.finish()
        let filled = colourFilled > 0 ? ", \(colourFilled) given their colour fit" : ""
        FileHandle.standardError.write(Data("jdrl-flow: \(items.count) items, \(skipped) already done\(filled), \(failures) failed\n".utf8))
        let stored = try manifest.flows(paramsHash: hash, direction: Self.directions[0])
        let keys = Set(items.map(\.key))
        let inScope = stored.filter { keys.contains($0.patchId.map { "patch-\($0)" } ?? "capture-\($0.captureId ?? -1)") }
        FileHandle.standardError.write(Data((ColourSpread(inScope.compactMap(\.colourMap).map { ($0.gain, $0.offset) },
                                                          space: alignment.colour.space.rawValue).summary + "\n").utf8))
        return failures
    }

    private func collectItems(_ manifest: Manifest) throws -> [Item] {
        if fullCaptures {
            return try manifest.captures(status: .ok).compactMap { c in
                guard let id = c.id else { return nil }
                return Item(key: "capture-\(id)", patchId: nil, captureId: id, blurry: c.blurryPath, sharp: c.sharpPath)
            }
        }
        return try manifest.patches(keptOnly: true).compactMap { p in
            guard let id = p.id, let blurry = p.blurryPath, let sharp = p.sharpPath else { return nil }
            return Item(key: "patch-\(id)", patchId: id, captureId: p.captureId, blurry: blurry, sharp: sharp)
        }
    }

    enum ItemState { case pending, done, needsColour([FlowRecord]) }

    /// Done: both rows for this hash with their files and colour fits. Rows and files without a colour
    /// fit (written before it existed): only the fit is missing.
    private func state(of item: Item, manifest: Manifest, hash: String) throws -> ItemState {
        let rows = try manifest.flows(paramsHash: hash, patchID: item.patchId, captureID: item.captureId)
        guard Set(rows.map(\.direction)) == Set(Self.directions),
              rows.allSatisfy({ FileManager.default.fileExists(atPath: $0.flowPath) }) else { return .pending }
        return rows.allSatisfy { $0.colourMap != nil } ? .done : .needsColour(rows)
    }

    /// The colour map blurry ~ gain * warp(sharp, blurry_to_sharp flow) + offset, inside that flow's mask.
    /// Fitted in this direction only: the regressor is the sharp image, whose low-pass carries no defocus.
    private func colourFit(blurry: PlanarImage, sharp: PlanarImage, flow: FlowField, mask: [Float]?, named path: String) throws -> ColourFit {
        let fit: ColourFit
        do {
            fit = try alignment.colourFit(blurry, sharp, forward: flow, mask: mask)
        } catch { throw FlowStageError("\(path): colour fit failed (\(error))") }
        try Self.checkPlausible(fit, named: path)
        return fit
    }

    /// A gain at or below zero (or not finite) is no exposure or white-balance change: the two images' colours
    /// do not correspond (an inverted or unrelated image, a patch too small or flat to fit). Said here, naming
    /// the item, instead of as the manifest's CHECK constraint failing.
    public static func checkPlausible(_ fit: ColourFit, named path: String) throws {
        let map = fit.transform
        guard map.gain.allSatisfy({ $0.isFinite && $0 > 0 }), map.offset.allSatisfy(\.isFinite) else {
            throw FlowStageError("\(path): colour fit gave an impossible map (\(map)): every gain must be positive and finite; the two images' colours do not correspond")
        }
    }

    /// blurry_to_sharp rows get the fit, sharp_to_blurry rows its inverse (maps blurry colours onto the sharp image's).
    private func store(_ fit: ColourFit, in record: inout FlowRecord) {
        let map = record.direction == Self.directions[0] ? fit.transform : (fit.transform.inverse ?? .identity(channels: fit.transform.channels))
        record.setColourMap(gain: rgb(map.gain), offset: rgb(map.offset), space: map.space.rawValue, residual: fit.residual.max() ?? 0)
    }

    /// The manifest stores R, G, B: a grey image's single value stands for all three.
    private func rgb(_ values: [Double]) -> [Double] {
        values.count >= 3 ? Array(values.prefix(3)) : [Double](repeating: values.first ?? 1, count: 3)
    }

    private func fillColour(_ item: Item, rows: [FlowRecord], manifest: Manifest) throws {
        let blurry = try load(item.blurry), sharp = try load(item.sharp)
        guard let forwardRow = rows.first(where: { $0.direction == Self.directions[0] }) else { return }
        let flow: FlowField
        do { flow = try FlowFile.read(URL(fileURLWithPath: forwardRow.flowPath)) } catch {
            throw FlowStageError("\(forwardRow.flowPath): cannot read flow (\(error))")
        }
        let mask = try forwardRow.maskPath.map { try load($0).pixels.prefix(flow.width * flow.height).map { $0 > 0.5 ? Float(1) : 0 } }
        let fit = try colourFit(blurry: blurry, sharp: sharp, flow: flow, mask: mask, named: forwardRow.flowPath)
        let updated = rows.map { row in
            var row = row
            store(fit, in: &row)
            return row
        }
        try manifest.updateFlows(updated)
    }

    private func process(_ item: Item, manifest: Manifest, hash: String) throws {
        let blurry = try load(item.blurry), sharp = try load(item.sharp)
        let (forward, backward) = try alignment.flows(blurry, sharp)
        let folder = outputDirectory.appendingPathComponent(hash.prefix(12) + "/" + item.key)
        var records: [FlowRecord] = []
        var colour: ColourFit?
        for (direction, estimate, other) in [(Self.directions[0], forward, backward), (Self.directions[1], backward, forward)] {
            let flowURL = folder.appendingPathComponent("\(direction).flo")
            let maskURL = folder.appendingPathComponent("\(direction)_mask.png")
            try AtomicFile.write(FlowFile.encode(estimate.flow), to: flowURL)
            let mask = try alignment.mask(of: estimate.flow, other: other.flow)
            try AtomicFile.write(to: maskURL) { try mask.savePNG(to: $0) }   // the temporary name keeps .png
            if direction == Self.directions[0] {
                colour = try colourFit(blurry: blurry, sharp: sharp, flow: estimate.flow, mask: mask.pixels, named: flowURL.path)
            }
            let m = estimate.motion
            var record = FlowRecord(patchId: item.patchId, captureId: item.captureId,
                                    direction: direction, flowPath: flowURL.path, maskPath: maskURL.path,
                                    zoom: m.zoom, shiftX: m.shiftX, shiftY: m.shiftY, rotationDeg: m.rotationDegrees,
                                    residualEpe: estimate.residualMeanPixels, paramsHash: hash)
            if let colour { store(colour, in: &record) }
            records.append(record)
        }
        try manifest.replaceFlows(records)
    }

    private func load(_ path: String) throws -> PlanarImage {
        do { return try ImageFile.loadPlanar(URL(fileURLWithPath: path)).image } catch {
            throw FlowStageError("\(path): cannot load image (\(error))")
        }
    }
}

struct FlowStageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// How the blurry -> sharp colour maps spread over a dataset: what jdrl-flow's summary prints.
struct ColourSpread {
    let maps: [(gain: [Double], offset: [Double])]
    let space: String
    init(_ maps: [(gain: [Double], offset: [Double])], space: String) { self.maps = maps; self.space = space }

    var summary: String {
        guard !maps.isEmpty else { return "jdrl-flow: colour: no colour fits in scope" }
        func range(_ values: [Double], _ format: String) -> String {
            let sorted = values.sorted()
            return String(format: "\(format)..\(format) (median \(format))", sorted.first!, sorted.last!, sorted[sorted.count / 2])
        }
        var parts: [String] = []
        for (c, name) in ["R", "G", "B"].enumerated() {
            parts.append("\(name) gain \(range(maps.map { $0.gain[c] }, "%.3f")), offset \(range(maps.map { $0.offset[c] }, "%+.3f"))")
        }
        // The largest change a map makes to a value in [0, 1] (affine: at 0 or 1), per item.
        let departures = maps.map { map in
            (0..<3).map { max(abs(map.offset[$0]), abs(map.gain[$0] + map.offset[$0] - 1)) }.max()!
        }.sorted()
        return "jdrl-flow: colour over \(maps.count) items (blurry ~ gain * warped sharp + offset in \(space == "linear" ? "linear light" : "sRGB values"), low-pass fit inside the mask): "
            + parts.joined(separator: "; ")
            + String(format: "; largest change to a [0,1] value: median %.3f, max %.3f", departures[departures.count / 2], departures.last!)
    }
}
