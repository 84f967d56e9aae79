// See include/bench_support.h.
#include <pthread.h>
#include <time.h>
#include <immintrin.h>
#include "bench_support.h"

enum { chains = 12 };   // FMA latency 4 cycles x 2 ports = 8 chains in flight, plus slack

struct job { long iterations; float sink; };

__attribute__((target("avx512f")))
static void *fma_loop(void *argument) {
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

static double seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

double jdrl_peak_fma_gflops(int threads, long iterations, int repeats) {
    if (!__builtin_cpu_supports("avx512f") || threads < 1 || threads > 64) return 0;
    double best = 1e30;
    for (int r = 0; r < repeats; r++) {
        pthread_t ids[64];
        struct job jobs[64];
        double start = seconds();
        for (int t = 0; t < threads; t++) {
            jobs[t].iterations = iterations;
            pthread_create(&ids[t], 0, fma_loop, &jobs[t]);
        }
        for (int t = 0; t < threads; t++) pthread_join(ids[t], 0);
        double elapsed = seconds() - start;
        if (elapsed < best) best = elapsed;
    }
    return 2.0 * 16 * chains * (double)iterations * threads / best / 1e9;
}
