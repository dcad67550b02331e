/*
 * threads_busy.c -- 1 thread vs 2 threads, as a host sees them, measured in
 * the same run: two cells on the same arrays, one set to 1 thread and one to
 * 2, advanced in alternating bursts; every advance is timed on its own.
 *
 * Output: one tab-separated line per (size, dtype, mode, threads):
 *   load size dtype mode threads advances median_us mean_us p90_us ratio_median
 * where ratio_median is the 2-thread median over the 1-thread median (on the
 * 2-thread line; 1 on the 1-thread line). `load` is a free label (argv) that
 * the calling script uses to say what else ran (idle, busy, ...).
 *
 * Usage: threads_busy LOAD [--advances N] [--sizes 128x784,1e6] [--modes prob,logits]
 *                          [--dtypes f32,f64]
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ngc_cells.h"
#include "common.h"

typedef struct {
    double median, mean, p90;
} Stats;

static Stats stats(double *t, int n) {
    Stats s = {0};
    for (int i = 0; i < n; i++) s.mean += t[i];
    s.mean /= n;
    qsort(t, n, sizeof(double), cmp_double);
    s.median = t[n / 2];
    s.p90 = t[(int)(n * 0.9)];
    return s;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s LOAD [--advances N] [--sizes L,..] [--modes M,..] [--dtypes D,..]\n",
                argv[0]);
        return 2;
    }
    const char *load = argv[1];
    int advances = 400;
    const char *sizes_sel = "128x784,1e6", *modes_sel = "prob", *dtypes_sel = "f32";
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--advances") && i + 1 < argc) advances = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--sizes") && i + 1 < argc) sizes_sel = argv[++i];
        else if (!strcmp(argv[i], "--modes") && i + 1 < argc) modes_sel = argv[++i];
        else if (!strcmp(argv[i], "--dtypes") && i + 1 < argc) dtypes_sel = argv[++i];
        else {
            fprintf(stderr, "unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    const int burst = 10; /* advances of one cell before switching to the other */
    if (advances < burst) advances = burst;
    advances -= advances % burst;
    struct {
        const char *label;
        size_t units, batch;
    } sizes[] = {{"128x784", 784, 128}, {"1e5", 100000, 1}, {"1e6", 1000000, 1}};
    const char *names[6] = {"p", "target", "modulator", "mask", "dp", "dtarget"};
    double *t[2];
    t[0] = malloc(sizeof(double) * advances);
    t[1] = malloc(sizeof(double) * advances);
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        if (!listed(sizes_sel, sizes[si].label)) continue;
        size_t n = sizes[si].units * sizes[si].batch;
        for (int f64 = 0; f64 <= 1; f64++) {
            if (!listed(dtypes_sel, f64 ? "f64" : "f32")) continue;
            for (int logits = 0; logits <= 1; logits++) {
                if (!listed(modes_sel, logits ? "logits" : "prob")) continue;
                size_t es = f64 ? 8 : 4;
                void *arr[6];
                for (int j = 0; j < 6; j++) {
                    if (posix_memalign(&arr[j], 4096, n * es) != 0) return 1;
                }
                for (size_t i = 0; i < n; i++) {
                    double u = unit();
                    double v[6] = {logits ? (u - 0.5) * 8.0 : 0.02 + 0.96 * u,
                                   unit() < 0.5 ? 0.0 : 1.0, 1.0, 1.0, 0.0, 0.0};
                    for (int j = 0; j < 6; j++) {
                        if (f64) ((double *)arr[j])[i] = v[j];
                        else ((float *)arr[j])[i] = (float)v[j];
                    }
                }
                NgcCell *cell[2];
                for (int c = 0; c < 2; c++) {
                    CHECK(ngc_bernoulli_error_cell_new("threads", sizes[si].units, sizes[si].batch,
                                                       logits, NULL,
                                                       f64 ? NGC_DTYPE_F64 : NGC_DTYPE_F32,
                                                       &cell[c]));
                    for (int j = 0; j < 6; j++) CHECK(ngc_cell_bind(cell[c], names[j], arr[j], n));
                    CHECK(ngc_cell_set_threads(cell[c], (size_t)c + 1));
                    for (int w = 0; w < 3; w++) CHECK(ngc_cell_advance(cell[c], 0.0, 1.0));
                }
                int done[2] = {0, 0};
                while (done[0] < advances) {
                    for (int c = 0; c < 2; c++) {
                        for (int b = 0; b < burst; b++) {
                            double t0 = now();
                            CHECK(ngc_cell_advance(cell[c], 0.0, 1.0));
                            t[c][done[c]++] = now() - t0;
                        }
                    }
                }
                Stats s[2];
                for (int c = 0; c < 2; c++) s[c] = stats(t[c], advances);
                for (int c = 0; c < 2; c++) {
                    printf("%s\t%s\t%s\t%s\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.3f\n", load,
                           sizes[si].label, f64 ? "f64" : "f32", logits ? "logits" : "prob", c + 1,
                           advances, s[c].median * 1e6, s[c].mean * 1e6, s[c].p90 * 1e6,
                           s[c].median / s[0].median);
                }
                fflush(stdout);
                for (int c = 0; c < 2; c++) ngc_cell_free(cell[c]);
                for (int j = 0; j < 6; j++) free(arr[j]);
            }
        }
    }
    free(t[0]);
    free(t[1]);
    return 0;
}
