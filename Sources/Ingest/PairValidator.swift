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

    public init(root: String, layout: Layout, sizeTolerance: Int) {
        self.root = root
        self.layout = layout
        self.sizeTolerance = sizeTolerance
    }

    /// Content hashes of the files present (nil for a missing file).
    public func hashes(_ pair: PairCandidate) -> (blurry: String?, sharp: String?) {
        (pair.blurryPresent ? try? ContentHash.of(fileAt: pair.blurry) : nil,
         pair.sharpPresent ? try? ContentHash.of(fileAt: pair.sharp) : nil)
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
        guard hashes.blurry != nil else { return reject("blurry file unreadable: \(pair.blurry.path)") }
        guard hashes.sharp != nil else { return reject("sharp file unreadable: \(pair.sharp.path)") }

        let blurryHeader: ImageHeader, sharpHeader: ImageHeader
        do { blurryHeader = try ImageFile.verifyDecodes(pair.blurry) } catch let error as ImagingError {
            return reject("blurry: \(error.reason)")
        } catch { return reject("blurry: \(error)") }
        do { sharpHeader = try ImageFile.verifyDecodes(pair.sharp) } catch let error as ImagingError {
            return reject("sharp: \(error.reason)")
        } catch { return reject("sharp: \(error)") }

        guard let depth = blurryHeader.bitDepth, sharpHeader.bitDepth != nil else {
            return reject("unsupported sample format (blurry \(blurryHeader.format), sharp \(sharpHeader.format)); only 8- and 16-bit unsigned")
        }
        let dx = abs(blurryHeader.width - sharpHeader.width), dy = abs(blurryHeader.height - sharpHeader.height)
        if dx > sizeTolerance || dy > sizeTolerance {
            return reject("size mismatch: blurry \(blurryHeader.width)x\(blurryHeader.height) vs sharp \(sharpHeader.width)x\(sharpHeader.height) (tolerance \(sizeTolerance) px)")
        }
        var notes: [String] = []
        if dx > 0 || dy > 0 {
            notes.append("sizes differ by \(dx)x\(dy) px (blurry \(blurryHeader.width)x\(blurryHeader.height), sharp \(sharpHeader.width)x\(sharpHeader.height)); tiling uses the common area")
        }
        if blurryHeader.bitDepth != sharpHeader.bitDepth {
            notes.append("bit depths differ (blurry \(depth), sharp \(sharpHeader.bitDepth!))")
        }
        for (role, header) in [("blurry", blurryHeader), ("sharp", sharpHeader)] where header.bands != 3 {
            notes.append("\(role) has \(header.bands) band(s) (\(header.interpretation)); loaded as RGB")
        }
        capture.status = .ok
        capture.reason = nil
        capture.width = min(blurryHeader.width, sharpHeader.width)
        capture.height = min(blurryHeader.height, sharpHeader.height)
        capture.bitDepth = depth
        capture.notes = notes.isEmpty ? nil : notes.joined(separator: "; ")
        return capture
    }
}
