import Foundation
import Imaging
import Manifest

/// Turns a pair found on disk into a capture row: ok with size, bit depth and hashes, or rejected
/// with the reason. Decoding is real (every pixel, failing on the first error), so a truncated file
/// is caught here and not in a later stage.
public struct PairValidator: Sendable {
    public let root: String
    public let layout: Layout
    public let sizeTolerance: Int
    /// Largest width x height a file's header may declare; a larger one is refused before decoding.
    public let pixelLimit: Int

    /// 200 Mpx: four times a 50 Mpx camera frame, and 1.2 GB once a 16-bit RGB frame of that size is
    /// materialised for tiling. A header above it is far more likely a decompression bomb or a
    /// corrupt size field than a capture (`--max-megapixels` raises it).
    public static let defaultPixelLimit = 200_000_000
    /// An image below 8 px on a side can give no patch (jdrl-tile's smallest `--size` is 8) and no
    /// flow; it is refused at ingest rather than tiled into nothing.
    public static let smallestSide = 8

    public init(root: String, layout: Layout, sizeTolerance: Int, pixelLimit: Int = PairValidator.defaultPixelLimit) {
        self.root = root
        self.layout = layout
        self.sizeTolerance = sizeTolerance
        self.pixelLimit = pixelLimit
    }

    /// Content hashes of the files present (nil for a missing file, or anything but a readable regular
    /// file: reading a pipe would block, and `validate` names the problem).
    public func hashes(_ pair: PairCandidate) -> (blurry: String?, sharp: String?) {
        func hash(_ url: URL, present: Bool) -> String? {
            present && FileProblems.problem(at: url) == nil ? try? ContentHash.of(fileAt: url) : nil
        }
        return (hash(pair.blurry, present: pair.blurryPresent), hash(pair.sharp, present: pair.sharpPresent))
    }

    func baseCapture(_ pair: PairCandidate, hashes: (blurry: String?, sharp: String?)) -> Capture {
        Capture(root: root, name: pair.name, split: pair.split, layout: layout, blurryPath: pair.blurry.path, sharpPath: pair.sharp.path,
                blurryHash: hashes.blurry, sharpHash: hashes.sharp, status: .rejected, reason: "not validated")
    }

    public func validate(_ pair: PairCandidate, hashes: (blurry: String?, sharp: String?)) -> Capture {
        var capture = baseCapture(pair, hashes: hashes)
        func reject(_ reason: String) -> Capture {
            capture.status = .rejected
            capture.reason = reason
            return capture
        }
        if !pair.blurryPresent { return reject("missing partner: blurry file \(pair.blurry.path) not found") }
        if !pair.sharpPresent { return reject("missing partner: sharp file \(pair.sharp.path) not found") }
        for (role, url) in [("blurry", pair.blurry), ("sharp", pair.sharp)] {
            if let problem = FileProblems.problem(at: url) { return reject("\(role) \(url.path): \(problem)") }
        }
        guard let blurryHash = hashes.blurry else { return reject("blurry file unreadable: \(pair.blurry.path)") }
        guard let sharpHash = hashes.sharp else { return reject("sharp file unreadable: \(pair.sharp.path)") }
        if blurryHash == sharpHash {
            return reject("blurry \(pair.blurry.path) and sharp \(pair.sharp.path) have the same content: nothing to learn from")
        }

        /// The header, or why the file does not decode (naming it).
        func decode(_ role: String, _ url: URL) -> (header: ImageHeader?, failure: String?) {
            do { return (try ImageFile.verifyDecodes(url, pixelLimit: pixelLimit), nil) } catch let error as ImagingError {
                return (nil, "\(role) \(url.path): \(error.reason)")
            } catch { return (nil, "\(role) \(url.path): \(error)") }
        }
        let blurryDecoded = decode("blurry", pair.blurry)
        guard let blurryHeader = blurryDecoded.header else { return reject(blurryDecoded.failure ?? "blurry: not decoded") }
        let sharpDecoded = decode("sharp", pair.sharp)
        guard let sharpHeader = sharpDecoded.header else { return reject(sharpDecoded.failure ?? "sharp: not decoded") }
        // The hashes were taken before decoding: a file rewritten in between (a copy still arriving, a
        // sync tool) would be stored under a hash that is not the content checked.
        let after = self.hashes(pair)
        for (role, url, before, now) in [("blurry", pair.blurry, blurryHash, after.blurry), ("sharp", pair.sharp, sharpHash, after.sharp)]
        where before != now {
            return reject("\(role) \(url.path) changed while it was being read (hash \(before) before, \(now ?? "unreadable") after); the next run reads it again")
        }

        guard let depth = blurryHeader.bitDepth, sharpHeader.bitDepth != nil else {
            return reject("unsupported sample format (blurry \(blurryHeader.format), sharp \(sharpHeader.format)); only 8- and 16-bit unsigned")
        }
        for (role, url, header) in [("blurry", pair.blurry, blurryHeader), ("sharp", pair.sharp, sharpHeader)]
        where min(header.width, header.height) < Self.smallestSide {
            return reject("\(role) \(url.path) is \(header.width)x\(header.height) px: too small for any patch (each side needs \(Self.smallestSide) px)")
        }
        let blurryWidth = blurryHeader.uprightWidth, blurryHeight = blurryHeader.uprightHeight
        let sharpWidth = sharpHeader.uprightWidth, sharpHeight = sharpHeader.uprightHeight
        let dx = abs(blurryWidth - sharpWidth), dy = abs(blurryHeight - sharpHeight)
        if dx > sizeTolerance || dy > sizeTolerance {
            return reject("size mismatch: blurry \(blurryWidth)x\(blurryHeight) vs sharp \(sharpWidth)x\(sharpHeight) (tolerance \(sizeTolerance) px)")
        }
        var notes: [String] = []
        if dx > 0 || dy > 0 {
            notes.append("sizes differ by \(dx)x\(dy) px (blurry \(blurryWidth)x\(blurryHeight), sharp \(sharpWidth)x\(sharpHeight)); tiling uses the common area")
        }
        if blurryHeader.bitDepth != sharpHeader.bitDepth {
            notes.append("bit depths differ (blurry \(depth), sharp \(sharpHeader.bitDepth!))")
        }
        for (role, header) in [("blurry", blurryHeader), ("sharp", sharpHeader)] {
            if header.bands != 3 { notes.append("\(role) has \(header.bands) band(s) (\(header.interpretation)); loaded as RGB") }
            if header.orientation > 1 { notes.append("\(role) has EXIF orientation \(header.orientation); loaded upright") }
        }
        capture.status = .ok
        capture.reason = nil
        capture.width = min(blurryWidth, sharpWidth)
        capture.height = min(blurryHeight, sharpHeight)
        capture.bitDepth = depth
        capture.notes = notes.isEmpty ? nil : notes.joined(separator: "; ")
        return capture
    }
}
