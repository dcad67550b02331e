/*
 * Quick start: ngc-learn's own BernoulliErrorCell test, through the C API.
 *
 * One unit, batch 1, probabilities (input_logits = false), ten steps. The inputs
 * are those of ngc-learn's test (numpy seed 42); the expected dp values are what
 * ngc-learn 3.2.3 computes (float32). The program binds its own arrays to the
 * cell (zero copy), advances, and checks dp against the reference.
 *
 *   cc -std=c99 -I include examples/c/quickstart.c -L target/release -lngc_cells -lm
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "ngc_cells.h"

/* Print the status, its name and the last error message, and fail. */
#define CHECK(call)                                                                  \
    do {                                                                             \
        NgcStatus st_ = (call);                                                      \
        if (st_ != NGC_OK) {                                                         \
            char msg_[512];                                                          \
            ngc_last_error_message(msg_, sizeof msg_);                               \
            fprintf(stderr, "%s failed: %s: %s\n", #call, ngc_status_str(st_), msg_); \
            exit(1);                                                                 \
        }                                                                            \
    } while (0)

int main(void) {
    static const float p_in[10] = {0.49671414f, -0.13826430f, 0.64768857f, 1.5230298f,
                                   -0.23415338f, -0.23413695f, 1.5792128f, 0.76743472f,
                                   -0.46947438f, 0.54256004f};
    static const float dp_ref[10] = {-2.8193381f, -4976.9263f, -2.1224928f, -2939.0425f,
                                     -1233.3916f, -0.24662945f, -708.30042f, 0.28213939f,
                                     3550.8477f,  1.3651246f};

    printf("%s (header %s)\n", ngc_version(), NGC_CELLS_VERSION_STRING);

    NgcCell *cell = NULL;
    CHECK(ngc_bernoulli_error_cell_new("z0", 1, 1, false, NULL, NGC_DTYPE_F32, &cell));

    /* Our arrays, bound to the cell's compartments: no copies. */
    float p = 0.0f, target = 0.0f, dp = 0.0f, L = 0.0f;
    CHECK(ngc_cell_bind_f32(cell, "p", &p, 1));
    CHECK(ngc_cell_bind_f32(cell, "target", &target, 1));
    CHECK(ngc_cell_bind_f32(cell, "dp", &dp, 1));
    CHECK(ngc_cell_bind_f32(cell, "L", &L, 1));

    int failures = 0;
    for (int t = 0; t < 10; t++) {
        p = p_in[t];
        target = (float)(t - 5) / 2.0f;
        CHECK(ngc_cell_advance(cell, (double)t, 1.0));
        int ok = fabsf(dp - dp_ref[t]) <= 1e-3f + 1e-5f * fabsf(dp_ref[t]);
        failures += !ok;
        printf("t=%d  p=% .7f  target=% .1f  dp=% 14.7f  (ngc-learn % 14.7f)  L=% .6f  %s\n", t, p,
               target, dp, dp_ref[t], L, ok ? "ok" : "MISMATCH");
    }

    ngc_cell_free(cell);
    if (failures) {
        fprintf(stderr, "%d step(s) differ from ngc-learn\n", failures);
        return 1;
    }
    printf("all 10 steps match ngc-learn\n");
    return 0;
}
