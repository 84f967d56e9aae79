/// How a backward warp reads its source between pixel centres.
///
/// Bilinear weighs the 2x2 nearest pixels; its response falls to zero at half a pixel's offset for the
/// finest detail, so a warped image is softer than its source. Bicubic (Keys' cubic convolution with
/// a = -0.5, PyTorch `grid_sample(mode='bicubic')`) weighs the 4x4 nearest pixels and keeps more of
/// that detail: docs/resampling.md holds the measured Laplacian energy each keeps on true flows.
public enum WarpInterpolation: String, CaseIterable, Sendable {
    case bilinear
    case bicubic
}
