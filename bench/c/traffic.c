/*
 * traffic.c -- the memory floor: the kernel's memory traffic (read p, target,
 * modulator, mask; write dp, dtarget, mask: 28 bytes per f32 element) with
 * almost no arithmetic, on 1 or 2 threads (OpenMP), with ordinary stores and
 * (if the CPU has AVX-512) with non-temporal stores for dp and dtarget.
 * Same output format as bench.c (impl "traffic_plain" / "traffic_stream").
 *
 * Build: cc -O3 -fopenmp -mavx512f traffic.c   (the AVX-512 part runs only if
 * the CPU has it).
 */
#define _GNU_SOURCE
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void plain(float *p, float *x, float *m, float *k, float *dp, float *dt, long n) {
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++) {
        dp[i] = p[i] * x[i] * k[i];
        dt[i] = m[i] * k[i];
        k[i] = k[i] * 0.0f + 1.0f;
    }
}

__attribute__((target("avx512f"))) static void stream(float *p, float *x, float *m, float *k,
                                                       float *dp, float *dt, long n) {
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i += 16) {
        __m512 a = _mm512_load_ps(p + i), b = _mm512_load_ps(x + i), c = _mm512_load_ps(m + i),
               d = _mm512_load_ps(k + i);
        _mm512_stream_ps(dp + i, _mm512_mul_ps(_mm512_mul_ps(a, b), d));
        _mm512_stream_ps(dt + i, _mm512_mul_ps(c, d));
        _mm512_store_ps(k + i, _mm512_add_ps(_mm512_mul_ps(d, _mm512_setzero_ps()),
                                             _mm512_set1_ps(1.0f)));
    }
    _mm_sfence();
}

int main(int argc, char **argv) {
    int quick = argc > 1 && !strcmp(argv[1], "--quick");
    struct { const char *label; long n; } sizes[] = {{"1e5", 100000}, {"1e6", 1000000}, {"1e7", 10000000}};
    int has512 = __builtin_cpu_supports("avx512f");
    for (int s = 0; s < 3; s++) {
        long n = sizes[s].n;
        float *a[6];
        for (int j = 0; j < 6; j++) {
            if (posix_memalign((void **)&a[j], 4096, n * 4)) return 1;
            for (long i = 0; i < n; i++) a[j][i] = 1.0f;
        }
        for (int th = 1; th <= 2; th++) {
            omp_set_num_threads(th);
            for (int kind = 0; kind < (has512 ? 2 : 1); kind++) {
                int samples = quick ? 5 : 15;
                double t[15];
                for (int r = -2; r < samples; r++) {
                    long reps = n >= 10000000 ? 1 : (n >= 1000000 ? 4 : 40);
                    double t0 = now();
                    for (long q = 0; q < reps; q++) {
                        if (kind) stream(a[0], a[1], a[2], a[3], a[4], a[5], n);
                        else plain(a[0], a[1], a[2], a[3], a[4], a[5], n);
                    }
                    if (r >= 0) t[r] = (now() - t0) / reps;
                }
                qsort(t, samples, sizeof(double), cmp);
                double med = t[samples / 2];
                printf("%s\tf32\tprob\t%d\t%s\t%ld\t%.4f\t%.4f\t-\n", kind ? "traffic_stream" : "traffic_plain",
                       th, sizes[s].label, n, med * 1e6, med * 1e9 / n);
                fflush(stdout);
            }
        }
        for (int j = 0; j < 6; j++) free(a[j]);
    }
    return 0;
}
