import Flow
import Foundation
import Imaging
import Synthesis
import Tensors

/// `flow` benchmark: our estimator against OpenCV DIS (preset MEDIUM, 2 threads) on synthesised
/// blurry/sharp pairs with known flow (Synthesis: similarity misalignment, layered defocus, gain/gamma
/// change, noise), at 512x512 and 2048x1080, on the same 8-bit PNGs in the same run.
/// Prints one JSON line per size:
///   ours_s / peer_s: median seconds per flow (ours: 3 runs after a warm-up; peer: its own median of 3),
///   ours_epe / peer_epe: mean endpoint error (px) vs the true blurry->GT flow, a 16 px border band excluded,
///   deformed_gt_psnr: PSNR (dB, 8-bit data, RGB, same border excluded) of the GT warped by our flow
///   against the aligned sharp image (peer_deformed_gt_psnr: the same with DIS's flow).
/// Flow convention: blurry(p) matches GT(p + flow(p)).
func benchFlow() throws {
    let photos = try benchPhotos()
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("jdrl-bench-flow-\(getpid())")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    let border = 16
    let parameters = FlowParameters()
    for (name, width, height, pairs) in [("flow-512", 512, 512, 3), ("flow-2048x1080", 2048, 1080, 2)] {
        var oursSeconds: [Double] = [], peerSeconds: [Double] = []
        var oursEPE: [Double] = [], globalEPE: [Double] = [], peerEPE: [Double] = [], oursPSNR: [Double] = [], peerPSNR: [Double] = []
        var peerName = "opencv DIS MEDIUM"
        for index in 0..<pairs {
            let photo = photos[index % photos.count]
            let cropped = try sharpPhoto(photo, width: width, height: height)
            let pair = PairSynthesizer.synthesize(sharp: cropped, seed: UInt64(1000 + index))
            let blurryURL = scratch.appendingPathComponent("\(name)-\(index)-blurry.png")
            let gtURL = scratch.appendingPathComponent("\(name)-\(index)-gt.png")
            let peerFlowURL = scratch.appendingPathComponent("\(name)-\(index)-dis.flo")
            var blurry8 = pair.blurry; blurry8.bitDepth = 8
            var gt8 = pair.gt; gt8.bitDepth = 8
            try blurry8.savePNG(to: blurryURL); try gt8.savePNG(to: gtURL)
            // Both estimators see exactly the same 8-bit files.
            let blurry = try ImageFile.loadPlanar(blurryURL).image, gt = try ImageFile.loadPlanar(gtURL).image

            var estimate = try FlowEstimator.estimate(from: blurry, to: gt, parameters: parameters)         // warm-up
            var times: [Double] = []
            for _ in 0..<3 {
                let start = DispatchTime.now().uptimeNanoseconds
                estimate = try FlowEstimator.estimate(from: blurry, to: gt, parameters: parameters)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            oursSeconds.append(times.sorted()[1])
            let peer = try runDIS(a: blurryURL, b: gtURL, out: peerFlowURL)
            peerName = peer.name
            peerSeconds.append(peer.seconds)
            let peerFlow = try FlowFile.read(peerFlowURL)
            oursEPE.append(endpointError(estimate.flow, pair.blurryToGT, border: border))
            globalEPE.append(endpointError(estimate.motion.flow(width: width, height: height), pair.blurryToGT, border: border))
            if ProcessInfo.processInfo.environment["JDRL_BENCH_VERBOSE"] != nil {
                let t = pair.metadata.transform, m = estimate.motion
                FileHandle.standardError.write(Data(("\(name)#\(index): true zoom \(t.zoom) rot \(t.rotationDegrees) shift \(t.shiftX),\(t.shiftY); "
                    + "ours zoom \(m.zoom) rot \(m.rotationDegrees) shift \(m.shiftX),\(m.shiftY) rho \(estimate.correlation) times \(times)\n").utf8))
            }
            peerEPE.append(endpointError(peerFlow, pair.blurryToGT, border: border))
            let sharp8 = quantised(pair.alignedSharp)
            oursPSNR.append(psnr(quantised(Warp.backward(image: gt, flow: estimate.flow)), sharp8, border: border))
            peerPSNR.append(psnr(quantised(Warp.backward(image: gt, flow: peerFlow)), sharp8, border: border))
        }
        func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(max(values.count, 1)) }
        let ours = mean(oursSeconds), theirs = mean(peerSeconds)
        let line: [String: Any] = [
            "bench": name, "pairs": pairs, "ours_s": round4(ours), "peer": peerName, "peer_s": round4(theirs),
            "speedup": round4(theirs / ours), "ours_epe": round4(mean(oursEPE)), "ours_global_only_epe": round4(mean(globalEPE)), "peer_epe": round4(mean(peerEPE)),
            "deformed_gt_psnr": round4(mean(oursPSNR)), "peer_deformed_gt_psnr": round4(mean(peerPSNR)),
            "epe_border_px": border, "psnr_bit_depth": 8,
        ]
        let data = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
        fflush(stdout)
    }
}

private func round4(_ value: Double) -> Double { (value * 10_000).rounded() / 10_000 }

/// The repository's embedded photos (found from the working directory or from this file's location).
private func benchPhotos() throws -> [URL] {
    let relative = "datasets/embedded/photos"
    let candidates = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(relative),
                      URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                          .deletingLastPathComponent().appendingPathComponent(relative)]
    for folder in candidates {
        if let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) {
            let photos = names.filter { $0.lowercased().hasSuffix(".jpg") || $0.lowercased().hasSuffix(".png") }.sorted()
            if !photos.isEmpty { return photos.map { folder.appendingPathComponent($0) } }
        }
    }
    throw BenchFlowError("no photos in \(relative) (run from the repository root)")
}

private struct BenchFlowError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The photo cropped to the target aspect (centre), then resized (Lanczos3) to exactly width x height.
private func sharpPhoto(_ photo: URL, width: Int, height: Int) throws -> PlanarImage {
    let cropped = try PairSynthesizer.prepareSharp(photo: photo, width: nil, aspect: Double(width) / Double(height)).image
    let resized = try PixelConversion.vipsImage(from: cropped).resized(scale: Double(width) / Double(cropped.width))
    return try centreCrop(try PixelConversion.planar(from: resized), width: width, height: height)
}

private func centreCrop(_ image: PlanarImage, width: Int, height: Int) throws -> PlanarImage {
    guard image.width >= width, image.height >= height else {
        throw BenchFlowError("photo came out \(image.width)x\(image.height), smaller than \(width)x\(height)")
    }
    if image.width == width && image.height == height { return image }
    let x0 = (image.width - width) / 2, y0 = (image.height - height) / 2
    var out = PlanarImage(width: width, height: height, channels: image.channels, bitDepth: image.bitDepth)
    for c in 0..<image.channels { for y in 0..<height { for x in 0..<width { out[c, y, x] = image[c, y + y0, x + x0] } } }
    return out
}

/// Runs the peer script with the interpreter on PATH (PeerRun gives it the OpenBLAS core that fits the CPU).
private func runDIS(a: URL, b: URL, out: URL) throws -> (name: String, seconds: Double) {
    let script = PeerLocations.script("flow_dis.py")
    let run = try PeerRun.python([script, a.path, b.path, out.path, "--preset", "MEDIUM", "--threads", "2"])
    guard let json = run.result, let seconds = json["seconds_median"] as? Double else {
        throw BenchFlowError("\(script) failed (exit \(run.status)); is the peers' python3 set up?")
    }
    return ((json["peer"] as? String) ?? "opencv DIS MEDIUM", seconds)
}

private func endpointError(_ a: FlowField, _ b: FlowField, border: Int) -> Double {
    var sum = 0.0, count = 0
    for y in border..<(a.height - border) {
        for x in border..<(a.width - border) {
            let i = y * a.width + x
            let du = Double(a.u[i] - b.u[i]), dv = Double(a.v[i] - b.v[i])
            sum += (du * du + dv * dv).squareRoot(); count += 1
        }
    }
    return sum / Double(max(count, 1))
}

private func quantised(_ image: PlanarImage) -> PlanarImage {
    var out = image
    out.pixels = image.pixels.map { (min(max($0, 0), 1) * 255).rounded() / 255 }
    return out
}

/// PSNR in dB for data range 1 over all channels, a border band excluded.
private func psnr(_ a: PlanarImage, _ b: PlanarImage, border: Int) -> Double {
    var sum = 0.0, count = 0
    for c in 0..<a.channels {
        for y in border..<(a.height - border) {
            for x in border..<(a.width - border) {
                let d = Double(a[c, y, x] - b[c, y, x]); sum += d * d; count += 1
            }
        }
    }
    return 10 * log10(1 / max(sum / Double(count), 1e-12))
}
