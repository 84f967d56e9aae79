// C helpers of jdrl-bench.
#pragma once

// The machine's FP32 peak as the benchmarks quote it: independent FMA chains on every thread,
// nothing loaded from memory, in the widest vectors the CPU has (AVX-512, else AVX2 + FMA).
// A ceiling no real kernel reaches; sgemm is the practical one.

/// Floats per FMA of the loop `jdrl_peak_fma_gflops` runs: 16 (AVX-512), 8 (AVX2 + FMA) or 0 (neither).
int jdrl_peak_fma_width(void);

/// GFLOP/s of `threads` threads each running `iterations` rounds of 12 independent FMAs
/// (best of `repeats`); 0 when the CPU has neither AVX-512F nor AVX2 + FMA.
double jdrl_peak_fma_gflops(int threads, long iterations, int repeats);

/// The CPU has the AVX-512 subsets OpenBLAS's SkylakeX kernels use (F, BW, DQ, VL, CD).
int jdrl_cpu_has_avx512_skylakex_set(void);
/// The CPU has AVX2 and FMA (OpenBLAS's Haswell kernels).
int jdrl_cpu_has_avx2_fma(void);
/// The SkylakeX set plus AVX512-BF16 (the bf16 kernels of OpenBLAS's Cooperlake and SapphireRapids sets).
int jdrl_cpu_has_avx512_bf16(void);

/// Hands memory the allocator keeps after free() back to the system (glibc malloc_trim), so that a
/// benchmark's next peak-memory reading counts only what its own work needs.
void jdrl_release_free_memory(void);
