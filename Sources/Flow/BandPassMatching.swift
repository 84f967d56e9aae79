/// What the two flow stages share: both match band-passed images. The pre-blur suppresses the detail
/// only the sharp image has (blurry and sharp then differ far less); removing the local mean cancels
/// slowly varying illumination.
/// Each stage keeps its own stored values and defaults (GlobalAlignmentParameters,
/// DenseFlowParameters), so their JSON, and with it the flow parameters hash, stays as it was.
protocol BandPassMatching {
    /// Gaussian pre-blur (level pixels) of both images before band-pass normalisation.
    var preBlurSigma: Float { get }
    /// The local mean over this scale (level pixels) is removed before matching; 0 keeps it.
    var illuminationSigma: Float { get }
}

extension BandPassMatching {
    /// The plane as the stage matches it: band-passed and divided by its standard deviation.
    func bandPassed(_ plane: Plane, workers: Int) -> Plane {
        Filters.bandPass(plane, fineSigma: preBlurSigma, coarseSigma: illuminationSigma, workers: workers)
    }

    /// Pixels this close to the border see the band-pass's edge handling, the same in both images:
    /// matching ignores them, or that static pattern pulls towards zero motion (at most a sixth of the
    /// shorter side, so small levels keep pixels to match).
    func ignoredBorder(width: Int, height: Int) -> Int {
        min(Filters.bandPassMargin(fineSigma: preBlurSigma, coarseSigma: illuminationSigma), min(width, height) / 6)
    }
}
