import CVips
import Foundation

/// A CMYK JPEG (as print workflows and some scanners write), converted from an sRGB file by libvips
/// itself. Kept in its own file: CVips' `VipsImage` type would clash with Imaging's.
enum CMYKJPEG {
    struct Failure: Error, CustomStringConvertible { var description: String }

    static func write(from rgb: URL, to jpeg: URL) throws {
        guard let image = jdrl_vips_load(rgb.path) else { throw Failure(description: "cannot load \(rgb.path)") }
        defer { g_object_unref(UnsafeMutableRawPointer(image)) }
        var cmyk: UnsafeMutablePointer<CVips.VipsImage>?
        guard jdrl_vips_colourspace(image, &cmyk, VIPS_INTERPRETATION_CMYK) == 0, let cmyk else {
            throw Failure(description: "colourspace to CMYK failed")
        }
        defer { g_object_unref(UnsafeMutableRawPointer(cmyk)) }
        guard jdrl_vips_jpegsave(cmyk, jpeg.path, 95) == 0 else { throw Failure(description: "jpegsave \(jpeg.path) failed") }
    }
}
