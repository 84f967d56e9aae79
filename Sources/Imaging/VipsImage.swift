import CVips
import Foundation

typealias VipsPointer = UnsafeMutablePointer<CVips.VipsImage>

/// An owning handle on a libvips image (released with `g_object_unref` when the handle goes).
/// Operations return new handles; the source stays valid. vips is lazy: an operation only records
/// what to do, pixels are computed when saved or read. Call `materialized()` once before cutting many
/// crops, or every crop re-runs the decode and resize behind it.
/// Immutable after creation, so handles may be shared across threads (vips images are thread-safe to read).
public final class VipsImage: @unchecked Sendable {
    let pointer: VipsPointer

    init(owning pointer: VipsPointer) {
        self.pointer = pointer
    }

    deinit {
        g_object_unref(UnsafeMutableRawPointer(pointer))
    }

    public var width: Int { Int(vips_image_get_width(pointer)) }
    public var height: Int { Int(vips_image_get_height(pointer)) }
    public var bands: Int { Int(vips_image_get_bands(pointer)) }

    /// 8 for uchar samples, 16 for ushort; nil for anything else (float, signed, 32-bit).
    public var bitDepth: Int? {
        switch vips_image_get_format(pointer) {
        case VIPS_FORMAT_UCHAR: return 8
        case VIPS_FORMAT_USHORT: return 16
        default: return nil
        }
    }

    public var formatName: String {
        String(cString: vips_enum_nick(vips_band_format_get_type(), Int32(vips_image_get_format(pointer).rawValue)))
    }

    public var interpretationName: String {
        String(cString: vips_enum_nick(vips_interpretation_get_type(), Int32(vips_image_get_interpretation(pointer).rawValue)))
    }

    var interpretation: VipsInterpretation { vips_image_get_interpretation(pointer) }

    /// Runs a vips operation that writes one output image, turning failure into `ImagingError.vips`.
    func apply(_ operation: String, _ body: (UnsafeMutablePointer<VipsPointer?>) -> Int32) throws -> VipsImage {
        var output: VipsPointer?
        guard body(&output) == 0, let result = output else {
            throw ImagingError.vips(operation: operation, reason: Vips.takeErrorMessage())
        }
        return VipsImage(owning: result)
    }

    /// Applies and removes the EXIF orientation tag, so pixels are stored the way they are seen.
    public func autorotated() throws -> VipsImage {
        try apply("autorot") { jdrl_vips_autorot(pointer, $0) }
    }

    /// Lanczos3 resize by one factor for both axes (output size rounds to nearest).
    public func resized(scale: Double) throws -> VipsImage {
        if scale == 1 { return self }
        return try apply("resize") { jdrl_vips_resize(pointer, $0, scale) }
    }

    /// Lanczos3 resize to an exact size.
    public func resized(width newWidth: Int, height newHeight: Int) throws -> VipsImage {
        if newWidth == width && newHeight == height { return self }
        let h = Double(newWidth) / Double(width), v = Double(newHeight) / Double(height)
        return try apply("resize") { jdrl_vips_resize_xy(pointer, $0, h, v) }
    }

    public func cropped(x: Int, y: Int, width cropWidth: Int, height cropHeight: Int) throws -> VipsImage {
        guard x >= 0, y >= 0, cropWidth > 0, cropHeight > 0, x + cropWidth <= width, y + cropHeight <= height else {
            throw ImagingError.vips(operation: "crop",
                                    reason: "rectangle \(x),\(y) \(cropWidth)x\(cropHeight) outside \(width)x\(height)")
        }
        return try apply("crop") { jdrl_vips_crop(pointer, $0, Int32(x), Int32(y), Int32(cropWidth), Int32(cropHeight)) }
    }

    public func extractBands(_ first: Int, count: Int) throws -> VipsImage {
        try apply("extract_band") { jdrl_vips_extract_band(pointer, $0, Int32(first), Int32(count)) }
    }

    /// Computes every pixel once into memory; later crops read from there.
    public func materialized() throws -> VipsImage {
        guard let result = vips_image_copy_memory(pointer) else {
            throw ImagingError.vips(operation: "copy_memory", reason: Vips.takeErrorMessage())
        }
        return VipsImage(owning: result)
    }

    /// Mean of all samples. Reading every pixel is also how a loader is forced to decode the whole file.
    public func average() throws -> Double {
        var value = 0.0
        guard jdrl_vips_avg(pointer, &value) == 0 else {
            throw ImagingError.vips(operation: "avg", reason: Vips.takeErrorMessage())
        }
        return value
    }

    /// Interleaved samples, row by row (uchar: 1 byte, ushort: 2 bytes native-endian per sample).
    public func interleavedBytes() throws -> [UInt8] {
        var size = 0
        guard let buffer = vips_image_write_to_memory(pointer, &size) else {
            throw ImagingError.vips(operation: "write_to_memory", reason: Vips.takeErrorMessage())
        }
        defer { g_free(buffer) }
        return [UInt8](UnsafeRawBufferPointer(start: buffer, count: size))
    }

    /// An image over a copy of interleaved samples. `bitDepth` 8 means UInt8 samples, 16 means UInt16
    /// (native-endian). Labelled sRGB / RGB16 (or B_W / GREY16) so savers write it unchanged.
    public static func fromInterleaved(_ bytes: [UInt8], width: Int, height: Int, bands: Int, bitDepth: Int) throws -> VipsImage {
        try Vips.ensureStarted()
        let bytesPerSample = bitDepth == 16 ? 2 : 1
        guard bitDepth == 8 || bitDepth == 16, bytes.count == width * height * bands * bytesPerSample else {
            throw ImagingError.vips(operation: "new_from_memory",
                                    reason: "\(bytes.count) bytes do not hold \(width)x\(height)x\(bands) at \(bitDepth) bit")
        }
        let format = bitDepth == 16 ? VIPS_FORMAT_USHORT : VIPS_FORMAT_UCHAR
        let raw = bytes.withUnsafeBytes { buffer in
            vips_image_new_from_memory_copy(buffer.baseAddress, buffer.count, Int32(width), Int32(height), Int32(bands), format)
        }
        guard let raw else { throw ImagingError.vips(operation: "new_from_memory_copy", reason: Vips.takeErrorMessage()) }
        let image = VipsImage(owning: raw)
        let space: VipsInterpretation
        switch (bands >= 3, bitDepth) {
        case (true, 16): space = VIPS_INTERPRETATION_RGB16
        case (true, _): space = VIPS_INTERPRETATION_sRGB
        case (false, 16): space = VIPS_INTERPRETATION_GREY16
        default: space = VIPS_INTERPRETATION_B_W
        }
        return try image.apply("copy") { jdrl_vips_copy_interpretation(raw, $0, space) }
    }

    /// Saves PNG keeping the sample depth (8 or 16 bit). Compression 0-9: zlib effort; 1 is fast and
    /// files are only slightly bigger than at 6 (vips writes no row filter by default). Encoded in memory
    /// and written here: libvips' file writer was seen to return success for a file cut short by a full
    /// disk, which a rename then published as a patch.
    public func savePNG(to url: URL, compression: Int = 1) throws {
        let depth = bitDepth ?? 8
        var buffer: UnsafeMutableRawPointer?
        var length = 0
        guard jdrl_vips_pngsave_buffer(pointer, &buffer, &length, Int32(compression), Int32(depth)) == 0, let buffer else {
            throw ImagingError.writeFailed(path: url.path, reason: Vips.takeErrorMessage())
        }
        defer { g_free(buffer) }
        do { try Data(bytesNoCopy: buffer, count: length, deallocator: .none).write(to: url) } catch {
            // The system's words ("No space left on device"), not Foundation's error dump.
            let failure = error as NSError, underlying = failure.userInfo[NSUnderlyingErrorKey] as? NSError
            let cause: String
            if let underlying, underlying.domain == NSPOSIXErrorDomain { cause = String(cString: strerror(Int32(underlying.code))) }
            else if failure.domain == NSCocoaErrorDomain && failure.code == CocoaError.fileWriteOutOfSpace.rawValue { cause = String(cString: strerror(ENOSPC)) }
            else { cause = failure.localizedDescription }
            throw ImagingError.writeFailed(path: url.path, reason: cause)
        }
    }

    public func saveJPEG(to url: URL, quality: Int = 90) throws {
        guard jdrl_vips_jpegsave(pointer, url.path, Int32(quality)) == 0 else {
            throw ImagingError.writeFailed(path: url.path, reason: Vips.takeErrorMessage())
        }
    }

    public func saveTIFF(to url: URL) throws {
        guard jdrl_vips_tiffsave(pointer, url.path) == 0 else {
            throw ImagingError.writeFailed(path: url.path, reason: Vips.takeErrorMessage())
        }
    }

    /// Read access to the samples, interleaved (computes them first if the image is lazy; nil on failure).
    public func withMemory<T>(_ body: (UnsafeRawBufferPointer) throws -> T) throws -> T? {
        guard let data = vips_image_get_data(pointer) else { return nil }
        let bytesPerSample = bitDepth == 16 ? 2 : 1
        return try body(UnsafeRawBufferPointer(start: data, count: width * height * bands * bytesPerSample))
    }
}

extension VipsImage {
    /// The same pixels tagged with an EXIF orientation (1-8), e.g. to write test files as cameras do.
    public func withOrientation(_ orientation: Int) throws -> VipsImage {
        try apply("copy") { jdrl_vips_copy_with_orientation(pointer, $0, Int32(orientation)) }
    }
}
