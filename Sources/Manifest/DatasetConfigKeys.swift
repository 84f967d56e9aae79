extension DatasetConfig {
    /// Every key a dataset config may hold, sections included, dotted from the top level ("tiling",
    /// "tiling.stride"), read from the same lists `load(from:)` enforces. docs/configuration.md is checked
    /// against it, so a new key is not done until it is documented.
    public static var allKeys: [String] {
        topKeys.sorted() + tilingKeys.sorted().map { "tiling." + $0 } + synthesisKeys.sorted().map { "synthesis." + $0 }
    }
}
