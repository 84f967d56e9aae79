import Foundation
import Imaging

/// Files no ordinary saver writes, made byte by byte: a palette PNG and a PNG whose header declares
/// far more pixels than its data holds (a decompression bomb's shape, a few hundred bytes on disk).
enum HandmadePNG {
    /// A PNG with the given header fields and already filtered scanlines (one filter byte per row).
    /// The zlib stream uses stored (uncompressed) blocks, so no compressor is needed.
    static func data(width: Int, height: Int, bitDepth: UInt8, colourType: UInt8, palette: [UInt8]? = nil, scanlines: [UInt8]) -> Data {
        var png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var header = bigEndian(UInt32(width)) + bigEndian(UInt32(height))
        header += [bitDepth, colourType, 0, 0, 0]
        png += chunk("IHDR", header)
        if let palette { png += chunk("PLTE", palette) }
        png += chunk("IDAT", zlibStored(scanlines))
        png += chunk("IEND", [])
        return png
    }

    /// 8-bit palette image: four colours, indices in stripes that shift by row.
    static func palette(width: Int, height: Int, seed: Int) -> Data {
        let colours: [UInt8] = [200, 40, 40, 40, 180, 60, 30, 60, 220, 240, 230, 200]
        var rows: [UInt8] = []
        for y in 0..<height {
            rows.append(0)
            for x in 0..<width { rows.append(UInt8((x / 3 + y / 5 + seed) % 4)) }
        }
        return data(width: width, height: height, bitDepth: 8, colourType: 3, palette: colours, scanlines: rows)
    }

    /// An 8-bit RGB header of `width` x `height` with no pixel data behind it.
    static func bomb(width: Int, height: Int) -> Data {
        data(width: width, height: height, bitDepth: 8, colourType: 2, scanlines: [])
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8((value >> $0) & 0xFF) } }

    static func chunk(_ type: String, _ body: [UInt8]) -> Data {
        let typed = Array(type.utf8) + body
        return Data(bigEndian(UInt32(body.count)) + typed + bigEndian(crc32(typed)))
    }

    static func zlibStored(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let count = min(65535, bytes.count - offset)
            let final: UInt8 = offset + count == bytes.count ? 1 : 0
            out += [final, UInt8(count & 0xFF), UInt8(count >> 8), UInt8(~count & 0xFF), UInt8((~count >> 8) & 0xFF)]
            out += bytes[offset..<offset + count]
            offset += count
        } while offset < bytes.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in bytes { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        return out + bigEndian(b << 16 | a)
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}

/// Images in the forms cameras and editors write: other band counts, EXIF-rotated JPEGs.
enum CorpusImages {
    /// `bands` 1 (grey), 3 (RGB) or 4 (RGBA, alpha opaque-ish) 8-bit PNG with a seeded pattern.
    static func png(_ url: URL, width: Int, height: Int, bands: Int, seed: Int) throws {
        let rgb = patternBytes(width: width, height: height, bitDepth: 8, seed: seed)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(width * height * bands)
        for pixel in 0..<(width * height) {
            let r = rgb[pixel * 3], g = rgb[pixel * 3 + 1], b = rgb[pixel * 3 + 2]
            switch bands {
            case 1: bytes.append(UInt8((Int(r) * 3 + Int(g) * 6 + Int(b)) / 10))
            case 4: bytes += [r, g, b, UInt8(200 + pixel % 56)]
            default: bytes += [r, g, b]
            }
        }
        try VipsImage.fromInterleaved(bytes, width: width, height: height, bands: bands, bitDepth: 8).savePNG(to: url)
    }

    /// A JPEG whose stored pixels are `upright`'s turned a quarter anticlockwise, tagged EXIF orientation 6
    /// ("turn 90 degrees clockwise to view"), as a camera held upright writes it. Viewed (autorotated) it is
    /// `upright` again, up to JPEG loss.
    static func quarterTurnedJPEG(_ url: URL, uprightRGB upright: [UInt8], width: Int, height: Int) throws {
        // Stored: `height` wide, `width` tall; upright(x, y) = stored(y, storedHeight - 1 - x).
        let storedWidth = height, storedHeight = width
        var stored = [UInt8](repeating: 0, count: upright.count)
        for y in 0..<height {
            for x in 0..<width {
                let target = ((storedHeight - 1 - x) * storedWidth + y) * 3
                for c in 0..<3 { stored[target + c] = upright[(y * width + x) * 3 + c] }
            }
        }
        try VipsImage.fromInterleaved(stored, width: storedWidth, height: storedHeight, bands: 3, bitDepth: 8)
            .withOrientation(6).saveJPEG(to: url, quality: 98)
    }
}
