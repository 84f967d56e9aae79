// libvips for Swift. Nearly every vips operation is C-variadic (NULL-terminated option pairs),
// which Swift cannot import, so each call the project needs gets a fixed-arity wrapper here.
// SwiftPM does not notice edits to this header: touch a Swift file in Imaging after changing it.
#ifndef JDRL_CVIPS_SHIM_H
#define JDRL_CVIPS_SHIM_H
#include <vips/vips.h>

static inline int jdrl_vips_init(const char *argv0) { return VIPS_INIT(argv0); }

static inline VipsImage *jdrl_vips_load(const char *path) {
    return vips_image_new_from_file(path, NULL);
}
static inline VipsImage *jdrl_vips_load_sequential(const char *path) {
    return vips_image_new_from_file(path, "access", VIPS_ACCESS_SEQUENTIAL, NULL);
}
// fail_on=error: a truncated or corrupt file fails the decode instead of yielding grey rows.
static inline VipsImage *jdrl_vips_load_strict(const char *path, int sequential) {
    return vips_image_new_from_file(path,
        "access", sequential ? VIPS_ACCESS_SEQUENTIAL : VIPS_ACCESS_RANDOM,
        "fail_on", VIPS_FAIL_ON_ERROR, NULL);
}
static inline int jdrl_vips_autorot(VipsImage *in, VipsImage **out) {
    return vips_autorot(in, out, NULL);
}
static inline int jdrl_vips_resize(VipsImage *in, VipsImage **out, double scale) {
    return vips_resize(in, out, scale, "kernel", VIPS_KERNEL_LANCZOS3, NULL);
}
static inline int jdrl_vips_resize_xy(VipsImage *in, VipsImage **out, double hscale, double vscale) {
    return vips_resize(in, out, hscale, "vscale", vscale, "kernel", VIPS_KERNEL_LANCZOS3, NULL);
}
static inline int jdrl_vips_crop(VipsImage *in, VipsImage **out, int left, int top, int width, int height) {
    return vips_crop(in, out, left, top, width, height, NULL);
}
static inline int jdrl_vips_cast(VipsImage *in, VipsImage **out, VipsBandFormat format) {
    return vips_cast(in, out, format, NULL);
}
static inline int jdrl_vips_colourspace(VipsImage *in, VipsImage **out, VipsInterpretation space) {
    return vips_colourspace(in, out, space, NULL);
}
static inline int jdrl_vips_flatten(VipsImage *in, VipsImage **out) {
    return vips_flatten(in, out, NULL);
}
static inline int jdrl_vips_extract_band(VipsImage *in, VipsImage **out, int band, int n) {
    return vips_extract_band(in, out, band, "n", n, NULL);
}
static inline int jdrl_vips_bandjoin(VipsImage **in, VipsImage **out, int n) {
    return vips_bandjoin(in, out, n, NULL);
}
// Replicates one band n times (greyscale -> RGB without a colour conversion).
static inline int jdrl_vips_replicate_band(VipsImage *in, VipsImage **out, int n) {
    VipsImage *bands[4] = { in, in, in, in };
    return vips_bandjoin(bands, out, n > 4 ? 4 : n, NULL);
}
// Relabels the pixels (no conversion): new_from_memory images are MULTIBAND, savers want sRGB / RGB16.
static inline int jdrl_vips_copy_interpretation(VipsImage *in, VipsImage **out, VipsInterpretation space) {
    return vips_copy(in, out, "interpretation", space, NULL);
}
// A copy whose EXIF orientation tag says `orientation` (1-8); pixels unchanged.
static inline int jdrl_vips_copy_with_orientation(VipsImage *in, VipsImage **out, int orientation) {
    if (vips_copy(in, out, NULL)) return -1;
    vips_image_set_int(*out, VIPS_META_ORIENTATION, orientation);
    return 0;
}
static inline int jdrl_vips_pngsave(VipsImage *in, const char *path, int compression, int bitdepth) {
    return vips_pngsave(in, path, "compression", compression, "bitdepth", bitdepth, NULL);
}
/* PNG into memory: the caller writes the bytes itself and so sees every write error (libvips' own
   file writer can lose a failed write at close, e.g. ENOSPC, and still return 0). Free with g_free. */
static inline int jdrl_vips_pngsave_buffer(VipsImage *in, void **buffer, size_t *length, int compression, int bitdepth) {
    return vips_pngsave_buffer(in, buffer, length, "compression", compression, "bitdepth", bitdepth, NULL);
}
static inline int jdrl_vips_tiffsave(VipsImage *in, const char *path) {
    return vips_tiffsave(in, path, NULL);
}
static inline int jdrl_vips_jpegsave(VipsImage *in, const char *path, int quality) {
    return vips_jpegsave(in, path, "Q", quality, NULL);
}
static inline int jdrl_vips_avg(VipsImage *in, double *out) { return vips_avg(in, out, NULL); }

#endif
