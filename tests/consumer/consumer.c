/*
 * A consumer of the installed library, built by tests/install.rs three ways:
 * pkg-config (shared), pkg-config --static (fully static) and CMake find_package.
 *
 * It checks that the header and the library it runs with are the same version,
 * then runs one step of ngc-learn's BernoulliErrorCell test (unit 0 of the
 * quickstart) and checks dp and L against ngc-learn 3.2.3's float32 values.
 * Prints "consumer ok: ..." and exits 0 when everything matches.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <ngc_cells.h>

static int fail(const char *what, NgcStatus st) {
    char msg[512];
    ngc_last_error_message(msg, sizeof msg);
    fprintf(stderr, "consumer: %s failed: %s: %s\n", what, ngc_status_str(st), msg);
    return 1;
}

int main(int argc, char **argv) {
    const char *how = argc > 1 ? argv[1] : "?";
    const char *expected_version = "ngc-cells/" NGC_CELLS_VERSION_STRING;
    if (strcmp(ngc_version(), expected_version) != 0) {
        fprintf(stderr, "consumer: library is %s, header is %s\n", ngc_version(),
                expected_version);
        return 1;
    }

    NgcCell *cell = NULL;
    NgcStatus st = ngc_bernoulli_error_cell_new("z0", 1, 1, false, NULL, NGC_DTYPE_F32, &cell);
    if (st != NGC_OK) return fail("ngc_bernoulli_error_cell_new", st);

    /* t = 0 of ngc-learn's test: p = 0.49671414, target = (0 - 5) / 2. */
    const float p = 0.49671414f, target = -2.5f;
    float dp = 0.0f, L = 0.0f;
    if ((st = ngc_cell_set_f32(cell, "p", &p, 1)) != NGC_OK) return fail("set p", st);
    if ((st = ngc_cell_set_f32(cell, "target", &target, 1)) != NGC_OK) return fail("set target", st);
    if ((st = ngc_cell_advance(cell, 0.0, 1.0)) != NGC_OK) return fail("ngc_cell_advance", st);
    if ((st = ngc_cell_get_f32(cell, "dp", &dp, 1)) != NGC_OK) return fail("get dp", st);
    if ((st = ngc_cell_get_f32(cell, "L", &L, 1)) != NGC_OK) return fail("get L", st);

    /* An error goes through the same library: a NULL buffer is refused, not a crash. */
    NgcStatus refused = ngc_cell_set_f32(cell, "p", NULL, 1);
    ngc_cell_free(cell);

    const float dp_ref = -2.8193381f;
    if (!(fabsf(dp - dp_ref) <= 1e-5f * fabsf(dp_ref))) {
        fprintf(stderr, "consumer: dp = %.9g, ngc-learn says %.9g\n", dp, dp_ref);
        return 1;
    }
    if (!isfinite(L)) {
        fprintf(stderr, "consumer: L = %g is not finite\n", L);
        return 1;
    }
    if (refused != NGC_ERR_NULL_POINTER) {
        fprintf(stderr, "consumer: a NULL buffer gave %s, not NGC_ERR_NULL_POINTER\n",
                ngc_status_str(refused));
        return 1;
    }
    printf("consumer ok (%s): %s dp=%.7f L=%.6f\n", how, ngc_version(), dp, L);
    return 0;
}
