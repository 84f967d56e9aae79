import CVips
import Foundation

/// What a file's header says, read without decoding pixels (cheap enough for every ingest item).
public struct ImageHeader: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var bands: Int
    /// 8 or 16; nil when the samples are neither uchar nor ushort.
    public var bitDepth: Int?
    /// libvips' names, e.g. "uchar" and "srgb".
    public var format: String
    public var interpretation: String
    /// The EXIF orientation tag (1-8; 1 when absent): loading applies it, so sizes compare upright.
    public var orientation: Int

    public init(width: Int, height: Int, bands: Int, bitDepth: Int?, format: String, interpretation: String, orientation: Int = 1) {
        self.width = width
        self.height = height
        self.bands = bands
        self.bitDepth = bitDepth
        self.format = format
        self.interpretation = interpretation
        self.orientation = orientation
    }

    /// Orientations 5-8 turn the stored image by a quarter: its upright width is the stored height.
    var quarterTurned: Bool { (5...8).contains(orientation) }
    /// The size as `loadRGB` delivers it (EXIF orientation applied).
    public var uprightWidth: Int { quarterTurned ? height : width }
    public var uprightHeight: Int { quarterTurned ? width : height }
    public var pixels: Int { width * height }
}

/// An image loaded as RGB in its own bit depth, with what was done to get there.
public struct LoadedImage: @unchecked Sendable {
    public var image: VipsImage
    /// 8 or 16.
    public var bitDepth: Int
    /// Human-readable normalisation steps, e.g. "greyscale replicated to RGB" (empty when none).
    public var notes: [String]
    public var width: Int { image.width }
    public var height: Int { image.height }
}

/// Loading and saving image files (PNG, JPEG, TIFF and whatever else libvips reads).
public enum ImageFile {
    /// Checks the cheap ways a file can be bad before asking libvips: absent, empty, no loader.
    static func preflight(_ url: URL) throws {
        let path = url.path
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
            throw ImagingError.missing(path: path)
        }
        if (attributes[.size] as? NSNumber)?.intValue == 0 { throw ImagingError.zeroBytes(path: path) }
        try Vips.ensureStarted()
        guard vips_foreign_find_load(path) != nil else {
            vips_error_clear()
            throw ImagingError.notAnImage(path: path)
        }
    }

    static func open(_ url: URL, sequential: Bool) throws -> VipsImage {
        try preflight(url)
        guard let raw = jdrl_vips_load_strict(url.path, sequential ? 1 : 0) else {
            throw ImagingError.unreadable(path: url.path, reason: Vips.takeErrorMessage())
        }
        return VipsImage(owning: raw)
    }

    /// Reads only the header: size, bands, sample format. Does not decode pixels, so it cannot see
    /// truncation; `verifyDecodes` does.
    public static func probe(_ url: URL) throws -> ImageHeader {
        header(of: try open(url, sequential: true))
    }

    static func header(of image: VipsImage) -> ImageHeader {
        ImageHeader(width: image.width, height: image.height, bands: image.bands, bitDepth: image.bitDepth,
                    format: image.formatName, interpretation: image.interpretationName,
                    orientation: Int(vips_image_get_orientation(image.pointer)))
    }

    /// Decodes every pixel (streaming, little memory) with libvips failing on the first decode error,
    /// so truncated or corrupt files are caught here rather than in a later stage. A header declaring
    /// more than `pixelLimit` pixels is refused before any pixel is decoded: a few hundred bytes can
    /// declare 30000x30000, and decoding that would take minutes (and gigabytes once materialised).
    public static func verifyDecodes(_ url: URL, pixelLimit: Int? = nil) throws -> ImageHeader {
        let image = try open(url, sequential: true)
        let header = header(of: image)
        if let pixelLimit, header.pixels > pixelLimit {
            throw ImagingError.tooManyPixels(path: url.path, width: header.width, height: header.height, limit: pixelLimit)
        }
        do { _ = try image.average() } catch let error as ImagingError {
            if case let .vips(_, reason) = error { throw ImagingError.truncatedOrCorrupt(path: url.path, reason: reason) }
            throw error
        }
        return header
    }

    /// Loads as RGB in the file's own bit depth: EXIF orientation applied, greyscale replicated to three
    /// bands, alpha dropped, CMYK converted; each such step is recorded in `notes`. The result is lazy:
    /// call `materialized()` before many reads. Decode errors surface when pixels are first computed.
    public static func loadRGB(_ url: URL, sequential: Bool = false) throws -> LoadedImage {
        var image = try open(url, sequential: sequential)
        var notes: [String] = []
        guard let depth = image.bitDepth else {
            throw ImagingError.unsupported(path: url.path, reason: "sample format \(image.formatName); only 8- and 16-bit unsigned are read")
        }
        if vips_image_get_orientation(image.pointer) > 1 {
            notes.append("EXIF orientation \(vips_image_get_orientation(image.pointer)) applied")
            image = try image.autorotated()
        }
        if image.interpretation == VIPS_INTERPRETATION_CMYK {
            image = try image.apply("colourspace") { jdrl_vips_colourspace(image.pointer, $0, VIPS_INTERPRETATION_sRGB) }
            notes.append("CMYK converted to sRGB")
        }
        switch image.bands {
        case 1, 2:
            if image.bands == 2 { notes.append("alpha channel dropped") }
            let grey = image.bands == 2 ? try image.extractBands(0, count: 1) : image
            image = try grey.apply("bandjoin") { jdrl_vips_replicate_band(grey.pointer, $0, 3) }
            notes.append("greyscale replicated to RGB")
        case 3:
            break
        default:
            image = try image.extractBands(0, count: 3)
            notes.append("alpha channel dropped (\(image.bands) bands kept of the file's)")
        }
        if image.bitDepth != depth {
            throw ImagingError.unsupported(path: url.path, reason: "bit depth changed during normalisation")
        }
        // Savers look at the interpretation: make sure 3-band images are labelled as colour.
        let space = depth == 16 ? VIPS_INTERPRETATION_RGB16 : VIPS_INTERPRETATION_sRGB
        if image.interpretation != space {
            let source = image
            image = try source.apply("copy") { jdrl_vips_copy_interpretation(source.pointer, $0, space) }
        }
        return LoadedImage(image: image, bitDepth: depth, notes: notes)
    }

    /// Loads, normalises to RGB and converts to planar Float in [0, 1].
    public static func loadPlanar(_ url: URL) throws -> (image: PlanarImage, notes: [String]) {
        let loaded = try loadRGB(url)
        do {
            return (try PixelConversion.planar(from: loaded.image), loaded.notes)
        } catch let error as ImagingError {
            if case let .vips(_, reason) = error { throw ImagingError.truncatedOrCorrupt(path: url.path, reason: reason) }
            throw error
        }
    }

    /// Saves a planar image as PNG in its `bitDepth` (8 or 16).
    public static func savePNG(_ image: PlanarImage, to url: URL, compression: Int = 1) throws {
        try PixelConversion.vipsImage(from: image).savePNG(to: url, compression: compression)
    }
}
