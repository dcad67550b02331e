/*
 * The C API from C: compiled as C99 with -Wall -Wextra -Werror -pedantic, linked
 * against the static and the shared library by tests/c_programs.rs, run, and
 * asserting values. Covers ngc-learn's test sequence, wiring two cells through one
 * buffer, batched_reset against bound capacities, and one negative test for every
 * status a C caller can provoke.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngc_cells.h"

static int passed = 0, failed = 0;

static void expect(int ok, const char *what, int line) {
    if (ok) {
        passed++;
    } else {
        char msg[1100];
        ngc_last_error_message(msg, sizeof msg);
        fprintf(stderr, "FAIL line %d: %s (last error: %s)\n", line, what, msg);
        failed++;
    }
}
#define EXPECT(cond) expect((cond), #cond, __LINE__)
#define EXPECT_STATUS(want, call) expect((call) == (want), #call " == " #want, __LINE__)
#define OK(call) EXPECT_STATUS(NGC_OK, call)

/* The last error message contains `needle`. */
static void expect_message(const char *needle, int line) {
    char msg[1100];
    size_t n = ngc_last_error_message(msg, sizeof msg);
    int ok = n == strlen(msg) && strstr(msg, needle) != NULL;
    if (!ok) fprintf(stderr, "FAIL line %d: message '%s' lacks '%s'\n", line, msg, needle);
    ok ? passed++ : failed++;
}
#define EXPECT_MESSAGE(needle) expect_message((needle), __LINE__)

static NgcCell *new_cell(size_t n, size_t batch, bool logits, NgcDtype dtype) {
    NgcCell *c = NULL;
    OK(ngc_bernoulli_error_cell_new("c", n, batch, logits, NULL, dtype, &c));
    return c;
}

static void test_ngc_learn_sequence(void) {
    static const float p_in[10] = {0.49671414f, -0.13826430f, 0.64768857f, 1.5230298f,
                                   -0.23415338f, -0.23413695f, 1.5792128f, 0.76743472f,
                                   -0.46947438f, 0.54256004f};
    static const float dp_ref[10] = {-2.8193381f, -4976.9263f, -2.1224928f, -2939.0425f,
                                     -1233.3916f, -0.24662945f, -708.30042f, 0.28213939f,
                                     3550.8477f,  1.3651246f};
    NgcCell *c = new_cell(1, 1, false, NGC_DTYPE_F32);
    float p = 0, x = 0, dp = 0;
    OK(ngc_cell_bind_f32(c, "p", &p, 1));
    OK(ngc_cell_bind(c, "target", &x, 1));
    OK(ngc_cell_bind_f32(c, "dp", &dp, 1));
    for (int t = 0; t < 10; t++) {
        p = p_in[t];
        x = (float)(t - 5) / 2.0f;
        OK(ngc_cell_advance(c, t, 1.0));
        EXPECT(fabsf(dp - dp_ref[t]) <= 1e-3f);
        double L = 0;
        OK(ngc_cell_loss(c, &L));
        EXPECT(isfinite(L));
    }
    ngc_cell_free(c);
}

static void test_wiring(void) {
    /* Cell a's dp is cell b's modulator: one buffer, no copies. */
    NgcCell *a = new_cell(3, 2, true, NGC_DTYPE_F64);
    NgcCell *b = new_cell(3, 2, true, NGC_DTYPE_F64);
    double wire[6], pa[6] = {0, 1, -1, 2, -2, 0}, xa[6] = {1, 0, 1, 0, 1, 0};
    double dpb[6];
    OK(ngc_cell_bind_f64(a, "p", pa, 6));
    OK(ngc_cell_bind_f64(a, "target", xa, 6));
    OK(ngc_cell_bind_f64(a, "dp", wire, 6));
    OK(ngc_cell_bind_f64(b, "modulator", wire, 6));
    OK(ngc_cell_bind_f64(b, "dp", dpb, 6));
    OK(ngc_cell_advance(a, 0, 1));
    double pb[6] = {0, 0, 0, 0, 0, 0}, xb[6] = {1, 1, 1, 1, 1, 1};
    OK(ngc_cell_set_f64(b, "p", pb, 6));
    OK(ngc_cell_set_f64(b, "target", xb, 6));
    OK(ngc_cell_advance(b, 0, 1));
    for (int i = 0; i < 6; i++) {
        double q = 1.0 / (1.0 + exp(-pa[i]));
        EXPECT(fabs(wire[i] - (xa[i] - q)) < 1e-12);
        EXPECT(dpb[i] == 0.5 * wire[i]); /* (1 - sigmoid(0)) * modulator */
    }
    ngc_cell_free(a); /* wire stays ours, and b still uses it */
    OK(ngc_cell_advance(b, 1, 1));
    EXPECT(dpb[1] == 0.5 * wire[1]);
    ngc_cell_free(b);
}

static void test_batched_reset_and_capacity(void) {
    NgcCell *c = new_cell(4, 1, false, NGC_DTYPE_F32);
    float mask[9];
    for (int i = 0; i < 9; i++) mask[i] = 7.0f;
    OK(ngc_cell_bind_f32(c, "mask", mask, 8)); /* room for batch 2 */
    EXPECT(mask[0] == 7.0f);                    /* binding does not write */
    EXPECT_STATUS(NGC_ERR_CAPACITY_TOO_SMALL, ngc_cell_batched_reset(c, 3));
    EXPECT_MESSAGE("nothing was changed");
    size_t b = 0, len = 0;
    OK(ngc_cell_batch_size(c, &b));
    EXPECT(b == 1);
    EXPECT(mask[0] == 7.0f && mask[8] == 7.0f);
    OK(ngc_cell_batched_reset(c, 2));
    OK(ngc_cell_batch_size(c, &b));
    OK(ngc_cell_compartment_len(c, "dp", &len));
    EXPECT(b == 2 && len == 8);
    EXPECT(mask[0] == 1.0f && mask[7] == 1.0f && mask[8] == 7.0f);
    OK(ngc_cell_reset(c));
    OK(ngc_cell_compartment_len(c, "mask", &len));
    EXPECT(len == 4);
    OK(ngc_cell_unbind(c, "mask"));
    EXPECT_STATUS(NGC_ERR_NOT_BOUND, ngc_cell_unbind(c, "mask"));
    ngc_cell_free(c);
}

static void test_every_status(void) {
    NgcCell *c = new_cell(4, 1, false, NGC_DTYPE_F32);
    NgcCell *out = NULL;
    float buf[16] = {0};
    double d = 0;
    size_t n = 0;

    /* NGC_ERR_NULL_POINTER */
    EXPECT_STATUS(NGC_ERR_NULL_POINTER,
                  ngc_bernoulli_error_cell_new("x", 1, 1, false, NULL, NGC_DTYPE_F32, NULL));
    EXPECT_MESSAGE("out_cell is NULL");
    EXPECT_STATUS(NGC_ERR_NULL_POINTER,
                  ngc_bernoulli_error_cell_new(NULL, 1, 1, false, NULL, NGC_DTYPE_F32, &out));
    EXPECT_STATUS(NGC_ERR_NULL_POINTER, ngc_cell_bind(c, "p", NULL, 4));
    EXPECT_MESSAGE("data is NULL");
    EXPECT_STATUS(NGC_ERR_NULL_POINTER, ngc_cell_advance(NULL, 0, 1));
    EXPECT_STATUS(NGC_ERR_NULL_POINTER, ngc_cell_loss(c, NULL));
    EXPECT_STATUS(NGC_ERR_NULL_POINTER, ngc_cell_get(c, "dp", NULL, 4));
    EXPECT_STATUS(NGC_ERR_NULL_POINTER, ngc_cell_set(c, NULL, buf, 4));
    /* NGC_ERR_MISALIGNED_POINTER */
    EXPECT_STATUS(NGC_ERR_MISALIGNED_POINTER,
                  ngc_cell_bind(c, "p", (void *)((char *)buf + 1), 4));
    EXPECT_MESSAGE("not aligned to 4 bytes");
    /* NGC_ERR_INVALID_HANDLE: memory that is not a cell */
    uint64_t not_a_cell[64] = {0};
    EXPECT_STATUS(NGC_ERR_INVALID_HANDLE, ngc_cell_advance((NgcCell *)not_a_cell, 0, 1));
    EXPECT_MESSAGE("not a live NgcCell");
    /* NGC_ERR_INVALID_ARGUMENT */
    EXPECT_STATUS(NGC_ERR_INVALID_ARGUMENT, ngc_cell_bind(c, "\xff\xfe", buf, 4));
    EXPECT_MESSAGE("not valid UTF-8");
    EXPECT_STATUS(NGC_ERR_INVALID_ARGUMENT, ngc_cell_set_threads(c, 0));
    /* NGC_ERR_INVALID_DTYPE */
    EXPECT_STATUS(NGC_ERR_INVALID_DTYPE, ngc_bernoulli_error_cell_new("x", 1, 1, false, NULL, 3, &out));
    /* NGC_ERR_DTYPE_MISMATCH */
    double dbuf[4];
    EXPECT_STATUS(NGC_ERR_DTYPE_MISMATCH, ngc_cell_bind_f64(c, "p", dbuf, 4));
    EXPECT_MESSAGE("computes in float32");
    EXPECT_STATUS(NGC_ERR_DTYPE_MISMATCH, ngc_cell_get_f64(c, "dp", dbuf, 4));
    /* NGC_ERR_UNKNOWN_COMPARTMENT */
    EXPECT_STATUS(NGC_ERR_UNKNOWN_COMPARTMENT, ngc_cell_bind_f32(c, "mu", buf, 4));
    EXPECT_MESSAGE("has no compartment named 'mu'");
    EXPECT_STATUS(NGC_ERR_UNKNOWN_COMPARTMENT, ngc_cell_compartment_len(c, "P", &n));
    /* NGC_ERR_ZERO_SIZE */
    EXPECT_STATUS(NGC_ERR_ZERO_SIZE, ngc_bernoulli_error_cell_new("x", 0, 1, false, NULL, NGC_DTYPE_F32, &out));
    size_t bad_shape[3] = {2, 0, 2};
    EXPECT_STATUS(NGC_ERR_ZERO_SIZE, ngc_bernoulli_error_cell_new("x", 1, 1, false, bad_shape, NGC_DTYPE_F32, &out));
    EXPECT_STATUS(NGC_ERR_ZERO_SIZE, ngc_cell_batched_reset(c, 0));
    /* NGC_ERR_SIZE_OVERFLOW */
    EXPECT_STATUS(NGC_ERR_SIZE_OVERFLOW, ngc_bernoulli_error_cell_new("x", SIZE_MAX, 2, false, NULL, NGC_DTYPE_F32, &out));
    size_t huge_shape[3] = {SIZE_MAX / 2, 2, 2};
    EXPECT_STATUS(NGC_ERR_SIZE_OVERFLOW, ngc_bernoulli_error_cell_new("x", 1, 1, false, huge_shape, NGC_DTYPE_F64, &out));
    EXPECT_STATUS(NGC_ERR_SIZE_OVERFLOW, ngc_cell_bind_f32(c, "p", buf, SIZE_MAX / 2));
    /* NGC_ERR_CAPACITY_TOO_SMALL */
    EXPECT_STATUS(NGC_ERR_CAPACITY_TOO_SMALL, ngc_cell_bind_f32(c, "p", buf, 3));
    EXPECT_MESSAGE("holds 4 elements, but the buffer's capacity is 3");
    /* NGC_ERR_LENGTH_MISMATCH */
    EXPECT_STATUS(NGC_ERR_LENGTH_MISMATCH, ngc_cell_set_f32(c, "p", buf, 5));
    EXPECT_STATUS(NGC_ERR_LENGTH_MISMATCH, ngc_cell_get_f32(c, "L", buf, 4));
    /* NGC_ERR_OVERLAP */
    OK(ngc_cell_bind_f32(c, "p", buf, 4));
    EXPECT_STATUS(NGC_ERR_OVERLAP, ngc_cell_bind_f32(c, "dp", buf + 2, 4));
    EXPECT_MESSAGE("overlaps the buffer bound to 'p'");
    OK(ngc_cell_unbind(c, "p"));
    /* NGC_ERR_NOT_BOUND */
    EXPECT_STATUS(NGC_ERR_NOT_BOUND, ngc_cell_unbind(c, "dtarget"));
    /* NGC_ERR_ALLOCATION: 2^59 floats fit the size checks but no machine */
    EXPECT_STATUS(NGC_ERR_ALLOCATION,
                  ngc_bernoulli_error_cell_new("x", (size_t)1 << 59, 1, false, NULL, NGC_DTYPE_F32, &out));
    EXPECT_MESSAGE("could not allocate");
    /* NGC_ERR_INDEX_OUT_OF_RANGE */
    const char *name = NULL;
    EXPECT_STATUS(NGC_ERR_INDEX_OUT_OF_RANGE, ngc_cell_compartment_name(c, 7, &name));
    EXPECT(name == NULL); /* outputs are written on success only */
    /* NGC_ERR_BUFFER_TOO_SMALL */
    /* (nothing is written on failure; the size queries succeed) */
    char small[4] = {'x', 'x', 'x', 'x'};
    n = 12345;
    EXPECT_STATUS(NGC_ERR_BUFFER_TOO_SMALL, ngc_cell_metadata_json(c, small, sizeof small, &n));
    EXPECT(small[0] == 'x' && small[3] == 'x' && n == 12345);
    EXPECT_STATUS(NGC_OK, ngc_cell_metadata_json(c, NULL, 0, &n));
    EXPECT(n > 100);
    size_t dims[1] = {777};
    n = 12345;
    EXPECT_STATUS(NGC_ERR_BUFFER_TOO_SMALL, ngc_cell_compartment_dims(c, "p", dims, 1, &n));
    EXPECT(n == 12345 && dims[0] == 777);
    EXPECT_STATUS(NGC_OK, ngc_cell_compartment_dims(c, "p", NULL, 0, &n));
    EXPECT(n == 2);
    /* NGC_ERR_PANIC and NGC_ERR_INTERNAL cannot be provoked through the API; their
       names are still there. */
    EXPECT(strcmp(ngc_status_str(NGC_ERR_PANIC), "NGC_ERR_PANIC") == 0);
    EXPECT(strcmp(ngc_status_str(12345), "NGC_UNKNOWN_STATUS") == 0);
    EXPECT(out == NULL); /* no failed constructor wrote its output */

    /* The cell is unchanged by all of the above. */
    OK(ngc_cell_loss(c, &d));
    EXPECT(d == 0.0);
    OK(ngc_cell_compartment_len(c, "p", &n));
    EXPECT(n == 4);
    ngc_cell_free(c);
    ngc_cell_free(NULL); /* a no-op */
}

static void test_version(void) {
    char want[64];
    snprintf(want, sizeof want, "ngc-cells/%d.%d.%d", NGC_CELLS_VERSION_MAJOR,
             NGC_CELLS_VERSION_MINOR, NGC_CELLS_VERSION_PATCH);
    EXPECT(strcmp(ngc_version(), want) == 0);
    EXPECT(NGC_CELLS_VERSION_NUMBER == ((NGC_CELLS_VERSION_MAJOR << 16) |
                                        (NGC_CELLS_VERSION_MINOR << 8) | NGC_CELLS_VERSION_PATCH));
}

int main(void) {
    test_ngc_learn_sequence();
    test_wiring();
    test_batched_reset_and_capacity();
    test_every_status();
    test_version();
    printf("test_api: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
