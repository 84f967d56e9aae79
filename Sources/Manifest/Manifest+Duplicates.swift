import GRDB

// MARK: - The same pair under two names

extension Manifest {
    /// The oldest ok capture other than `capture` itself (another root, split or name) holding the same
    /// blurry and sharp content; nil when the content is new. A stored capture only looks at older rows,
    /// so the first one registered stays the original.
    public func earlierCapture(withContentOf capture: Capture) throws -> Capture? {
        guard let blurry = capture.blurryHash, let sharp = capture.sharpHash else { return nil }
        return try reader.read { db in
            try Capture.fetchOne(db, sql: """
                SELECT * FROM captures
                WHERE status = 'ok' AND blurry_hash = ? AND sharp_hash = ? AND NOT (root = ? AND split = ? AND name = ?)
                  AND (? IS NULL OR id < ?)
                ORDER BY id LIMIT 1
                """, arguments: [blurry, sharp, capture.root, capture.split.rawValue, capture.name, capture.id, capture.id])
        }
    }
}

extension Capture {
    /// This capture refused as a copy of another pair with the same content: training on both would
    /// weight the pair twice, and a copy in another split leaks test content into training.
    public func rejectedAsDuplicate(ofSplit split: Split, name: String, blurryPath: String, sharpPath: String) -> Capture {
        var copy = self
        copy.status = .rejected
        copy.reason = "same content as \(split.rawValue)/\(name) (blurry \(blurryPath), sharp \(sharpPath)): a duplicate would count twice; remove one copy"
        return copy
    }

    public func rejectedAsDuplicate(of original: Capture) -> Capture {
        rejectedAsDuplicate(ofSplit: original.split, name: original.name, blurryPath: original.blurryPath, sharpPath: original.sharpPath)
    }
}
