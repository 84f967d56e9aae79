import Flow
import Imaging

/// Fills in what the manifest lacks for a patch, once, when it is loaded: both flows between the
/// blurry and the sharp patch (Flow module: global alignment + dense refinement) and their masks.
public enum FlowCompletion {
    public static func completer(maskMode: CalibrationMaskMode, lambda: Double) -> PatchCache.Completion {
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
                completed.blurryToSharpMask = try CalibrationMask.make(maskMode.flowMaskMode, forward: forward, backward: backward, parameters: parameters)
                completed.sharpToBlurryMask = try CalibrationMask.make(maskMode.flowMaskMode, forward: backward, backward: forward, parameters: parameters)
            }
            return completed
        }
    }
}
