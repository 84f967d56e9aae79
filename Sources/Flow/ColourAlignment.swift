import Checks
import Foundation
import Imaging
import Tensors
import Threading

/// Where a colour map acts: on the file's (sRGB-encoded) values, or on linear light.
public enum ColourSpace: String, Codable, Sendable, CaseIterable {
    /// out = gain * v + offset on the stored values.
    case srgb
    /// out = sRGB(gain * linear(v) + offset): exposure and white balance are gains on light, and defocus
    /// sums light, so the low-pass means that defocus preserves are those of linear values.
    case linear
}

/// A per-channel affine colour map: `out_c = gain_c * in_c + offset_c`, on the stored values (`srgb`) or on
/// linear light (`linear`, IEC 61966-2-1 decoding and encoding around it). Exposure is a common gain, white
/// balance a per-channel gain, a black-level difference an offset. Pointwise, so it commutes with a backward
/// warp: exactly in `srgb` (bilinear weights sum to 1), to second order in `linear`.
public struct ColourTransform: Codable, Sendable, Equatable, Hashable, CustomStringConvertible {
    public var gain: [Double]
    public var offset: [Double]
    public var space: ColourSpace

    public init(gain: [Double], offset: [Double], space: ColourSpace = .srgb) {
        require(gain.count == offset.count, "one gain and one offset per channel")
        self.gain = gain
        self.offset = offset
        self.space = space
    }

    public static func identity(channels: Int = 3) -> ColourTransform {
        ColourTransform(gain: [Double](repeating: 1, count: channels), offset: [Double](repeating: 0, count: channels))
    }

    public var channels: Int { gain.count }

    /// The map the other way (`in_c = (out_c - offset_c) / gain_c`, same space); nil if a gain is (near) zero.
    public var inverse: ColourTransform? {
        guard gain.allSatisfy({ abs($0) > 1e-6 }) else { return nil }
        return ColourTransform(gain: gain.map { 1 / $0 }, offset: zip(gain, offset).map { -$1 / $0 }, space: space)
    }

    /// The largest difference between this map and `other` (same space) over inputs in [0, 1] of that
    /// space, on any channel (both affine: the largest difference is at 0 or 1).
    public func largestDifference(to other: ColourTransform) -> Double {
        require(channels == other.channels && space == other.space)
        var largest = 0.0
        for c in 0..<channels {
            largest = max(largest, abs(offset[c] - other.offset[c]), abs(gain[c] + offset[c] - other.gain[c] - other.offset[c]))
        }
        return largest
    }

    /// `image` mapped channel by channel, clamped to [0, 1] (the range every image and the UNet's
    /// sigmoid output live in). Channels beyond the transform's are copied unchanged.
    public func applied(to image: PlanarImage, clampToUnit: Bool = true) -> PlanarImage {
        var out = image
        let plane = image.planeSize
        let linear = space == .linear
        out.pixels.withUnsafeMutableBufferPointer { buffer in
            for c in 0..<min(channels, image.channels) {
                let g = Float(gain[c]), o = Float(offset[c])
                for i in (c * plane)..<((c + 1) * plane) {
                    if linear {
                        let v = max(g * SRGB.toLinear(buffer[i]) + o, 0)
                        buffer[i] = SRGB.fromLinear(clampToUnit ? min(v, 1) : v)
                    } else {
                        let v = g * buffer[i] + o
                        buffer[i] = clampToUnit ? min(max(v, 0), 1) : v
                    }
                }
            }
        }
        return out
    }

    public var description: String {
        (space == .linear ? "linear light: " : "")
            + (0..<channels).map { String(format: "%.4f*x%+.4f", gain[$0], offset[$0]) }.joined(separator: ", ")
    }
}

/// Settings of the colour fit. Not part of jdrl-flow's parameters hash (a change must not redo every flow):
/// after changing them, clear the `colour_*` columns of `flows` and jdrl-flow refits only the colour.
public struct ColourFitParameters: Codable, Sendable, Equatable, Hashable {
    /// Gaussian low-pass applied to both images before the fit, as a fraction of the shorter side.
    /// Defocus redistributes light locally and keeps local means: at scales well above the blur radius
    /// the blurry image and the sharp one agree up to the colour map (SDD's largest blur, 33 px at
    /// 4096x2160, is 1.5 % of the height).
    public var sigmaFraction: Float = 0.03
    /// ... but never below this many pixels.
    public var minimumSigma: Float = 4
    /// A pixel enters the fit when at least this fraction of its low-pass neighbourhood is valid
    /// (inside the calibration mask and sampled inside the image by the warp).
    public var minimumSupport: Float = 0.9
    /// Fit (and map) in linear light: defocus sums light, so in sRGB values the blurry image's local means
    /// are brighter than the sharp image's near highlights (measured on the embedded data: +0.02 on some
    /// patches, which a fit on sRGB values takes for an offset).
    public var space: ColourSpace = .linear
    /// Iteratively reweighted least squares with Tukey's biweight (c = 4.685 robust sigmas).
    public var iterations = 8
    public var tukey: Double = 4.685
    public init() {}

    func sigma(width: Int, height: Int) -> Float { max(minimumSigma, sigmaFraction * Float(min(width, height))) }
}

/// What a colour fit found, with how well it held.
public struct ColourFit: Sendable, Equatable {
    /// Maps the second image's colours (warped into the first's frame) onto the first's.
    public var transform: ColourTransform
    /// Robust RMS of the low-pass residual after the map, per channel (values in [0, 1]).
    public var residual: [Double]
    /// Low-pass samples that entered the fit (per channel, after the robust weights: effective count).
    public var samples: Int
}

public enum ColourFitError: Error, CustomStringConvertible, Equatable {
    case sizeMismatch(String)
    case noValidPixels(Int)

    public var description: String {
        switch self {
        case let .sizeMismatch(what): return "colour fit: sizes differ (\(what))"
        case let .noValidPixels(count):
            return "colour fit: only \(count) valid low-pass samples (calibration mask and image border leave too little)"
        }
    }
}

/// The photometric half of the alignment: the per-channel gain and offset between a blurry image A and
/// the sharp image B warped into A's frame, in linear light by default, fitted on low frequencies (where
/// defocus changes nothing),
/// inside the calibration mask, robustly (IRLS, Tukey). Convention as everywhere in Flow: A(p) matches
/// B(p + flow(p)); the fit maps warp(B) onto A: A ~ gain * warp(B) + offset.
public enum ColourAlignment {
    /// Fit `reference` ~ gain * `aligned` + offset per channel. `aligned` is already in `reference`'s
    /// frame; `valid` (H x W, > 0.5 = usable) marks the pixels to trust (nil: all).
    public static func fit(reference: PlanarImage, aligned: PlanarImage, valid: [Float]? = nil,
                           parameters: ColourFitParameters = ColourFitParameters(),
                           workers: Int = Workers.count) throws -> ColourFit {
        let w = reference.width, h = reference.height, plane = w * h
        guard aligned.width == w, aligned.height == h, aligned.channels == reference.channels else {
            throw ColourFitError.sizeMismatch("\(reference.channels)x\(w)x\(h) vs \(aligned.channels)x\(aligned.width)x\(aligned.height)")
        }
        if let valid, valid.count != plane { throw ColourFitError.sizeMismatch("mask of \(valid.count) pixels for \(w)x\(h)") }
        let sigma = parameters.sigma(width: w, height: h)
        // Block sums first (factor f ~ sigma / 4; a box average is a low-pass too), so the Gaussian runs
        // on a small grid: a 4096x2160 capture costs what a 256x135 one does. Sums of the valid pixels and
        // their count per block carry the normalised convolution through.
        let f = max(1, Int(sigma / 4)), sw = (w + f - 1) / f, sh = (h + f - 1) / f, small = sw * sh
        let coarseSigma = sigma / Float(f)
        let taps = Filters.gaussianTaps(sigma: coarseSigma)
        let keep: [Float] = valid.map { $0.map { $0 > 0.5 ? 1 : 0 } } ?? [Float](repeating: 1, count: plane)
        func blockSums(_ values: (Int) -> Float) -> Plane {
            var out = [Float](repeating: 0, count: small)
            for y in 0..<h {
                let row = (y / f) * sw
                for x in 0..<w { out[row + x / f] += values(y * w + x) }
            }
            return Plane(width: sw, height: sh, data: out)
        }
        let count = blockSums { keep[$0] }
        let support = Filters.separable(count, taps: taps, workers: workers)
        var blockArea = [Float](repeating: 0, count: small)
        for y in 0..<h { for x in 0..<w { blockArea[(y / f) * sw + x / f] += 1 } }
        let area = Filters.separable(Plane(width: sw, height: sh, data: blockArea), taps: taps, workers: workers)

        // Subsample the low-pass planes at about sigma/2: neighbours carry no new information.
        let step = max(1, Int(coarseSigma / 2))
        var sampleIndex: [Int] = []
        var y = step / 2
        while y < sh {
            var x = step / 2
            while x < sw {
                let i = y * sw + x
                if support.data[i] >= parameters.minimumSupport * area.data[i] && count.data[i] > 0.5 * blockArea[i] { sampleIndex.append(i) }
                x += step
            }
            y += step
        }
        guard sampleIndex.count >= 8 else { throw ColourFitError.noValidPixels(sampleIndex.count) }

        var gains: [Double] = [], offsets: [Double] = [], residuals: [Double] = []
        var effective = Int.max
        for c in 0..<reference.channels {
            // Normalised convolution: low-pass of the valid pixels only, divided by their weight.
            let linear = parameters.space == .linear
            func lowPass(_ image: PlanarImage) -> [Double] {
                let values = image.pixels[(c * plane)..<((c + 1) * plane)].map { linear ? SRGB.toLinear($0) : $0 }
                let sums = values.withUnsafeBufferPointer { px in blockSums { px[$0] * keep[$0] } }
                let smooth = Filters.separable(sums, taps: taps, workers: workers)
                var out = [Double](repeating: 0, count: small)
                for i in 0..<small where support.data[i] > 1e-6 { out[i] = Double(smooth.data[i] / support.data[i]) }
                return out
            }
            let a = lowPass(reference), b = lowPass(aligned)
            // Defocus is extra smoothing, D ~ 1 + k * Laplacian to first order, which even a heavy low-pass
            // does not remove entirely: regressing on the low-passed sharp image alone would bias the gain
            // low (by ~1 % at blur radii of a quarter of sigma). The Laplacian of the low-passed sharp image
            // is a second regressor that absorbs it (its coefficient is a nuisance, not reported).
            func laplacian(_ i: Int) -> Double {
                let x = i % sw, y = i / sw
                let l = b[y * sw + max(x - 1, 0)], r = b[y * sw + min(x + 1, sw - 1)]
                let u = b[max(y - 1, 0) * sw + x], d = b[min(y + 1, sh - 1) * sw + x]
                return l + r + u + d - 4 * b[i]
            }
            let line = robustLine(y: sampleIndex.map { a[$0] }, x: sampleIndex.map { b[$0] }, smoothing: sampleIndex.map(laplacian),
                                  iterations: parameters.iterations, tukey: parameters.tukey)
            gains.append(line.gain); offsets.append(line.offset); residuals.append(line.rms)
            effective = min(effective, line.effectiveSamples)
        }
        return ColourFit(transform: ColourTransform(gain: gains, offset: offsets, space: parameters.space), residual: residuals,
                         samples: effective)
    }

    /// The fit from the pair and the flow: warps `b` into `a`'s frame (A(p) matches B(p + flow(p))),
    /// trusts pixels inside `mask` (H x W, nil: all) whose sample p + flow(p) falls inside B.
    public static func estimate(from a: PlanarImage, to b: PlanarImage, flow: FlowField, mask: [Float]? = nil,
                                parameters: ColourFitParameters = ColourFitParameters(),
                                workers: Int = Workers.count) throws -> ColourFit {
        guard a.width == b.width, a.height == b.height, flow.width == a.width, flow.height == a.height else {
            throw ColourFitError.sizeMismatch("A \(a.width)x\(a.height), B \(b.width)x\(b.height), flow \(flow.width)x\(flow.height)")
        }
        let w = a.width, h = a.height
        var valid = [Float](repeating: 0, count: w * h)
        for y in 0..<h {
            for x in 0..<w {
                let i = y * w + x
                let sx = Float(x) + flow.u[i], sy = Float(y) + flow.v[i]
                let inside = sx >= 0 && sx <= Float(w - 1) && sy >= 0 && sy <= Float(h - 1)
                valid[i] = inside && (mask.map { $0[i] > 0.5 } ?? true) ? 1 : 0
            }
        }
        return try fit(reference: a, aligned: Warp.backward(image: b, flow: flow), valid: valid, parameters: parameters, workers: workers)
    }

    /// y ~ gain * x + k * smoothing + offset by IRLS with Tukey's biweight on the residuals (scale:
    /// 1.4826 * MAD); k is a nuisance term (dropped when `smoothing` carries no signal). When x barely
    /// varies (a flat patch), gain and offset are not separable: the fit keeps the offset at 0 and the
    /// gain is the ratio of the (weighted) means, which preserves the mean colour.
    static func robustLine(y: [Double], x: [Double], smoothing z: [Double], iterations: Int, tukey: Double, ridge: Double = 0.2)
        -> (gain: Double, offset: Double, rms: Double, effectiveSamples: Int) {
        let n = y.count
        var weights = [Double](repeating: 1, count: n)
        var gain = 1.0, offset = 0.0, k = 0.0
        func solve() {
            var sw = 0.0, sx = 0.0, sy = 0.0, sz = 0.0
            for i in 0..<n { sw += weights[i]; sx += weights[i] * x[i]; sy += weights[i] * y[i]; sz += weights[i] * z[i] }
            guard sw > 0 else { return }
            let mx = sx / sw, my = sy / sw, mz = sz / sw
            var sxx = 0.0, sxy = 0.0, szz = 0.0, sxz = 0.0, szy = 0.0
            for i in 0..<n {
                let dx = x[i] - mx, dy = y[i] - my, dz = z[i] - mz, wi = weights[i]
                sxx += wi * dx * dx; sxy += wi * dx * dy; szz += wi * dz * dz; sxz += wi * dx * dz; szy += wi * dz * dy
            }
            guard sxx / sw > 1e-7 else {       // a standard deviation below ~3e-4 of the data range
                gain = mx > 1e-6 ? my / mx : 1
                offset = mx > 1e-6 ? 0 : my - mx
                k = 0
                return
            }
            // A ridge on k (a fifth of its own scale): when the image's content is so narrow-band that the
            // Laplacian is nearly proportional to x (a sum of similar sinusoids), k cannot be told from the
            // gain and the ridge sends it to 0 instead of letting it trade against the gain.
            let szzRidge = szz * (1 + ridge)
            let det = sxx * szzRidge - sxz * sxz
            if szz > 0, det > 1e-9 * sxx * szzRidge {
                gain = (szzRidge * sxy - sxz * szy) / det
                k = (sxx * szy - sxz * sxy) / det
            } else {
                gain = sxy / sxx
                k = 0
            }
            offset = my - gain * mx - k * mz
        }
        solve()
        for _ in 0..<iterations {
            let residuals = (0..<n).map { y[$0] - gain * x[$0] - k * z[$0] - offset }
            let sorted = residuals.map(abs).sorted()
            let mad = sorted[n / 2]
            let scale = max(1.4826 * mad, 1e-5) * tukey
            for i in 0..<n {
                let u = residuals[i] / scale
                weights[i] = abs(u) < 1 ? (1 - u * u) * (1 - u * u) : 0
            }
            solve()
        }
        var sw = 0.0, sr = 0.0
        for i in 0..<n {
            let r = y[i] - gain * x[i] - k * z[i] - offset
            sw += weights[i]; sr += weights[i] * r * r
        }
        return (gain, offset, sw > 0 ? (sr / sw).squareRoot() : 0, Int(sw.rounded()))
    }
}
