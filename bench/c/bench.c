/*
 * bench.c -- times ngc_cell_advance through the C ABI, and the same math as a
 * plain C loop with the C library's scalar logf/expf (log/exp for f64).
 *
 * Output: one tab-separated line per configuration:
 *   impl dtype mode threads label elements us_per_call ns_per_element faults_per_call
 * impl is "ngc_cells" or "c_libm"; us_per_call is the median over samples.
 *
 * Usage: bench [--quick] [--stagger] [--only LABEL]
 *   --quick    fewer samples (a smoke test)
 *   --min      print the minimum instead of the median
 *   --stagger  place the arrays at different offsets modulo 4 KiB (by default
 *              every array starts at the same offset, the 4K-aliasing worst case)
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "ngc_cells.h"
#include "common.h"

static long minflt(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

static int stagger = 0;
static int quick = 0;
static int use_min = 0;

/* Page-aligned arrays, optionally moved by a different number of cache lines each. */
static void *alloc_array(size_t bytes, int index) {
    size_t off = stagger ? (size_t)index * 7 * 64 + 64 * 3 : 0;
    char *base = NULL;
    if (posix_memalign((void **)&base, 4096, bytes + off + 4096) != 0) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return base + off;
}

typedef struct {
    void *p, *x, *m, *k, *dp, *dt;
    size_t n;
    int f64;
    int logits;
} Arrays;

/* The reference math as a plain loop, float. */
static double c_libm_f32(Arrays *a) {
    const float *p = a->p, *x = a->x, *m = a->m;
    float *k = a->k, *dp = a->dp, *dt = a->dt;
    const float lo = 1e-4f, hi = (float)(1.0 - 1e-4);
    double L = 0.0;
    for (size_t i = 0; i < a->n; i++) {
        float s = 1.0f / (1.0f + expf(-p[i]));
        float q = a->logits ? s : p[i];
        q = q < lo ? lo : (q > hi ? hi : q);
        float omq = 1.0f - q, omx = 1.0f - x[i];
        float lq = logf(q), l1q = logf(omq);
        L += (double)(lq * x[i] + l1q * omx);
        float g = a->logits ? x[i] - q : (x[i] / q - omx / omq) * ((1.0f - s) * s);
        dp[i] = g * m[i] * k[i];
        dt[i] = (lq - l1q) * m[i] * k[i];
        k[i] = k[i] * 0.0f + 1.0f;
    }
    return L;
}

static double c_libm_f64(Arrays *a) {
    const double *p = a->p, *x = a->x, *m = a->m;
    double *k = a->k, *dp = a->dp, *dt = a->dt;
    const double lo = 1e-4, hi = 1.0 - 1e-4;
    double L = 0.0;
    for (size_t i = 0; i < a->n; i++) {
        double s = 1.0 / (1.0 + exp(-p[i]));
        double q = a->logits ? s : p[i];
        q = q < lo ? lo : (q > hi ? hi : q);
        double omq = 1.0 - q, omx = 1.0 - x[i];
        double lq = log(q), l1q = log(omq);
        L += lq * x[i] + l1q * omx;
        double g = a->logits ? x[i] - q : (x[i] / q - omx / omq) * ((1.0 - s) * s);
        dp[i] = g * m[i] * k[i];
        dt[i] = (lq - l1q) * m[i] * k[i];
        k[i] = k[i] * 0.0 + 1.0;
    }
    return L;
}

static volatile double sink;

typedef struct {
    const char *label;
    size_t units, batch;
} Size;

static void fill(Arrays *a) {
    size_t es = a->f64 ? 8 : 4;
    for (size_t i = 0; i < a->n; i++) {
        double u = unit();
        double pv = a->logits ? (u - 0.5) * 8.0 : 0.02 + 0.96 * u;
        double xv = unit() < 0.5 ? 0.0 : 1.0;
        if (es == 4) {
            ((float *)a->p)[i] = (float)pv;
            ((float *)a->x)[i] = (float)xv;
            ((float *)a->m)[i] = 1.0f;
            ((float *)a->k)[i] = 1.0f;
            ((float *)a->dp)[i] = 0.0f;
            ((float *)a->dt)[i] = 0.0f;
        } else {
            ((double *)a->p)[i] = pv;
            ((double *)a->x)[i] = xv;
            ((double *)a->m)[i] = 1.0;
            ((double *)a->k)[i] = 1.0;
            ((double *)a->dp)[i] = 0.0;
            ((double *)a->dt)[i] = 0.0;
        }
    }
}

/* Times `fn` (one advance); prints the median. */
static void run(const char *impl, Arrays *a, int threads, const char *label, NgcCell *cell) {
    double t0, one;
    /* Warm-up (the first call faults the output pages in, starts nothing else). */
    for (int i = 0; i < 2; i++) {
        if (cell) {
            CHECK(ngc_cell_advance(cell, 0.0, 1.0));
        } else {
            sink = a->f64 ? c_libm_f64(a) : c_libm_f32(a);
        }
    }
    t0 = now();
    if (cell) {
        CHECK(ngc_cell_advance(cell, 0.0, 1.0));
    } else {
        sink = a->f64 ? c_libm_f64(a) : c_libm_f32(a);
    }
    one = now() - t0;
    double target = quick ? 1e-3 : 4e-3; /* seconds per sample */
    long reps = (long)(target / (one > 1e-9 ? one : 1e-9));
    if (reps < 1) reps = 1;
    int samples = quick ? 5 : (one > 5e-3 ? 9 : 15);
    double *t = malloc(sizeof(double) * samples);
    long f0 = minflt();
    long calls = 0;
    for (int s = 0; s < samples; s++) {
        t0 = now();
        for (long r = 0; r < reps; r++) {
            if (cell) {
                CHECK(ngc_cell_advance(cell, 0.0, 1.0));
            } else {
                sink = a->f64 ? c_libm_f64(a) : c_libm_f32(a);
            }
        }
        t[s] = (now() - t0) / reps;
        calls += reps;
    }
    long faults = minflt() - f0;
    qsort(t, samples, sizeof(double), cmp_double);
    /* The median; the minimum with --min (robust to a busy machine while tuning). */
    double med = use_min ? t[0] : t[samples / 2];
    printf("%s\t%s\t%s\t%d\t%s\t%zu\t%.4f\t%.4f\t%.3f\n", impl, a->f64 ? "f64" : "f32",
           a->logits ? "logits" : "prob", threads, label, a->n, med * 1e6, med * 1e9 / a->n,
           (double)faults / calls);
    fflush(stdout);
    free(t);
}

int main(int argc, char **argv) {
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) quick = 1;
        else if (!strcmp(argv[i], "--stagger")) stagger = 1;
        else if (!strcmp(argv[i], "--min")) use_min = 1;
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--quick] [--min] [--stagger] [--only LABEL]\n", argv[0]);
            return 2;
        }
    }
    Size sizes[] = {
        {"1e2", 100, 1},       {"784", 784, 1},         {"1e3", 1000, 1},
        {"1e4", 10000, 1},     {"128x784", 784, 128},   {"1e5", 100000, 1},
        {"1e6", 1000000, 1},   {"1e7", 10000000, 1},
    };
    const char *names[6] = {"p", "target", "modulator", "mask", "dp", "dtarget"};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        Size sz = sizes[si];
        if (only && strcmp(only, sz.label)) continue;
        size_t n = sz.units * sz.batch;
        for (int f64 = 0; f64 <= 1; f64++) {
            size_t es = f64 ? 8 : 4;
            Arrays a = {0};
            a.n = n;
            a.f64 = f64;
            void **arr[6] = {&a.p, &a.x, &a.m, &a.k, &a.dp, &a.dt};
            for (int j = 0; j < 6; j++) *arr[j] = alloc_array(n * es, j);
            for (int logits = 0; logits <= 1; logits++) {
                a.logits = logits;
                fill(&a);
                NgcCell *cell = NULL;
                CHECK(ngc_bernoulli_error_cell_new("bench", sz.units, sz.batch, logits, NULL,
                                                   f64 ? NGC_DTYPE_F64 : NGC_DTYPE_F32, &cell));
                for (int j = 0; j < 6; j++) CHECK(ngc_cell_bind(cell, names[j], *arr[j], n));
                int max_threads = n >= 10000 ? 2 : 1;
                for (int th = 1; th <= max_threads; th++) {
                    CHECK(ngc_cell_set_threads(cell, th));
                    run("ngc_cells", &a, th, sz.label, cell);
                }
                ngc_cell_free(cell);
                run("c_libm", &a, 1, sz.label, NULL);
            }
            /* Arrays are leaked on purpose: the process is short. */
        }
    }
    return 0;
}
