import Foundation

/// A safetensors file read whole: little-endian u64 header length, a JSON header mapping each name
/// to dtype/shape/data_offsets, then the raw data. F32, F16 and BF16 tensors are widened to Float.
public struct SafetensorsFile: Sendable {
    public struct Tensor: Sendable {
        public var shape: [Int]
        public var values: [Float]
    }

    public let path: String
    public let tensors: [String: Tensor]

    public init(contentsOf url: URL) throws {
        path = url.path
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw SafetensorsError(path: url.path, reason: "file not found")
        }
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw SafetensorsError(path: url.path, reason: "cannot read (\(error.localizedDescription))")
        }
        tensors = try Self.parse(data, path: url.path)
    }

    public func tensor(_ name: String) -> Tensor? { tensors[name] }

    private static func parse(_ data: Data, path: String) throws -> [String: Tensor] {
        func fail(_ reason: String) -> SafetensorsError { SafetensorsError(path: path, reason: reason) }
        guard data.count >= 8 else { throw fail("shorter than the 8-byte header length") }
        let headerLength = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(data.count - 8) else { throw fail("header length \(headerLength) exceeds the file") }
        let dataStart = 8 + Int(headerLength)
        guard let header = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<dataStart)) as? [String: Any] else {
            throw fail("header is not a JSON object")
        }
        var tensors: [String: Tensor] = [:]
        for (name, entry) in header where name != "__metadata__" {
            guard let entry = entry as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
            else { throw fail("tensor '\(name)' has a malformed header entry") }
            let count = shape.reduce(1, *)
            let begin = dataStart + offsets[0], end = dataStart + offsets[1]
            guard offsets[0] <= offsets[1], end <= data.count else { throw fail("tensor '\(name)' lies outside the file") }
            let width: Int
            switch dtype {
            case "F32": width = 4
            case "F16", "BF16": width = 2
            default: throw fail("tensor '\(name)' has dtype \(dtype); F32, F16 or BF16 expected")
            }
            guard end - begin == count * width else { throw fail("tensor '\(name)' has \(end - begin) bytes for shape \(shape) \(dtype)") }
            let values: [Float] = data.withUnsafeBytes { raw in
                (0..<count).map { i in
                    let offset = begin + i * width
                    switch dtype {
                    case "F32": return Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                    case "BF16": return Float(bitPattern: UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self))) << 16)
                    default: return floatFromHalf(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
                    }
                }
            }
            tensors[name] = Tensor(shape: shape, values: values)
        }
        return tensors
    }
}

public struct SafetensorsError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}

/// IEEE half to single precision (written out: Float16 is not available on every platform).
func floatFromHalf(_ bits: UInt16) -> Float {
    let sign: Float = bits & 0x8000 != 0 ? -1 : 1
    let exponent = Int((bits >> 10) & 0x1F), mantissa = Float(bits & 0x3FF)
    switch exponent {
    case 0: return sign * mantissa * pow(2, -24)
    case 31: return mantissa == 0 ? sign * .infinity : .nan
    default: return sign * (1 + mantissa / 1024) * pow(2, Float(exponent - 15))
    }
}
