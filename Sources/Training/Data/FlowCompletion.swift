import Flow
import Imaging

/// Fills in what the manifest lacks for a patch, once, when it is loaded: both flows between the
/// blurry and the sharp patch (Flow module: global alignment + dense refinement), their masks and,
/// with train.colour_alignment on, the colour map from the GT's colours to the blurry image's.
public enum FlowCompletion {
    public static func completer(maskMode: MaskMode, lambda: Double) -> PatchCache.Completion {
        return { patch, requirements in
            var completed = patch
            if completed.blurryToSharp == nil || completed.sharpToBlurry == nil {
                let (forward, backward) = try FlowEstimator.estimateBothWays(patch.blurry, patch.sharp)
                completed.blurryToSharp = forward.flow
                completed.sharpToBlurry = backward.flow
            }
            if requirements.masks, completed.blurryToSharpMask == nil || completed.sharpToBlurryMask == nil,
               let forward = completed.blurryToSharp, let backward = completed.sharpToBlurry {
                var parameters = MaskParameters()
                parameters.lambda = Float(lambda)
                completed.blurryToSharpMask = try CalibrationMask.make(maskMode, forward: forward, backward: backward, parameters: parameters)
                completed.sharpToBlurryMask = try CalibrationMask.make(maskMode, forward: backward, backward: forward, parameters: parameters)
            }
            if requirements.colour, completed.sharpColour == nil, let forward = completed.blurryToSharp {
                // As jdrl-flow does: blurry ~ gain * warp(sharp) + offset, low-pass, inside the blurry->sharp mask.
                var mask = completed.blurryToSharpMask?.pixels
                if mask == nil, let backward = completed.sharpToBlurry {
                    var parameters = MaskParameters()
                    parameters.lambda = Float(lambda)
                    mask = try CalibrationMask.make(maskMode, forward: forward, backward: backward, parameters: parameters).pixels
                }
                do {
                    completed.sharpColour = try ColourAlignment.estimate(from: patch.blurry, to: patch.sharp, flow: forward, mask: mask).transform
                } catch {
                    throw DataError.colour(id: patch.id, files: patch.files, reason: "\(error)")
                }
            }
            return completed
        }
    }
}
