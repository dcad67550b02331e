/*
 * common.h -- what the benchmark programs in bench/c share: a monotonic clock,
 * a comparison for qsort, the xorshift generator their inputs come from (reset
 * `rng` to repeat a sequence), a status check that exits with the library's
 * message, and a comma-separated list lookup for their options.
 */
#ifndef NGC_BENCH_COMMON_H
#define NGC_BENCH_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ngc_cells.h"

/* Seconds on the monotonic clock. */
static inline double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* qsort comparison of doubles, ascending. */
static inline int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* xorshift64: `unit()` is uniform in [0, 1). */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static inline double unit(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (rng >> 11) * (1.0 / 9007199254740992.0);
}

/* Exits with the status and the library's message when `call` fails. */
#define CHECK(call)                                                                    \
    do {                                                                               \
        NgcStatus s_ = (call);                                                         \
        if (s_ != NGC_OK) {                                                            \
            char msg_[1024];                                                           \
            ngc_last_error_message(msg_, sizeof msg_);                                 \
            fprintf(stderr, "%s failed: %s (%s)\n", #call, ngc_status_str(s_), msg_); \
            exit(1);                                                                   \
        }                                                                              \
    } while (0)

/* Whether `item` is one of the comma-separated entries of `list`. */
static inline int listed(const char *list, const char *item) {
    size_t len = strlen(item);
    for (const char *p = list; (p = strstr(p, item)) != NULL; p += len) {
        int start = p == list || p[-1] == ',';
        int end = p[len] == '\0' || p[len] == ',';
        if (start && end) return 1;
    }
    return 0;
}

#endif
