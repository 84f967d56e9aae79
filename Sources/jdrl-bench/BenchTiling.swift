import Foundation
import Imaging

/// Tiling throughput: load a 4096x2160 PNG, resize by 0.5 (Lanczos3), cut every 512x512 patch at
/// stride 256 and write each as PNG (zlib 6), against Pillow and pyvips doing the same work in the
/// same run (the peers' tile_peers.py, best of 3 each). Prints one JSON line.
func benchTiling() throws {
    let photo = PeerLocations.devPhoto("sunset_by_Aitzol_Berasategi.jpg")
    let peerScript = PeerLocations.script("tile_peers.py")
    guard FileManager.default.fileExists(atPath: photo.path), FileManager.default.fileExists(atPath: peerScript) else {
        print(#"{"bench":"tiling","skipped":"the peers' tile_peers.py or the development photo is absent (JDRL_PEERS)"}"#)
        return
    }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("jdrl-bench-tiling-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }

    // The input: a dev photo resized and cropped to SDD's 4096x2160, written once as PNG.
    let source = folder.appendingPathComponent("capture.png")
    let loaded = try ImageFile.loadRGB(photo).image
    let wide = try loaded.resized(scale: 4096 / Double(loaded.width))
    try wide.cropped(x: 0, y: (wide.height - 2160) / 2, width: 4096, height: 2160).savePNG(to: source, compression: 1)

    let threads = 2, repeats = 3
    var best = Double.infinity, tiles = 0
    for run in 0..<repeats {
        let out = folder.appendingPathComponent("ours-\(run)")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let started = Date()
        tiles = try tileOnce(source, into: out, threads: threads)
        best = min(best, Date().timeIntervalSince(started))
        try? FileManager.default.removeItem(at: out)
    }

    let peers = try runPeers(script: peerScript, image: source, out: folder.appendingPathComponent("peers"))
    let pillow = peers["pillow"] ?? .nan, pyvips = peers["pyvips"] ?? .nan
    func number(_ value: Double) -> String { value.isFinite ? String(format: "%.3f", value) : "null" }
    print(#"{"bench":"tiling","ours_s":\#(number(best)),"peer":"pillow","peer_s":\#(number(pillow)),"speedup":\#(number(pillow / best)),"pyvips_s":\#(number(pyvips)),"speedup_vs_pyvips":\#(number(pyvips / best)),"tiles":\#(tiles),"threads":\#(threads),"image":"4096x2160 PNG 8-bit","work":"load, Lanczos3 x0.5, 512x512 stride 256, PNG zlib 6","repeats":"best of \#(repeats)"}"#)
}

/// Exactly the peers' work: load, resize, materialise once, crop and save every tile.
private func tileOnce(_ source: URL, into out: URL, threads: Int) throws -> Int {
    let image = try ImageFile.loadRGB(source, sequential: true).image.resized(scale: 0.5).materialized()
    let origins = TileGrid.origins(width: image.width, height: image.height, size: 512, stride: 256, includeEdges: false)
    try TileWriter.write(images: [image], origins: origins, size: 512, threads: threads,
                         destination: { index, _ in out.appendingPathComponent("\(origins[index].x)_\(origins[index].y).png") },
                         save: { crop, url in try crop.savePNG(to: url, compression: 6) })
    return origins.count
}

/// Runs tile_peers.py and returns each peer's best time in seconds.
private func runPeers(script: String, image: URL, out: URL) throws -> [String: Double] {
    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
    let run = try PeerRun.python([script, image.path, out.path, "--scale", "0.5", "--stride", "256"])
    var seconds: [String: Double] = [:]
    for object in run.jsonLines {
        guard let peer = object["peer"] as? String, let value = object["seconds_best"] as? Double else { continue }
        seconds[peer] = value
    }
    return seconds
}
