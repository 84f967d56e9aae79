import Tensors

extension UNet {
    /// Brings the dropout generators to where `forwards` training forwards at (n, h, w) leave them, at
    /// once: a resumed run then draws the masks the uninterrupted run drew. Each training forward draws
    /// one value per element of a dropout level's activation (n x width x h/2^level x w/2^level).
    public func fastForwardDropout(forwards: Int, n: Int, h: Int, w: Int) {
        for (level, layer) in dropouts.enumerated() {
            layer?.skipTrainingForwards(forwards, elements: n * config.widths[level] * (h >> level) * (w >> level))
        }
    }
}
