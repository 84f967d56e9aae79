import Foundation

/// What a UNet's weights cannot say by their shapes: whether it is residual. Written beside the
/// weights as `<name>.json` (`net_g.json` next to `net_g.safetensors`), so the safetensors file keeps
/// exactly the PyTorch state_dict names. No sidecar means the paper's (sigmoid) UNet: that is what
/// torch_jdrl.py exports and what every checkpoint written before the option held.
public struct UNetArchitecture: Codable, Equatable, Sendable {
    public var residual: Bool

    public init(residual: Bool) { self.residual = residual }

    public static func sidecar(ofWeights weights: URL) -> URL {
        weights.deletingPathExtension().appendingPathExtension("json")
    }

    public func write(besideWeights weights: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(self).write(to: Self.sidecar(ofWeights: weights), options: .atomic)
    }

    /// The sidecar's content; the plain UNet when there is none. A sidecar that does not parse is an error
    /// (running a residual network as a sigmoid one would give a wrong image, not a failure).
    public static func read(besideWeights weights: URL) throws -> UNetArchitecture {
        let url = sidecar(ofWeights: weights)
        guard let data = FileManager.default.contents(atPath: url.path) else { return UNetArchitecture(residual: false) }
        return try JSONDecoder().decode(UNetArchitecture.self, from: data)
    }
}
