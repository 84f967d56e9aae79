extension TrainingConfigLoader {
    /// Every key a training config may hold, sections included, dotted from the top level
    /// ("train", "train.optimizer", "train.optimizer.lr"), read from the same per-section lists the loader
    /// enforces. docs/configuration.md is checked against it, so a new key is not done until it is documented.
    public static var allKeys: [String] {
        sections.flatMap { section in section.keys.map { (section.path + [$0]).joined(separator: ".") } }
    }
}
