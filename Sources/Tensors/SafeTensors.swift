// The safetensors format as torch_jdrl.py's save_safetensors writes it: an unsigned 64-bit
// little-endian header length, a JSON header {name: {dtype: "F32", shape, data_offsets}} padded
// with spaces to a multiple of 8, then the raw little-endian float32 data in header order.
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
            case .unsupportedType(let n, let d): return "tensor \(n) has dtype \(d); only F32 is supported"
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

    /// Reads every tensor (F32 only) keyed by name.
    public static func read(_ url: URL) throws -> [String: Tensor] {
        let data = try Data(contentsOf: url)
        guard data.count >= 8 else { throw Error.truncated("no header length") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard 8 + Int(headerLength) <= data.count else { throw Error.truncated("header of \(headerLength) bytes") }
        let headerData = data.subdata(in: 8..<(8 + Int(headerLength)))
        guard let header = try JSONSerialization.jsonObject(with: headerData) as? [String: Any] else {
            throw Error.badHeader("not a JSON object")
        }
        let base = 8 + Int(headerLength)
        var out: [String: Tensor] = [:]
        for (name, value) in header where name != "__metadata__" {
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2 else {
                throw Error.badHeader("entry \(name)")
            }
            guard dtype == "F32" else { throw Error.unsupportedType(name: name, dtype: dtype) }
            let count = shape.reduce(1, *)
            guard offsets[1] - offsets[0] == count * 4 else { throw Error.badHeader("\(name): offsets do not match shape") }
            guard base + offsets[1] <= data.count else { throw Error.truncated(name) }
            var values = [Float](repeating: 0, count: count)
            values.withUnsafeMutableBytes { destination in
                data.copyBytes(to: destination.bindMemory(to: UInt8.self), from: (base + offsets[0])..<(base + offsets[1]))
            }
            // The file is little-endian; so is every machine this runs on, but say it.
            if UInt32(1).littleEndian != 1 { values = values.map { Float(bitPattern: $0.bitPattern.byteSwapped) } }
            out[name] = Tensor(name: name, shape: shape, values: values)
        }
        return out
    }

    private static func jsonString(_ s: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [s], options: [.withoutEscapingSlashes])
        let text = String(decoding: data, as: UTF8.self)
        return String(text.dropFirst().dropLast())
    }
}
