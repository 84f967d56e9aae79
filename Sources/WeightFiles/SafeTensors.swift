// The safetensors format: an unsigned 64-bit little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets}} (written padded with spaces to a multiple of 8), then the raw
// little-endian data in header order. The project's one reader and writer: checkpoints, PyTorch
// exports and LPIPS weights all go through it. It writes F32 (what training keeps) and reads F32,
// F16 and BF16 (what PyTorch users share), widening the half formats to Float exactly.
import Foundation

public enum SafeTensors {
    public struct Tensor: Sendable, Equatable {
        public var name: String
        public var shape: [Int]
        public var values: [Float]
        public init(name: String, shape: [Int], values: [Float]) {
            precondition(shape.reduce(1, *) == values.count, "\(name): shape \(shape) does not match \(values.count) values")
            self.name = name; self.shape = shape; self.values = values
        }
    }

    public enum Error: Swift.Error, CustomStringConvertible {
        case truncated(String), badHeader(String), unsupportedType(name: String, dtype: String)
        case missing(String), unexpected(String), shapeMismatch(name: String, expected: [Int], found: [Int])
        public var description: String {
            switch self {
            case .truncated(let s): return "safetensors file is truncated: \(s)"
            case .badHeader(let s): return "safetensors header is invalid: \(s)"
            case .unsupportedType(let n, let d): return "tensor \(n) has dtype \(d); F32, F16 or BF16 expected"
            case .missing(let n): return "tensor \(n) is missing from the file"
            case .unexpected(let n): return "the file has a tensor \(n) the model does not know"
            case .shapeMismatch(let n, let e, let f): return "tensor \(n) has shape \(f), expected \(e)"
            }
        }
    }

    /// Writes atomically (a killed process leaves the old file or none, never half a file).
    public static func write(_ tensors: [Tensor], to url: URL) throws {
        var header = "{"
        var offset = 0
        for (i, t) in tensors.enumerated() {
            let bytes = t.values.count * 4
            let shape = t.shape.map(String.init).joined(separator: ", ")
            header += (i == 0 ? "" : ", ") + "\(jsonString(t.name)): {\"dtype\": \"F32\", \"shape\": [\(shape)], \"data_offsets\": [\(offset), \(offset + bytes)]}"
            offset += bytes
        }
        header += "}"
        var headerBytes = Array(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var data = Data(capacity: 8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: headerBytes)
        for t in tensors {
            if UInt32(1).littleEndian == 1 {
                t.values.withUnsafeBytes { data.append(contentsOf: $0) }
            } else {
                for value in t.values { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
            }
        }
        try data.write(to: url, options: .atomic)
    }

    /// The element types read, with their width in bytes.
    enum DType: String {
        case f32 = "F32", f16 = "F16", bf16 = "BF16"
        var width: Int { self == .f32 ? 4 : 2 }
    }

    /// Reads every tensor keyed by name, F16 and BF16 widened to Float.
    public static func read(_ url: URL) throws -> [String: Tensor] {
        try parse(Data(contentsOf: url, options: .alwaysMapped))
    }

    static func parse(_ data: Data) throws -> [String: Tensor] {
        guard data.count >= 8 else { throw Error.truncated("no header length") }
        let headerLength = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(data.count - 8) else { throw Error.truncated("header of \(headerLength) bytes") }
        let base = 8 + Int(headerLength)
        guard let header = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<base)) as? [String: Any] else {
            throw Error.badHeader("not a JSON object")
        }
        var out: [String: Tensor] = [:]
        for (name, value) in header where name != "__metadata__" {
            guard let info = value as? [String: Any], let dtypeName = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2 else {
                throw Error.badHeader("entry \(name)")
            }
            guard let dtype = DType(rawValue: dtypeName) else { throw Error.unsupportedType(name: name, dtype: dtypeName) }
            let count = shape.reduce(1, *)
            guard offsets[0] <= offsets[1], offsets[1] - offsets[0] == count * dtype.width else {
                throw Error.badHeader("\(name): offsets do not match shape \(shape) of \(dtypeName)")
            }
            guard base + offsets[1] <= data.count else { throw Error.truncated(name) }
            let begin = base + offsets[0]
            let values: [Float] = data.withUnsafeBytes { raw in
                (0..<count).map { i in
                    let offset = begin + i * dtype.width
                    switch dtype {
                    case .f32: return Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                    // bfloat16 is the top half of a float32.
                    case .bf16: return Float(bitPattern: UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self))) << 16)
                    case .f16: return floatFromHalf(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
                    }
                }
            }
            out[name] = Tensor(name: name, shape: shape, values: values)
        }
        return out
    }

    /// IEEE half to single precision, exactly (spelled out: Float16 is not available on every platform).
    static func floatFromHalf(_ bits: UInt16) -> Float {
        let sign: Float = bits & 0x8000 != 0 ? -1 : 1
        let exponent = Int((bits >> 10) & 0x1F), mantissa = Float(bits & 0x3FF)
        switch exponent {
        case 0: return sign * mantissa * 0x1p-24
        case 31: return mantissa == 0 ? sign * .infinity : .nan
        default: return sign * (1 + mantissa / 1024) * Float(sign: .plus, exponent: exponent - 15, significand: 1)
        }
    }

    private static func jsonString(_ s: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [s], options: [.withoutEscapingSlashes])
        let text = String(decoding: data, as: UTF8.self)
        return String(text.dropFirst().dropLast())
    }
}
