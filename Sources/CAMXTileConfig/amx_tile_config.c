// See include/amx_tile_config.h for why this exists.
#include <string.h>
#include "amx_tile_config.h"

static volatile int palette_corrected = 0;
static volatile long configurations = 0;

int jdrl_amx_palette_was_corrected(void) { return palette_corrected; }
long jdrl_amx_tile_configurations(void) { return configurations; }

#if defined(__x86_64__)
// dnnl::impl::cpu::x64::amx_tile_configure(const char *palette): loads a 64-byte tile configuration.
__attribute__((target("amx-tile")))
void _ZN4dnnl4impl3cpu3x6418amx_tile_configureEPKc(const char *palette) {
    _Alignas(64) unsigned char config[64];
    memcpy(config, palette, sizeof config);
    configurations++;
    if (config[0] == 0) {       // byte 0 is the palette id; palette 0 configures no tiles
        config[0] = 1;
        palette_corrected = 1;
    }
    __builtin_ia32_tile_loadconfig(config);
}
#endif
// Elsewhere (aarch64, ...) oneDNN has no AMX code to correct: only the counters exist, and stay 0.
