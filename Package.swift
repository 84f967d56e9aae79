// swift-tools-version:6.0
// jdrl: learning single-image defocus deblurring from misaligned pairs (JDRL, AAAI 2023).
// Modules follow ../shared/reference/design.md: one concern each; executables are thin shells.
import PackageDescription

/// Release builds are -O (every bounds, overflow and precondition check kept) with whole-module
/// optimisation. Only Tensors, whose plain-Swift inner loops run in every training step (ring-sum reblur,
/// channel softmax, Charbonnier), drops the bounds checks with -Ounchecked (-O costs 2x on the reblur
/// ops, 16 % on a step: ARCHITECTURE.md); its public entry points check shapes and layouts with `require`
/// (Sources/Checks), which that mode keeps.
let fast: [SwiftSetting] = [.unsafeFlags(["-O", "-wmo"], .when(configuration: .release))]
let unchecked: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release))]

let package = Package(
    name: "jdrl",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "jdrl-synth", targets: ["jdrl-synth"]),
        .executable(name: "jdrl-ingest", targets: ["jdrl-ingest"]),
        .executable(name: "jdrl-tile", targets: ["jdrl-tile"]),
        .executable(name: "jdrl-manifest", targets: ["jdrl-manifest"]),
        .executable(name: "jdrl-flow", targets: ["jdrl-flow"]),
        .executable(name: "jdrl-train", targets: ["jdrl-train"]),
        .executable(name: "jdrl-eval", targets: ["jdrl-eval"]),
        .executable(name: "jdrl-deblur", targets: ["jdrl-deblur"]),
        .executable(name: "jdrl-bench", targets: ["jdrl-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // System libraries from Debian (see Sources/C*/shim.h for why each shim exists).
        .systemLibrary(name: "CVips", path: "Sources/CVips", pkgConfig: "vips", providers: [.apt(["libvips-dev"])]),
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL", providers: [.apt(["libdnnl-dev"])]),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),

        // Library modules, in layers (ARCHITECTURE.md). The base: Threading (the one parallel-for and worker
        // count), Checks (entry-point checks that survive -Ounchecked), WeightFiles (safetensors), Seeding.
        .target(name: "Threading"),
        .target(name: "Checks"),
        .target(name: "WeightFiles"),
        .target(name: "Imaging", dependencies: ["CVips", "Threading"], swiftSettings: fast),
        .target(name: "Manifest", dependencies: [.product(name: "GRDB", package: "GRDB.swift"), "StageSupport"]),
        .target(name: "StageSupport", dependencies: ["Threading",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Yams", package: "Yams"),
        ]),
        .target(name: "Seeding"),
        .target(name: "Synthesis", dependencies: ["Imaging", "Seeding", "Threading"], swiftSettings: fast),
        .target(name: "CAMXTileConfig"),
        .target(name: "CBenchSupport"),
        .target(name: "Tensors", dependencies: ["CDNNL", "CAMXTileConfig", "Seeding", "Threading", "WeightFiles", "Checks"], swiftSettings: unchecked),
        .target(name: "Models", dependencies: ["Tensors", "Threading", "StageSupport"], swiftSettings: fast),
        .target(name: "Flow", dependencies: ["Imaging", "Tensors", "Threading", "Checks"], swiftSettings: fast),
        .target(name: "Metrics", dependencies: ["Imaging", "CDNNL", "Threading", "WeightFiles"], swiftSettings: fast),
        // Data-parallel ranks: OpenMPI loaded at run time (dlopen) only under mpirun; nothing links MPI.
        .target(name: "Distributed", swiftSettings: fast),
        .target(name: "Training", dependencies: ["Models", "Tensors", "Flow", "Manifest", "Imaging", "StageSupport", "Seeding", "Distributed",
                                               .product(name: "Yams", package: "Yams")], swiftSettings: fast),
        .target(name: "Evaluation", dependencies: ["Models", "Tensors", "Metrics", "Flow", "Imaging", "Manifest", "StageSupport", "Synthesis",
                                                 .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // Stage logic over the manifest, one module per stage whose executable would otherwise hold it.
        .target(name: "Ingest", dependencies: ["Imaging", "Manifest", "StageSupport", "Threading"]),
        .target(name: "Tiling", dependencies: ["Imaging", "Manifest", "StageSupport"]),
        .target(name: "FlowStage", dependencies: ["Flow", "Imaging", "Manifest", "StageSupport"]),
        .target(name: "DatasetSynthesis", dependencies: ["Synthesis", "Imaging", "Manifest", "StageSupport"]),

        // Thin executables, one per stage.
        .executableTarget(name: "jdrl-synth", dependencies: ["DatasetSynthesis", "Synthesis", "Imaging", "Manifest", "StageSupport"]),
        .executableTarget(name: "jdrl-ingest", dependencies: ["Ingest", "Imaging", "Manifest", "StageSupport"]),
        .executableTarget(name: "jdrl-tile", dependencies: ["Tiling", "Imaging", "Manifest", "StageSupport"]),
        .executableTarget(name: "jdrl-manifest", dependencies: ["Manifest", "StageSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "jdrl-flow", dependencies: ["FlowStage", "Flow", "Imaging", "StageSupport"]),
        .executableTarget(name: "jdrl-train", dependencies: ["Training", "Distributed", "StageSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "jdrl-eval", dependencies: ["Evaluation", "Metrics", "Models", "Tensors", "Flow", "Imaging", "Manifest", "StageSupport",
                                                    .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "jdrl-deblur", dependencies: ["Evaluation", "Models", "Tensors", "Imaging", "StageSupport",
                                                      .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "jdrl-bench", dependencies: ["CBenchSupport", "COpenBLAS", "Seeding", "Models", "Tensors", "Imaging", "Flow", "Synthesis", "Metrics", "StageSupport", "Manifest", "Training", "WeightFiles"]),

        // Tests: one target per module; fixtures are found through #filePath (Tests/<Target>/Fixtures).
        .testTarget(name: "ImagingTests", dependencies: ["Imaging"]),
        .testTarget(name: "ManifestTests", dependencies: ["Manifest", "StageSupport", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "SeedingTests", dependencies: ["Seeding"]),
        .testTarget(name: "ThreadingTests", dependencies: ["Threading"]),
        .testTarget(name: "WeightFilesTests", dependencies: ["WeightFiles"]),
        .testTarget(name: "SynthesisTests", dependencies: ["Synthesis", "Imaging"]),
        .testTarget(name: "StageTests", dependencies: ["Imaging", "Manifest", "Models", "Tensors", "CVips", "Seeding", "WeightFiles", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "StageLibraryTests", dependencies: ["Ingest", "Tiling", "FlowStage", "Flow", "Imaging", "Manifest", "StageSupport"]),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "Tensors"], exclude: ["Fixtures"]),
        .testTarget(name: "FlowTests", dependencies: ["Flow", "Imaging", "Tensors"]),
        .testTarget(name: "MetricsTests", dependencies: ["Metrics", "Imaging"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "Models", "Tensors", "Imaging", "Manifest", "Synthesis", "Metrics",
                                                            .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Models", "Tensors", "Flow", "Manifest", "Imaging", "StageSupport", "Seeding", "Synthesis",
                                                          .product(name: "GRDB", package: "GRDB.swift")]),
    ],
    swiftLanguageModes: [.v5]
)
