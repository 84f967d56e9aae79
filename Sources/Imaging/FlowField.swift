import Foundation

/// A dense 2-D displacement field with the project's convention: for pixel p of image A,
/// A(p) matches B(p + flow(p)), so a backward warp samples B at p + flow(p).
/// `u` is the horizontal (x) component, `v` the vertical (y) one, each row-major width x height.
public struct FlowField: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var u: [Float]
    public var v: [Float]

    public init(width: Int, height: Int, u: [Float], v: [Float]) {
        precondition(u.count == width * height && v.count == width * height, "flow components must be width*height")
        self.width = width
        self.height = height
        self.u = u
        self.v = v
    }

    public init(width: Int, height: Int) {
        self.init(width: width, height: height,
                  u: [Float](repeating: 0, count: width * height), v: [Float](repeating: 0, count: width * height))
    }
}

public enum FlowFileError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case badMagic(path: String, found: Float)
    case truncated(path: String, expectedBytes: Int, foundBytes: Int)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "\(path): cannot read flow file (\(reason))"
        case let .badMagic(path, found): return "\(path): not a Middlebury .flo file (magic \(found), expected 202021.25)"
        case let .truncated(path, expected, found): return "\(path): truncated .flo file (\(found) bytes, expected \(expected))"
        }
    }
}

/// Middlebury `.flo`: float32 magic 202021.25, int32 width, int32 height, then interleaved (u, v)
/// float32 pairs row by row, all little-endian. This is what OpenCV, PWC-Net tooling and the peers write.
public enum FlowFile {
    public static let magic: Float = 202021.25

    public static func encode(_ flow: FlowField) -> Data {
        var bytes = [UInt8]()
        bytes.reserveCapacity(12 + flow.width * flow.height * 8)
        func append32(_ bits: UInt32) { withUnsafeBytes(of: bits.littleEndian) { bytes.append(contentsOf: $0) } }
        append32(magic.bitPattern)
        append32(UInt32(truncatingIfNeeded: Int32(flow.width)))
        append32(UInt32(truncatingIfNeeded: Int32(flow.height)))
        for i in 0..<(flow.width * flow.height) {
            append32(flow.u[i].bitPattern)
            append32(flow.v[i].bitPattern)
        }
        return Data(bytes)
    }

    public static func decode(_ data: Data, path: String = "<memory>") throws -> FlowField {
        guard data.count >= 12 else { throw FlowFileError.truncated(path: path, expectedBytes: 12, foundBytes: data.count) }
        let words: [UInt32] = data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)) }
        }
        let foundMagic = Float(bitPattern: words[0])
        guard foundMagic == magic else { throw FlowFileError.badMagic(path: path, found: foundMagic) }
        let width = Int(Int32(bitPattern: words[1])), height = Int(Int32(bitPattern: words[2]))
        let expected = 12 + max(0, width) * max(0, height) * 8
        guard width > 0, height > 0, data.count >= expected else {
            throw FlowFileError.truncated(path: path, expectedBytes: expected, foundBytes: data.count)
        }
        var u = [Float](repeating: 0, count: width * height), v = u
        for i in 0..<(width * height) {
            u[i] = Float(bitPattern: words[3 + 2 * i])
            v[i] = Float(bitPattern: words[4 + 2 * i])
        }
        return FlowField(width: width, height: height, u: u, v: v)
    }

    public static func read(_ url: URL) throws -> FlowField {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw FlowFileError.unreadable(path: url.path, reason: error.localizedDescription)
        }
        return try decode(data, path: url.path)
    }

    /// Written to a temporary name and renamed, so a reader never sees half a file.
    public static func write(_ flow: FlowField, to url: URL) throws {
        try encode(flow).write(to: url, options: .atomic)
    }
}
