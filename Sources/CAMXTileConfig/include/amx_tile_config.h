// oneDNN 2.6 reads the AMX tile palette from CPUID leaf 0x1D. Some hypervisors hide that leaf while
// still exposing AMX (this project's VMs do), so oneDNN configures tiles with palette 0, which
// means "no tiles": the first AMX instruction then faults (SIGILL). amx_tile_config.c defines the
// library's own `amx_tile_configure` in the executable, which takes precedence over libdnnl's
// (ELF symbol interposition) and turns palette 0 into palette 1, the only palette AMX has.
#pragma once

/// 1 once the interposed tile configuration has run with a palette it had to correct (for logs).
int jdrl_amx_palette_was_corrected(void);
/// How many tile configurations went through the interposer (0: oneDNN never configured AMX here).
long jdrl_amx_tile_configurations(void);
