// C helpers of jdrl-bench.
#pragma once

// The machine's FP32 peak as the benchmarks quote it: independent AVX-512 FMA chains on every
// thread, nothing loaded from memory. A ceiling no real kernel reaches; sgemm is the practical one.

/// GFLOP/s of `threads` threads each running `iterations` rounds of 12 independent 16-wide FMAs
/// (best of `repeats`); 0 when the CPU lacks AVX-512F.
double jdrl_peak_fma_gflops(int threads, long iterations, int repeats);

/// Hands memory the allocator keeps after free() back to the system (glibc malloc_trim), so that a
/// benchmark's next peak-memory reading counts only what its own work needs.
void jdrl_release_free_memory(void);
