/*
 * f64_ratio.c -- f64 against f32, interleaved in one run: for each size and
 * mode, an f32 cell and an f64 cell with the same inputs (rounded), advanced
 * in alternating bursts of 10 on one thread, every advance timed on its own.
 *
 * Output: one tab-separated line per (size, mode):
 *   size mode advances f32_median_us f64_median_us ratio f32_p10_us f64_p10_us ratio_p10
 * ratio = f64 median / f32 median (issue 13 bounds it by 2.5); the 10th
 * percentiles are less sensitive to other programs running (for A/B tuning).
 *
 * Usage: f64_ratio [--advances N] [--sizes 784,1e5,1e6] [--modes prob,logits]
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ngc_cells.h"
#include "common.h"

int main(int argc, char **argv) {
    int advances = 1000;
    const char *sizes_sel = "784,1e5,1e6", *modes_sel = "prob,logits";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--advances") && i + 1 < argc) advances = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--sizes") && i + 1 < argc) sizes_sel = argv[++i];
        else if (!strcmp(argv[i], "--modes") && i + 1 < argc) modes_sel = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--advances N] [--sizes L,..] [--modes M,..]\n", argv[0]);
            return 2;
        }
    }
    const int burst = 10;
    if (advances < burst) advances = burst;
    advances -= advances % burst;
    struct {
        const char *label;
        size_t n;
    } sizes[] = {{"784", 784}, {"1e4", 10000}, {"1e5", 100000}, {"1e6", 1000000}};
    const char *names[6] = {"p", "target", "modulator", "mask", "dp", "dtarget"};
    double *t[2] = {malloc(sizeof(double) * advances), malloc(sizeof(double) * advances)};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        if (!listed(sizes_sel, sizes[si].label)) continue;
        size_t n = sizes[si].n;
        for (int logits = 0; logits <= 1; logits++) {
            if (!listed(modes_sel, logits ? "logits" : "prob")) continue;
            NgcCell *cell[2];
            for (int f64 = 0; f64 <= 1; f64++) {
                size_t es = f64 ? 8 : 4;
                void *arr[6];
                for (int j = 0; j < 6; j++) {
                    if (posix_memalign(&arr[j], 4096, n * es) != 0) return 1;
                }
                rng = 0x9e3779b97f4a7c15ull; /* the same values for both dtypes */
                for (size_t i = 0; i < n; i++) {
                    double u = unit();
                    double v[6] = {logits ? (u - 0.5) * 8.0 : 0.02 + 0.96 * u,
                                   unit() < 0.5 ? 0.0 : 1.0, 1.0, 1.0, 0.0, 0.0};
                    for (int j = 0; j < 6; j++) {
                        if (f64) ((double *)arr[j])[i] = v[j];
                        else ((float *)arr[j])[i] = (float)v[j];
                    }
                }
                CHECK(ngc_bernoulli_error_cell_new("ratio", n, 1, logits, NULL,
                                                   f64 ? NGC_DTYPE_F64 : NGC_DTYPE_F32,
                                                   &cell[f64]));
                /* Arrays stay bound until the end (leaked: the process is short). */
                for (int j = 0; j < 6; j++) CHECK(ngc_cell_bind(cell[f64], names[j], arr[j], n));
                for (int w = 0; w < 3; w++) CHECK(ngc_cell_advance(cell[f64], 0.0, 1.0));
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
            double med[2], p10[2];
            for (int c = 0; c < 2; c++) {
                qsort(t[c], advances, sizeof(double), cmp_double);
                med[c] = t[c][advances / 2];
                p10[c] = t[c][advances / 10];
                ngc_cell_free(cell[c]);
            }
            printf("%s\t%s\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\n", sizes[si].label,
                   logits ? "logits" : "prob", advances, med[0] * 1e6, med[1] * 1e6,
                   med[1] / med[0], p10[0] * 1e6, p10[1] * 1e6, p10[1] / p10[0]);
            fflush(stdout);
        }
    }
    free(t[0]);
    free(t[1]);
    return 0;
}
