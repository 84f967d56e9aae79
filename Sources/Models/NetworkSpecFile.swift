import Foundation

/// The network a checkpoint's weights belong to, written beside them as `<name>.json` (`net_g.json` next
/// to `net_g.safetensors`) so the safetensors file keeps exactly the PyTorch state_dict names: the
/// `NetworkSpec` jdrl-train built F from. Checkpoints written before the spec was stored hold
/// `{"residual": true|false}` there (the shapes of the tensors say the rest); a PyTorch export holds none.
public enum NetworkSpecFile {
    /// What the file beside the weights says.
    public enum Content: Equatable, Sendable {
        case spec(NetworkSpec)
        /// An older checkpoint's `{"residual": ...}`: only whether its UNet is residual.
        case residual(Bool)
        /// No file: the paper's (sigmoid) UNet, or an architecture told by the tensor names.
        case absent
    }

    public static func url(besideWeights weights: URL) -> URL {
        weights.deletingPathExtension().appendingPathExtension("json")
    }

    public static func write(_ spec: NetworkSpec, besideWeights weights: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(spec).write(to: url(besideWeights: weights), options: .atomic)
    }

    /// The file's content. A file that is neither form is an error (running a residual network as a
    /// sigmoid one would give a wrong image, not a failure).
    public static func read(besideWeights weights: URL) throws -> Content {
        guard let data = FileManager.default.contents(atPath: url(besideWeights: weights).path) else { return .absent }
        if let spec = try? JSONDecoder().decode(NetworkSpec.self, from: data) { return .spec(spec) }
        struct Residual: Decodable { var residual: Bool }
        return .residual(try JSONDecoder().decode(Residual.self, from: data).residual)
    }
}
