// See include/bench_support.h.
#include <pthread.h>
#include <time.h>
#include "bench_support.h"

#if defined(__x86_64__)
#include <immintrin.h>

enum { chains = 12 };   // FMA latency 4 cycles x 2 ports = 8 chains in flight, plus slack

struct job { long iterations; float sink; };

__attribute__((target("avx512f")))
static void *fma_loop_avx512(void *argument) {
    struct job *job = argument;
    __m512 acc[chains];
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < chains; i++) acc[i] = _mm512_set1_ps((float)i);
    for (long n = 0; n < job->iterations; n++) {
        for (int i = 0; i < chains; i++) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    }
    __m512 sum = acc[0];
    for (int i = 1; i < chains; i++) sum = _mm512_add_ps(sum, acc[i]);
    job->sink = _mm512_reduce_add_ps(sum);   // keeps the loop from being optimised away
    return 0;
}

__attribute__((target("avx2,fma")))
static void *fma_loop_avx2(void *argument) {
    struct job *job = argument;
    __m256 acc[chains];
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < chains; i++) acc[i] = _mm256_set1_ps((float)i);
    for (long n = 0; n < job->iterations; n++) {
        for (int i = 0; i < chains; i++) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    }
    __m256 sum = acc[0];
    for (int i = 1; i < chains; i++) sum = _mm256_add_ps(sum, acc[i]);
    float lanes[8];
    _mm256_storeu_ps(lanes, sum);
    job->sink = lanes[0] + lanes[7];
    return 0;
}

static double seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int jdrl_peak_fma_width(void) {
    if (__builtin_cpu_supports("avx512f")) return 16;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 8;
    return 0;
}

double jdrl_peak_fma_gflops(int threads, long iterations, int repeats) {
    int width = jdrl_peak_fma_width();
    if (width == 0 || threads < 1 || threads > 64) return 0;
    void *(*loop)(void *) = width == 16 ? fma_loop_avx512 : fma_loop_avx2;
    double best = 1e30;
    for (int r = 0; r < repeats; r++) {
        pthread_t ids[64];
        struct job jobs[64];
        double start = seconds();
        for (int t = 0; t < threads; t++) {
            jobs[t].iterations = iterations;
            pthread_create(&ids[t], 0, loop, &jobs[t]);
        }
        for (int t = 0; t < threads; t++) pthread_join(ids[t], 0);
        double elapsed = seconds() - start;
        if (elapsed < best) best = elapsed;
    }
    return 2.0 * width * chains * (double)iterations * threads / best / 1e9;
}

int jdrl_cpu_has_avx512_skylakex_set(void) {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq")
        && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512cd");
}

int jdrl_cpu_has_avx2_fma(void) { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }

int jdrl_cpu_has_avx512_bf16(void) { return jdrl_cpu_has_avx512_skylakex_set() && __builtin_cpu_supports("avx512bf16"); }

#else
// Not x86-64: no vector peak loop here (the benchmarks print 0 and the sgemm peak instead).
int jdrl_peak_fma_width(void) { return 0; }
double jdrl_peak_fma_gflops(int threads, long iterations, int repeats) { (void)threads; (void)iterations; (void)repeats; return 0; }
int jdrl_cpu_has_avx512_skylakex_set(void) { return 0; }
int jdrl_cpu_has_avx2_fma(void) { return 0; }
int jdrl_cpu_has_avx512_bf16(void) { return 0; }
#endif
