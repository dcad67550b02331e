/*
 * The generic C API on one cell configuration of the family, from C: built once
 * per row of tests/common/family.rs (tests/c_programs.rs, and under ASan + UBSan
 * and valgrind by tests/sanitizers.rs), with the row's constructor call given as
 *
 *   -D'ROW_NEW(name,n_units,batch_size,shape,dtype,out)=<the row's c_new>'
 *   -DROW_LABEL='"<label>"' -DROW_HAS_LOSS=0|1 -DROW_TAKES_SHAPE=0|1 -DROW_HAS_EVOLVE=0|1
 *
 * It checks what holds for every cell: the compartment queries agree with one
 * another, every compartment binds, takes values and gives them back (also
 * through set_shaped with its own dims, which refuses dims that do not fit),
 * advance and evolve give the same bits with 1 and 2 threads, bound and
 * unbound, evolve changes nothing on a cell without one, loss is L (or
 * NGC_ERR_NOT_SUPPORTED), reset and batched_reset keep bound buffers in
 * bounds, misuse gets its status, and everything is freed (the sanitizers and
 * valgrind check the memory side).
 *
 * Usage: family_cell [n_units [batch_size]] (default 33000 2: 66,000 elements, enough
 * for two threads).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngc_cells.h"

#ifndef ROW_NEW
#error "build with -D'ROW_NEW(name,n_units,batch_size,shape,dtype,out)=...' (see tests/c_programs.rs)"
#endif

static int passed = 0, failed = 0;

static void expect(int ok, const char *what, int line) {
    if (ok) {
        passed++;
    } else {
        char msg[1100];
        ngc_last_error_message(msg, sizeof msg);
        fprintf(stderr, "FAIL %s line %d: %s (last error: %s)\n", ROW_LABEL, line, what, msg);
        failed++;
    }
}
#define EXPECT(cond) expect((cond) ? 1 : 0, #cond, __LINE__)
#define EXPECT_STATUS(want, call) expect((call) == (want), #call " == " #want, __LINE__)
#define OK(call) EXPECT_STATUS(NGC_OK, call)

static NgcCell *new_cell(size_t n_units, size_t batch_size, const size_t *shape, NgcDtype dtype) {
    NgcCell *cell = NULL;
    NgcCell **out = &cell;
    const char *name = "family";
    (void)shape; /* a row without a shape (RewardErrorCell) does not use it */
    OK(ROW_NEW(name, n_units, batch_size, shape, dtype, out));
    EXPECT(cell != NULL);
    return cell;
}

static size_t elem_size(NgcDtype dtype) { return dtype == NGC_DTYPE_F64 ? 8 : 4; }

/* A deterministic value in (0.05, 0.95) for compartment k, element j, step t:
   inside every cell's domain (probabilities, variances and scales > 0, ...). */
static double value(size_t k, size_t j, size_t t) {
    uint64_t h = (uint64_t)k * 0x9E3779B97F4A7C15u + (uint64_t)j * 0xC2B2AE3D27D4EB4Fu +
                 (uint64_t)t * 0x165667B19E3779F9u;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9u;
    h ^= h >> 32;
    return 0.05 + 0.9 * (double)(h % 1000003u) / 1000003.0;
}

static void fill(void *buf, NgcDtype dtype, size_t len, size_t k, size_t t) {
    for (size_t j = 0; j < len; j++) {
        if (dtype == NGC_DTYPE_F64) ((double *)buf)[j] = value(k, j, t);
        else ((float *)buf)[j] = (float)value(k, j, t);
    }
}

enum { MAX_COMP = 32 };

struct Cell {
    NgcCell *cell;
    NgcDtype dtype;
    size_t count;
    const char *names[MAX_COMP];
    size_t len[MAX_COMP];
};

/* The compartment queries agree with each other and with the cell's sizes. */
static void query(struct Cell *c, size_t n_units, size_t batch_size, const size_t *shape) {
    size_t count = 0, n = 0, b = 0;
    NgcDtype dtype = 0;
    OK(ngc_cell_compartment_count(c->cell, &count));
    EXPECT(count >= 1 && count <= MAX_COMP);
    if (count > MAX_COMP) count = MAX_COMP;
    c->count = count;
    OK(ngc_cell_dtype(c->cell, &dtype));
    EXPECT(dtype == c->dtype);
    OK(ngc_cell_n_units(c->cell, &n));
    EXPECT(n == n_units);
    OK(ngc_cell_batch_size(c->cell, &b));
    EXPECT(b == batch_size);
    const char *type = NULL;
    OK(ngc_cell_type(c->cell, &type));
    EXPECT(type != NULL && strlen(type) > 0);
    size_t state = shape ? batch_size * shape[0] * shape[1] * shape[2] : batch_size * n_units;
    int state_shaped = 0;
    for (size_t i = 0; i < count; i++) {
        const char *name = NULL;
        OK(ngc_cell_compartment_name(c->cell, i, &name));
        c->names[i] = name ? name : "?";
        size_t len = 0, dims[4] = {0, 0, 0, 0}, ndim = 99, prod = 1;
        OK(ngc_cell_compartment_len(c->cell, c->names[i], &len));
        c->len[i] = len;
        OK(ngc_cell_compartment_dims(c->cell, c->names[i], dims, 4, &ndim));
        EXPECT(ndim <= 4);
        for (size_t d = 0; d < ndim && d < 4; d++) prod *= dims[d];
        EXPECT(prod == len);
        EXPECT(len >= 1 && len <= state);
        if (len == state) {
            state_shaped++;
            EXPECT(dims[0] == batch_size);
            EXPECT(ndim == (shape ? 4u : 2u));
        }
        bool bound = true;
        OK(ngc_cell_is_bound(c->cell, c->names[i], &bound));
        EXPECT(!bound);
    }
    EXPECT(state_shaped >= 2); /* at least an input and an output */
    const char *past = NULL;
    EXPECT_STATUS(NGC_ERR_INDEX_OUT_OF_RANGE, ngc_cell_compartment_name(c->cell, count, &past));
    EXPECT(past == NULL);
}

/* Every compartment's bytes, concatenated, into all (total bytes). */
static void get_all(struct Cell *c, unsigned char *all) {
    size_t es = elem_size(c->dtype);
    for (size_t i = 0; i < c->count; i++) {
        OK(ngc_cell_get(c->cell, c->names[i], all, c->len[i]));
        all += c->len[i] * es;
    }
}

/* Sets every compartment to step t's values, runs advance and evolve, and
   returns every compartment's bytes after them, concatenated (malloc'd). */
static unsigned char *step(struct Cell *c, size_t t, size_t *out_bytes) {
    size_t es = elem_size(c->dtype), total = 0;
    for (size_t i = 0; i < c->count; i++) total += c->len[i] * es;
    unsigned char *advanced = malloc(total), *all = malloc(total);
    EXPECT(advanced != NULL && all != NULL);
    if (!advanced || !all) {
        free(advanced);
        free(all);
        return NULL;
    }
    for (size_t i = 0; i < c->count; i++) {
        void *v = malloc(c->len[i] * es);
        fill(v, c->dtype, c->len[i], i, t);
        OK(ngc_cell_set(c->cell, c->names[i], v, c->len[i]));
        free(v);
    }
    OK(ngc_cell_advance(c->cell, (double)t, 0.5));
    get_all(c, advanced);
#if ROW_HAS_LOSS
    double loss = NAN, L = NAN;
    OK(ngc_cell_loss(c->cell, &loss));
    size_t len = 0;
    OK(ngc_cell_compartment_len(c->cell, "L", &len));
    EXPECT(len == 1);
    if (c->dtype == NGC_DTYPE_F64) {
        OK(ngc_cell_get_f64(c->cell, "L", &L, 1));
    } else {
        float l32 = NAN;
        OK(ngc_cell_get_f32(c->cell, "L", &l32, 1));
        L = l32;
    }
    EXPECT(memcmp(&loss, &L, sizeof L) == 0);
#else
    double loss = 12345.0;
    EXPECT_STATUS(NGC_ERR_NOT_SUPPORTED, ngc_cell_loss(c->cell, &loss));
    EXPECT(loss == 12345.0);
#endif
    OK(ngc_cell_evolve(c->cell, (double)t, 0.5));
    get_all(c, all);
#if !ROW_HAS_EVOLVE
    EXPECT(memcmp(advanced, all, total) == 0); /* a no-op */
#endif
    free(advanced);
    *out_bytes = total;
    return all;
}

/* set_shaped with a compartment's own dims is set; one dim more refuses. */
static void set_shaped_own_dims(struct Cell *c) {
    size_t es = elem_size(c->dtype);
    for (size_t i = 0; i < c->count; i++) {
        size_t dims[4] = {0, 0, 0, 0}, ndim = 0;
        OK(ngc_cell_compartment_dims(c->cell, c->names[i], dims, 4, &ndim));
        void *v = malloc((c->len[i] + 1) * es), *w = malloc((c->len[i] + 1) * es);
        fill(v, c->dtype, c->len[i], i + 100, 0);
        OK(ngc_cell_set_shaped(c->cell, c->names[i], v, dims, ndim));
        OK(ngc_cell_get(c->cell, c->names[i], w, c->len[i]));
        EXPECT(memcmp(v, w, c->len[i] * es) == 0);
        if (ndim > 0 && dims[ndim - 1] > 2) {
            /* (..., n + 1) broadcasts against nothing of shape (..., n). */
            dims[ndim - 1] += 1;
            EXPECT_STATUS(NGC_ERR_SHAPE_MISMATCH,
                          ngc_cell_set_shaped(c->cell, c->names[i], v, dims, ndim));
            dims[ndim - 1] -= 1;
        }
        size_t len = 0;
        OK(ngc_cell_compartment_len(c->cell, c->names[i], &len));
        EXPECT(len == c->len[i]);
        free(v);
        free(w);
    }
}

static void run(size_t n_units, size_t batch_size, const size_t *shape, NgcDtype dtype) {
    struct Cell a = {0}, b = {0};
    a.dtype = b.dtype = dtype;
    a.cell = new_cell(n_units, batch_size, shape, dtype);
    b.cell = new_cell(n_units, batch_size, shape, dtype);
    if (!a.cell || !b.cell) {
        ngc_cell_free(a.cell);
        ngc_cell_free(b.cell);
        return;
    }
    query(&a, n_units, batch_size, shape);
    query(&b, n_units, batch_size, shape);
    set_shaped_own_dims(&a);

    /* b: every compartment bound to a caller buffer with room for one more sample. */
    size_t es = elem_size(dtype);
    void *bufs[MAX_COMP] = {0};
    size_t caps[MAX_COMP] = {0};
    for (size_t i = 0; i < b.count; i++) {
        caps[i] = b.len[i] + b.len[i] / batch_size;
        bufs[i] = calloc(caps[i], es);
        OK(ngc_cell_bind(b.cell, b.names[i], bufs[i], caps[i]));
        bool bound = false;
        OK(ngc_cell_is_bound(b.cell, b.names[i], &bound));
        EXPECT(bound);
    }
    /* Two compartments of one cell never share memory. */
    if (b.count >= 2) {
        EXPECT_STATUS(NGC_ERR_OVERLAP, ngc_cell_bind(b.cell, b.names[1], bufs[0], caps[0]));
    }
    OK(ngc_cell_set_threads(b.cell, 2));
    size_t threads = 0;
    OK(ngc_cell_threads(b.cell, &threads));
    EXPECT(threads == 2);

    /* a (library storage, 1 thread) and b (bound, 2 threads) give the same bits. */
    for (size_t t = 0; t < 3; t++) {
        size_t na = 0, nb = 0;
        unsigned char *ra = step(&a, t, &na), *rb = step(&b, t, &nb);
        EXPECT(ra && rb && na == nb && memcmp(ra, rb, na) == 0);
        free(ra);
        free(rb);
    }
    /* The bound buffers are the compartments. */
    for (size_t i = 0; i < b.count; i++) {
        void *v = malloc(b.len[i] * es);
        OK(ngc_cell_get(b.cell, b.names[i], v, b.len[i]));
        EXPECT(memcmp(v, bufs[i], b.len[i] * es) == 0);
        free(v);
    }

    OK(ngc_cell_reset(a.cell));
    OK(ngc_cell_reset(b.cell));
    for (size_t i = 0; i < a.count; i++) {
        size_t bytes = a.len[i] * es;
        void *v = malloc(bytes), *w = malloc(bytes);
        OK(ngc_cell_get(a.cell, a.names[i], v, a.len[i]));
        OK(ngc_cell_get(b.cell, b.names[i], w, b.len[i]));
        EXPECT(memcmp(v, w, bytes) == 0);
        free(v);
        free(w);
    }

    /* batched_reset to one more sample fits the bound capacities; beyond them it
       changes nothing. */
    size_t bs = 0;
    OK(ngc_cell_batched_reset(b.cell, batch_size + 1));
    OK(ngc_cell_batch_size(b.cell, &bs));
    EXPECT(bs == batch_size + 1);
    EXPECT_STATUS(NGC_ERR_CAPACITY_TOO_SMALL, ngc_cell_batched_reset(b.cell, batch_size + 2));
    OK(ngc_cell_batch_size(b.cell, &bs));
    EXPECT(bs == batch_size + 1);
    OK(ngc_cell_advance(b.cell, 0.0, 0.5));
    OK(ngc_cell_evolve(b.cell, 0.0, 0.5));

    /* Misuse gets its status and a message. */
    size_t len = 0;
    EXPECT_STATUS(NGC_ERR_UNKNOWN_COMPARTMENT, ngc_cell_compartment_len(a.cell, "no such", &len));
    EXPECT(len == 0);
    EXPECT_STATUS(NGC_ERR_LENGTH_MISMATCH, ngc_cell_set(a.cell, a.names[0], bufs[0], a.len[0] + 1));
    EXPECT_STATUS(NGC_ERR_DTYPE_MISMATCH,
                  dtype == NGC_DTYPE_F64 ? ngc_cell_get_f32(a.cell, a.names[0], (float *)bufs[0], 1)
                                         : ngc_cell_get_f64(a.cell, a.names[0], (double *)bufs[0], 1));
    char msg[1100];
    EXPECT(ngc_last_error_message(msg, sizeof msg) > 0);

    char name[64];
    size_t name_len = 0;
    OK(ngc_cell_name(a.cell, name, sizeof name, &name_len));
    EXPECT(name_len == strlen("family") && strcmp(name, "family") == 0);
    size_t json_len = 0;
    char *json = malloc(1 << 16);
    OK(ngc_cell_metadata_json(a.cell, json, 1 << 16, &json_len));
    EXPECT(json_len > 0 && json[0] == '{' && json[json_len - 1] == '}');
    free(json);

    for (size_t i = 0; i < b.count; i++) OK(ngc_cell_unbind(b.cell, b.names[i]));
    EXPECT_STATUS(NGC_ERR_NOT_BOUND, ngc_cell_unbind(b.cell, b.names[0]));
    OK(ngc_cell_advance(b.cell, 1.0, 0.5));
    OK(ngc_cell_evolve(b.cell, 1.0, 0.5));
    ngc_cell_free(a.cell);
    ngc_cell_free(b.cell);
    for (size_t i = 0; i < b.count; i++) free(bufs[i]);
}

int main(int argc, char **argv) {
    size_t n_units = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 33000;
    size_t batch_size = argc > 2 ? (size_t)strtoull(argv[2], NULL, 10) : 2;
    static const NgcDtype dtypes[2] = {NGC_DTYPE_F32, NGC_DTYPE_F64};
    for (int d = 0; d < 2; d++) {
        run(n_units, batch_size, NULL, dtypes[d]);
#if ROW_TAKES_SHAPE
        size_t shape[3] = {n_units / 100 + 1, 10, 10};
        run(n_units, batch_size, shape, dtypes[d]);
#endif
    }
    printf("family_cell %s: %d passed, %d failed\n", ROW_LABEL, passed, failed);
    return failed ? 1 : 0;
}
