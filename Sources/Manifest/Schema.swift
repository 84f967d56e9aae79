import GRDB

/// The manifest's schema as an append-only timeline of migrations. A shipped migration is never
/// edited: change the schema by appending a new one. Migrations use literal SQL names, not record
/// types, so a later rename of a Swift property cannot change what an old migration did.
/// See data-manifests/SCHEMA.md for the readable description.
public enum ManifestSchema {
    public static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-captures-patches-stage-runs") { db in
            try db.execute(sql: """
                CREATE TABLE captures (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    root TEXT NOT NULL,
                    name TEXT NOT NULL,
                    split TEXT NOT NULL CHECK (split IN ('train', 'val', 'test')),
                    layout TEXT NOT NULL CHECK (layout IN ('sdd', 'dpdd', 'realdof', 'generic')),
                    blurry_path TEXT NOT NULL,
                    sharp_path TEXT NOT NULL,
                    width INTEGER,
                    height INTEGER,
                    bit_depth INTEGER CHECK (bit_depth IN (8, 16)),
                    blurry_hash TEXT,
                    sharp_hash TEXT,
                    status TEXT NOT NULL CHECK (status IN ('ok', 'rejected')),
                    reason TEXT,
                    notes TEXT,
                    ingested_at DATETIME NOT NULL,
                    UNIQUE (root, split, name),
                    CHECK ((status = 'ok' AND reason IS NULL AND width IS NOT NULL AND height IS NOT NULL
                            AND bit_depth IS NOT NULL AND blurry_hash IS NOT NULL AND sharp_hash IS NOT NULL)
                           OR (status = 'rejected' AND reason IS NOT NULL))
                );
                CREATE INDEX captures_by_status ON captures(status, split);

                CREATE TABLE patches (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    capture_id INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
                    split TEXT NOT NULL CHECK (split IN ('train', 'val', 'test')),
                    blurry_path TEXT,
                    sharp_path TEXT,
                    x INTEGER NOT NULL CHECK (x >= 0),
                    y INTEGER NOT NULL CHECK (y >= 0),
                    size INTEGER NOT NULL CHECK (size > 0),
                    scale REAL NOT NULL CHECK (scale > 0),
                    protocol TEXT NOT NULL CHECK (protocol IN ('sdd', 'dpdd')),
                    sharpness REAL,
                    kept BOOLEAN NOT NULL,
                    params_hash TEXT NOT NULL,
                    UNIQUE (capture_id, params_hash, x, y),
                    CHECK (kept = 0 OR (blurry_path IS NOT NULL AND sharp_path IS NOT NULL))
                );
                CREATE INDEX patches_by_split ON patches(split, kept);

                CREATE TABLE stage_runs (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    stage TEXT NOT NULL,
                    params_hash TEXT NOT NULL,
                    started_at DATETIME NOT NULL,
                    finished_at DATETIME,
                    items_done INTEGER NOT NULL DEFAULT 0,
                    items_skipped INTEGER NOT NULL DEFAULT 0,
                    items_rejected INTEGER NOT NULL DEFAULT 0,
                    outputs INTEGER NOT NULL DEFAULT 0
                );

                -- One row per (stage, parameters, capture) finished: the stage's idempotence record.
                -- input_hash is the capture's content hash at the time, so a changed capture is redone.
                CREATE TABLE stage_items (
                    stage TEXT NOT NULL,
                    params_hash TEXT NOT NULL,
                    capture_id INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
                    input_hash TEXT NOT NULL,
                    output_count INTEGER NOT NULL,
                    finished_at DATETIME NOT NULL,
                    PRIMARY KEY (stage, params_hash, capture_id)
                );
                """)
        }
        migrator.registerMigration("v2-flows") { db in
            try db.execute(sql: """
                CREATE TABLE flows (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    patch_id INTEGER REFERENCES patches(id) ON DELETE CASCADE,
                    capture_id INTEGER REFERENCES captures(id) ON DELETE CASCADE,
                    direction TEXT NOT NULL,
                    flow_path TEXT NOT NULL,
                    mask_path TEXT,
                    zoom REAL,
                    shift_x REAL,
                    shift_y REAL,
                    rotation_deg REAL,
                    residual_epe REAL,
                    params_hash TEXT NOT NULL,
                    created_at DATETIME NOT NULL,
                    CHECK (patch_id IS NOT NULL OR capture_id IS NOT NULL)
                );
                -- SQLite treats NULLs as distinct in UNIQUE, so each kind of owner gets its own index.
                CREATE UNIQUE INDEX flows_per_patch ON flows(patch_id, direction, params_hash) WHERE patch_id IS NOT NULL;
                CREATE UNIQUE INDEX flows_per_capture ON flows(capture_id, direction, params_hash) WHERE patch_id IS NULL;
                """)
        }
        migrator.registerMigration("v3-runs-checkpoints-steps-evaluations") { db in
            try db.execute(sql: """
                CREATE TABLE runs (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL UNIQUE,
                    config_path TEXT NOT NULL,
                    config_hash TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'stopped')),
                    started_at DATETIME NOT NULL,
                    updated_at DATETIME NOT NULL
                );
                CREATE TABLE checkpoints (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    step INTEGER NOT NULL,
                    epoch INTEGER NOT NULL,
                    path TEXT NOT NULL UNIQUE,
                    created_at DATETIME NOT NULL,
                    UNIQUE (run_id, step)
                );
                CREATE TABLE training_steps (
                    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    step INTEGER NOT NULL,
                    epoch INTEGER NOT NULL,
                    lr REAL NOT NULL,
                    loss_total REAL NOT NULL,
                    loss_deblur REAL NOT NULL,
                    loss_cycle REAL,
                    loss_reblur REAL,
                    seconds REAL NOT NULL,
                    PRIMARY KEY (run_id, step)
                );
                CREATE TABLE evaluations (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    method TEXT NOT NULL,
                    checkpoint_path TEXT,
                    capture_id INTEGER REFERENCES captures(id) ON DELETE SET NULL,
                    image_name TEXT NOT NULL,
                    split TEXT NOT NULL,
                    target TEXT NOT NULL CHECK (target IN ('gt', 'deformed_gt')),
                    aligner TEXT,
                    bit_depth INTEGER NOT NULL CHECK (bit_depth IN (8, 16)),
                    psnr REAL NOT NULL,
                    ssim REAL NOT NULL,
                    mae REAL NOT NULL,
                    lpips REAL,
                    created_at DATETIME NOT NULL
                );
                CREATE INDEX evaluations_by_method ON evaluations(method, target, split);
                """)
        }
        // Photometric alignment: the per-channel gain/offset mapping the warped target onto
        // the source's colours, fitted next to each flow; NULL for rows written before (jdrl-flow fills them in).
        migrator.registerMigration("v4-flow-colour") { db in
            try db.execute(sql: """
                ALTER TABLE flows ADD COLUMN colour_gain_r REAL CHECK (colour_gain_r > 0);
                ALTER TABLE flows ADD COLUMN colour_gain_g REAL CHECK (colour_gain_g > 0);
                ALTER TABLE flows ADD COLUMN colour_gain_b REAL CHECK (colour_gain_b > 0);
                ALTER TABLE flows ADD COLUMN colour_offset_r REAL;
                ALTER TABLE flows ADD COLUMN colour_offset_g REAL;
                ALTER TABLE flows ADD COLUMN colour_offset_b REAL;
                ALTER TABLE flows ADD COLUMN colour_residual REAL CHECK (colour_residual >= 0);
                ALTER TABLE flows ADD COLUMN colour_space TEXT CHECK (colour_space IN ('srgb', 'linear'));
                """)
        }
        // Colour error of each score: per-channel mean of (scored - target) and the PSNR after
        // removing it; NULL for rows scored before.
        migrator.registerMigration("v5-evaluation-colour") { db in
            try db.execute(sql: """
                ALTER TABLE evaluations ADD COLUMN colour_error_r REAL;
                ALTER TABLE evaluations ADD COLUMN colour_error_g REAL;
                ALTER TABLE evaluations ADD COLUMN colour_error_b REAL;
                ALTER TABLE evaluations ADD COLUMN psnr_colour_corrected REAL;
                """)
        }
        // Synthesised captures know their exactly aligned sharp image and their blur-radius map: rows
        // against the aligned sharp image, whole and on the defocused region (blur radius > 1 px). SQLite
        // cannot widen a CHECK in place, so the table is rebuilt from its own stored definition with only
        // the CHECK widened: the same columns in the same order whatever migrations added columns before,
        // the same rows and the same index.
        migrator.registerMigration("v6-evaluations-aligned-sharp-targets") { db in
            let narrow = "CHECK (target IN ('gt', 'deformed_gt'))"
            let wide = "CHECK (target IN ('gt', 'deformed_gt', 'aligned_sharp', 'aligned_sharp_defocused'))"
            guard let definition = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'evaluations'"),
                  definition.contains(narrow), definition.hasPrefix("CREATE TABLE evaluations (") else {
                throw DatabaseError(message: "v6: the evaluations table is not the one v3 created (no \(narrow))")
            }
            let rebuilt = definition.replacingOccurrences(of: narrow, with: wide)
                .replacingOccurrences(of: "CREATE TABLE evaluations (", with: "CREATE TABLE evaluations_v6 (")
            try db.execute(sql: rebuilt)
            try db.execute(sql: """
                INSERT INTO evaluations_v6 SELECT * FROM evaluations;
                DROP TABLE evaluations;
                ALTER TABLE evaluations_v6 RENAME TO evaluations;
                CREATE INDEX evaluations_by_method ON evaluations(method, target, split);
                """)
        }
        // A flow row's direction is one of two words every reader looks up by name; a misspelt one would be
        // silently ignored. SQLite cannot add a CHECK in place: rebuilt as v6 does, from its own
        // stored definition, dropping rows no reader could use.
        migrator.registerMigration("v7-flows-direction-check") { db in
            try rebuild(table: "flows", in: db, migration: "v7", replacing: "direction TEXT NOT NULL,",
                        with: "direction TEXT NOT NULL CHECK (direction IN ('blurry_to_sharp', 'sharp_to_blurry')),",
                        keeping: "direction IN ('blurry_to_sharp', 'sharp_to_blurry')",
                        indexes: """
                            CREATE UNIQUE INDEX flows_per_patch ON flows(patch_id, direction, params_hash) WHERE patch_id IS NOT NULL;
                            CREATE UNIQUE INDEX flows_per_capture ON flows(capture_id, direction, params_hash) WHERE patch_id IS NULL;
                            """)
        }
        // One score per (capture, method, checkpoint, target): jdrl-eval replaces a capture's rows, so two
        // rows with one key are a leftover that would count twice in a mean. The newest row is kept.
        // NULL checkpoint paths (the blurry input) compare equal through ifnull; rows whose capture was
        // deleted (capture_id NULL) are history and stay outside the key.
        migrator.registerMigration("v8-evaluations-unique") { db in
            try db.execute(sql: """
                DELETE FROM evaluations WHERE capture_id IS NOT NULL AND id NOT IN (
                    SELECT max(id) FROM evaluations WHERE capture_id IS NOT NULL
                    GROUP BY capture_id, method, ifnull(checkpoint_path, ''), target);
                CREATE UNIQUE INDEX evaluations_per_item
                    ON evaluations(capture_id, method, ifnull(checkpoint_path, ''), target) WHERE capture_id IS NOT NULL;
                """)
        }
        // Does a model move the image? The mean displacement (px) of the global map from each
        // scored image to its blurry input; NULL for rows scored before, 0 for the input itself.
        migrator.registerMigration("v9-evaluation-shift-to-input") { db in
            try db.execute(sql: "ALTER TABLE evaluations ADD COLUMN shift_to_input_px REAL")
        }
        // The blur-map prior's pseudo-supervision term per logged step; NULL without a prior.
        migrator.registerMigration("v10-training-steps-prior") { db in
            try db.execute(sql: "ALTER TABLE training_steps ADD COLUMN loss_prior REAL")
        }
        // Synthesised captures scored per blur-radius band (in focus, 1-3 px, over 3 px): the sums that pool
        // over images (squared error, squared Laplacian of the luminance of the scored and the aligned sharp
        // image) with their pixel counts; one row per (capture, method, checkpoint, band).
        migrator.registerMigration("v11-evaluation-bands") { db in
            try db.execute(sql: """
                CREATE TABLE evaluation_bands (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    method TEXT NOT NULL,
                    checkpoint_path TEXT,
                    capture_id INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
                    image_name TEXT NOT NULL,
                    split TEXT NOT NULL,
                    band TEXT NOT NULL CHECK (band IN ('in_focus', 'r1_3', 'r_over_3')),
                    pixels INTEGER NOT NULL CHECK (pixels >= 0),
                    channels INTEGER NOT NULL CHECK (channels > 0),
                    squared_error REAL NOT NULL CHECK (squared_error >= 0),
                    hf_pixels INTEGER NOT NULL CHECK (hf_pixels >= 0),
                    hf_scored REAL NOT NULL CHECK (hf_scored >= 0),
                    hf_sharp REAL NOT NULL CHECK (hf_sharp >= 0),
                    created_at DATETIME NOT NULL
                );
                CREATE UNIQUE INDEX evaluation_bands_per_item
                    ON evaluation_bands(capture_id, method, ifnull(checkpoint_path, ''), band);
                """)
        }
        return migrator
    }

    /// Rebuilds `table` from its stored definition with one column definition replaced (SQLite cannot
    /// change a constraint in place): the same columns in the same order whatever earlier migrations added,
    /// the rows that satisfy `keeping`, then `indexes` recreated. For migrations from v7 on (v6 does the
    /// same inline and stays as shipped).
    static func rebuild(table: String, in db: Database, migration: String, replacing old: String, with new: String,
                        keeping condition: String, indexes: String) throws {
        let opening = "CREATE TABLE \(table) ("
        guard let definition = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", arguments: [table]),
              definition.hasPrefix(opening), definition.contains(old) else {
            throw DatabaseError(message: "\(migration): the \(table) table is not the expected one (no \(old))")
        }
        let scratch = "\(table)_\(migration)"
        try db.execute(sql: definition.replacingOccurrences(of: old, with: new)
            .replacingOccurrences(of: opening, with: "CREATE TABLE \(scratch) ("))
        try db.execute(sql: """
            INSERT INTO \(scratch) SELECT * FROM \(table) WHERE \(condition);
            DROP TABLE \(table);
            ALTER TABLE \(scratch) RENAME TO \(table);
            """)
        try db.execute(sql: indexes)
    }
}
