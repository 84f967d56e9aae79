import Foundation

/// Content hashes for change detection (not security): "h64", a 64-bit multiply-xorshift hash over the
/// file's 8-byte little-endian words with the length mixed in, printed as 16 hex digits. Reads at
/// memory speed, so hashing every file on every ingest stays cheap next to decoding.
public enum ContentHash {
    public static func of(fileAt url: URL) throws -> String {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var state = Hasher64()
        while let chunk = try handle.read(upToCount: 1 << 22), !chunk.isEmpty {
            chunk.withUnsafeBytes { state.absorb($0) }
        }
        return state.hexDigest
    }

    public static func of(_ data: Data) -> String {
        var state = Hasher64()
        data.withUnsafeBytes { state.absorb($0) }
        return state.hexDigest
    }

    public static func of(_ text: String) -> String { of(Data(text.utf8)) }

    struct Hasher64 {
        private var state: UInt64 = 0x243F_6A88_85A3_08D3
        private var length: UInt64 = 0
        /// Bytes left over from the previous chunk (< 8), so chunk boundaries do not change the result.
        private var tail: [UInt8] = []

        mutating func absorb(_ bytes: UnsafeRawBufferPointer) {
            var offset = 0
            length &+= UInt64(bytes.count)
            if !tail.isEmpty {
                while tail.count < 8 && offset < bytes.count { tail.append(bytes[offset]); offset += 1 }
                if tail.count < 8 { return }
                mix(tail.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
                tail.removeAll(keepingCapacity: true)
            }
            while offset + 8 <= bytes.count {
                mix(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
                offset += 8
            }
            while offset < bytes.count { tail.append(bytes[offset]); offset += 1 }
        }

        private mutating func mix(_ word: UInt64) {
            state = (state ^ (word &* 0x9E37_79B9_7F4A_7C15)) &* 0xBF58_476D_1CE4_E5B9
            state ^= state >> 29
        }

        var hexDigest: String {
            var copy = self
            var last: UInt64 = 0
            for (i, byte) in tail.enumerated() { last |= UInt64(byte) << (8 * UInt64(i)) }
            copy.mix(last ^ 0xFF)
            copy.mix(length)
            var h = copy.state
            h ^= h >> 31; h = h &* 0x94D0_49BB_1331_11EB; h ^= h >> 32
            let hex = String(h, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }
    }
}
