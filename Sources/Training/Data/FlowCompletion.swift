import Flow
import Imaging

/// Fills in what the manifest lacks for a patch, once, when it is loaded, with jdrl-flow's recipe
/// (`PairAlignment`): both flows between the blurry and the sharp patch, their masks and, with
/// train.colour_alignment on, the colour map from the GT's colours to the blurry image's.
public enum FlowCompletion {
    public static func completer(maskMode: MaskMode, lambda: Double) -> PatchCache.Completion {
        let alignment = PairAlignment(maskMode: maskMode, lambda: Float(lambda))
        return { patch, requirements in
            var completed = patch
            if completed.blurryToSharp == nil || completed.sharpToBlurry == nil {
                let (forward, backward) = try alignment.flows(patch.blurry, patch.sharp)
                completed.blurryToSharp = forward.flow
                completed.sharpToBlurry = backward.flow
            }
            if requirements.masks, completed.blurryToSharpMask == nil || completed.sharpToBlurryMask == nil,
               let forward = completed.blurryToSharp, let backward = completed.sharpToBlurry {
                (completed.blurryToSharpMask, completed.sharpToBlurryMask) = try alignment.masks(forward: forward, backward: backward)
            }
            if requirements.colour, completed.sharpColour == nil, let forward = completed.blurryToSharp {
                // Inside the blurry->sharp mask, as jdrl-flow fits it.
                var mask = completed.blurryToSharpMask?.pixels
                if mask == nil, let backward = completed.sharpToBlurry {
                    mask = try alignment.mask(of: forward, other: backward).pixels
                }
                do {
                    completed.sharpColour = try alignment.colourFit(patch.blurry, patch.sharp, forward: forward, mask: mask).transform
                } catch {
                    throw DataError.colour(id: patch.id, files: patch.files, reason: "\(error)")
                }
            }
            return completed
        }
    }
}
