/*
 * ngc_mex.c -- one C MEX gateway to ngc-cells for MATLAB and GNU Octave.
 *
 * The classdef BernoulliErrorCell.m beside this file is the interface users see; it
 * calls this gateway as ngc_mex(command, ...):
 *
 *   h = ngc_mex('new', name, n_units, batch_size, input_logits, shape, dtype)
 *   ngc_mex('free', h)                      ngc_mex('set', h, compartment, value)
 *   v = ngc_mex('get', h, compartment)      ngc_mex('advance', h [, t, dt])
 *   ngc_mex('reset', h)                     ngc_mex('batched_reset', h, batch_size)
 *   L = ngc_mex('loss', h)                  json = ngc_mex('metadata', h)
 *   s = ngc_mex('info', h)                  d = ngc_mex('dims', h, compartment)
 *   ngc_mex('set_threads', h, n)            n = ngc_mex('live')
 *   v = ngc_mex('version')
 *
 * Handles. A handle is a uint64 number, not a pointer: the gateway keeps a registry
 * of its live cells, and a handle that is not in it (freed, freed twice, made up, or
 * from before `clear mex`) is refused with the error ngc:invalidHandle instead of
 * crashing MATLAB. Handles carry a per-load generation in their high 32 bits, so a
 * handle from before `clear mex` does not match a cell made after it.
 *
 * Copies. MATLAB and Octave arrays are copy-on-write and may move or be freed after
 * a call, so no MATLAB array is ever bound to a cell (zero copy is for C, C++ and
 * Julia): 'set' copies the values in (ngc_cell_set_*), 'get' copies them out into a
 * new array (ngc_cell_get_*). Cells keep their compartments in library-owned storage.
 *
 * Values are single for a float32 cell and double for a float64 cell; 'set' accepts
 * single or double and converts to the cell's type. 'get' returns ngc-learn's
 * (batch, n_units) compartment as an [n_units batch] array, (batch, H, W, C) as
 * [C W H batch]: the same memory, read column-major. 'set' takes any array with the
 * compartment's element count, in that order.
 *
 * Cleanup. All live cells are freed when the gateway is unloaded (`clear mex`,
 * `clear ngc_mex`, exit) through mexAtExit. With the environment variable
 * NGC_MEX_VERBOSE set, that prints how many were freed to stderr.
 *
 * Errors. A failed library call raises a MATLAB error whose identifier is
 * ngc:<status name> (e.g. ngc:NGC_ERR_UNKNOWN_COMPARTMENT) and whose message is
 * "<status name>: <the library's message>". Bad arguments raise ngc:usage.
 *
 * Build (Octave):  mkoctfile --mex -I../../include ngc_mex.c -L<libdir> -lngc_cells
 * Build (MATLAB):  mex -I../../include ngc_mex.c -L<libdir> -lngc_cells
 * or build_ngc_mex.m, which also sets the rpath.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mex.h"
#include "ngc_cells.h"

/* ---- The registry of live cells ------------------------------------------------ */

typedef struct {
    uint64_t id;
    NgcCell *cell;
} Entry;

static Entry *registry = NULL; /* malloc'd: it outlives each call */
static size_t n_live = 0, n_cap = 0;
static uint64_t generation = 0; /* high 32 bits of every handle of this load */
static uint64_t next_seq = 1;
static int at_exit_registered = 0;

static void free_all_cells(void) {
    size_t freed = n_live;
    for (size_t i = 0; i < n_live; i++) ngc_cell_free(registry[i].cell);
    free(registry);
    registry = NULL;
    n_live = n_cap = 0;
    if (getenv("NGC_MEX_VERBOSE") != NULL)
        fprintf(stderr, "ngc_mex: freed %lu live cell(s) at exit\n", (unsigned long)freed);
}

static void init_once(void) {
    if (at_exit_registered) return;
    mexAtExit(free_all_cells);
    at_exit_registered = 1;
    /* Wall time, CPU time and where this copy of the gateway was loaded: a reload
       gets another generation (C99 only, for every compiler MEX supports). */
    uint64_t seed = (uint64_t)(uintptr_t)&registry;
    seed ^= (uint64_t)time(NULL) * 2654435761u;
    seed ^= (uint64_t)clock() * 40503u;
    seed ^= seed >> 29;
    generation = (seed & 0xffffffffu) | 1u; /* never 0: 0 means "no cell" */
}

/* ---- Errors ------------------------------------------------------------------------- */

/* Raises ngc:usage with a printf-style message (does not return). */
static void usage(const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    mexErrMsgIdAndTxt("ngc:usage", "%s", msg);
}

/* Raises ngc:<NAME> with the library's message unless st is NGC_OK. */
static void check(NgcStatus st) {
    if (st == NGC_OK) return;
    char msg[1100], id[64];
    ngc_last_error_message(msg, sizeof msg);
    snprintf(id, sizeof id, "ngc:%s", ngc_status_str(st));
    mexErrMsgIdAndTxt(id, "%s: %s", ngc_status_str(st), msg);
}

/* ---- Arguments ---------------------------------------------------------------------- */

static void need_args(int nrhs, int n, const char *cmd) {
    if (nrhs < n) usage("too few arguments for '%s'", cmd);
}

/* A NUL-terminated copy of a char argument (mxMalloc'd: freed with the call). */
static char *string_arg(const mxArray *a, const char *what) {
    if (!mxIsChar(a)) usage("%s must be a character vector", what);
    char *s = mxArrayToString(a);
    if (s == NULL) usage("%s could not be read", what);
    return s;
}

/* A real numeric or logical scalar. */
static double scalar_arg(const mxArray *a, const char *what) {
    if (!(mxIsNumeric(a) || mxIsLogical(a)) || mxIsComplex(a) || mxGetNumberOfElements(a) != 1)
        usage("%s must be a real scalar", what);
    return mxGetScalar(a);
}

/* A count: a non-negative whole number (0 is passed on: the library says why it is wrong). */
static size_t size_arg(const mxArray *a, const char *what) {
    double v = scalar_arg(a, what);
    if (!(v >= 0.0 && v <= 9007199254740992.0) || v != (double)(size_t)v)
        usage("%s must be a non-negative whole number", what);
    return (size_t)v;
}

static NgcCell *cell_arg(const mxArray *a) {
    if (!mxIsUint64(a) || mxIsComplex(a) || mxGetNumberOfElements(a) != 1)
        usage("%s must be a uint64 scalar from ngc_mex('new', ...)", "the handle");
    uint64_t id = *(const uint64_t *)mxGetData(a);
    for (size_t i = 0; i < n_live; i++)
        if (registry[i].id == id) return registry[i].cell;
    mexErrMsgIdAndTxt("ngc:invalidHandle",
                      "no live cell has the handle %llu (freed already, freed by "
                      "`clear mex`, or never made)",
                      (unsigned long long)id);
    return NULL; /* not reached */
}

static mxArray *uint64_scalar(uint64_t v) {
    mxArray *m = mxCreateNumericMatrix(1, 1, mxUINT64_CLASS, mxREAL);
    *(uint64_t *)mxGetData(m) = v;
    return m;
}

/* ---- Commands ------------------------------------------------------------------------ */

static void cmd_new(int nlhs, mxArray *plhs[], int nrhs, const mxArray *prhs[]) {
    need_args(nrhs, 7, "new");
    (void)nlhs;
    char *name = string_arg(prhs[1], "the name");
    size_t n_units = size_arg(prhs[2], "n_units");
    size_t batch = size_arg(prhs[3], "batch_size");
    bool logits = scalar_arg(prhs[4], "input_logits") != 0.0;
    size_t shape[3];
    const size_t *shape_p = NULL;
    if (!mxIsEmpty(prhs[5])) {
        if (!mxIsNumeric(prhs[5]) || mxIsComplex(prhs[5]) || mxGetNumberOfElements(prhs[5]) != 3)
            usage("%s must be [] or [H W C]", "shape");
        if (!mxIsDouble(prhs[5])) usage("%s must be a double array [H W C]", "shape");
        const double *d = mxGetPr(prhs[5]);
        for (int k = 0; k < 3; k++) {
            if (!(d[k] >= 0.0 && d[k] <= 9007199254740992.0) || d[k] != (double)(size_t)d[k])
                usage("%s must hold non-negative whole numbers", "shape");
            shape[k] = (size_t)d[k];
        }
        shape_p = shape;
    }
    char *dt = string_arg(prhs[6], "dtype");
    NgcDtype dtype = 0;
    if (strcmp(dt, "single") == 0 || strcmp(dt, "float32") == 0)
        dtype = NGC_DTYPE_F32;
    else if (strcmp(dt, "double") == 0 || strcmp(dt, "float64") == 0)
        dtype = NGC_DTYPE_F64;
    else
        usage("dtype must be 'single' or 'double', not '%s'", dt);
    mxFree(dt);

    /* Room in the registry first, so that a made cell is never lost. */
    if (n_live == n_cap) {
        size_t cap = n_cap ? 2 * n_cap : 16;
        Entry *grown = (Entry *)realloc(registry, cap * sizeof *grown);
        if (grown == NULL) mexErrMsgIdAndTxt("ngc:NGC_ERR_ALLOCATION", "out of memory");
        registry = grown;
        n_cap = cap;
    }
    NgcCell *cell = NULL;
    NgcStatus st = ngc_bernoulli_error_cell_new(name, n_units, batch, logits, shape_p, dtype, &cell);
    mxFree(name);
    check(st);
    uint64_t id = (generation << 32) | (next_seq++ & 0xffffffffu);
    registry[n_live].id = id;
    registry[n_live].cell = cell;
    n_live++;
    plhs[0] = uint64_scalar(id);
}

static void cmd_free(const mxArray *h) {
    NgcCell *cell = cell_arg(h); /* refuses a handle that is not live */
    for (size_t i = 0; i < n_live; i++) {
        if (registry[i].cell == cell) {
            registry[i] = registry[n_live - 1];
            n_live--;
            break;
        }
    }
    ngc_cell_free(cell);
}

static NgcDtype dtype_of(const NgcCell *cell) {
    NgcDtype d = 0;
    check(ngc_cell_dtype(cell, &d));
    return d;
}

static void cmd_set(int nrhs, const mxArray *prhs[]) {
    need_args(nrhs, 4, "set");
    NgcCell *cell = cell_arg(prhs[1]);
    char *comp = string_arg(prhs[2], "the compartment");
    const mxArray *v = prhs[3];
    if (!(mxIsSingle(v) || mxIsDouble(v)) || mxIsComplex(v) || mxIsSparse(v))
        usage("set '%s': the value must be a real, full single or double array", comp);
    size_t n = mxGetNumberOfElements(v);
    NgcStatus st;
    if (dtype_of(cell) == NGC_DTYPE_F32) {
        if (mxIsSingle(v)) {
            st = ngc_cell_set_f32(cell, comp, (const float *)mxGetData(v), n);
        } else { /* double -> single, as MATLAB's single() rounds */
            float *tmp = (float *)mxMalloc((n ? n : 1) * sizeof *tmp);
            const double *src = (const double *)mxGetData(v);
            for (size_t i = 0; i < n; i++) tmp[i] = (float)src[i];
            st = ngc_cell_set_f32(cell, comp, tmp, n);
            mxFree(tmp);
        }
    } else {
        if (mxIsDouble(v)) {
            st = ngc_cell_set_f64(cell, comp, (const double *)mxGetData(v), n);
        } else {
            double *tmp = (double *)mxMalloc((n ? n : 1) * sizeof *tmp);
            const float *src = (const float *)mxGetData(v);
            for (size_t i = 0; i < n; i++) tmp[i] = (double)src[i];
            st = ngc_cell_set_f64(cell, comp, tmp, n);
            mxFree(tmp);
        }
    }
    mxFree(comp);
    check(st);
}

static void cmd_get(mxArray *plhs[], int nrhs, const mxArray *prhs[]) {
    need_args(nrhs, 3, "get");
    const NgcCell *cell = cell_arg(prhs[1]);
    char *comp = string_arg(prhs[2], "the compartment");
    size_t len = 0, ndim = 0, dims[4];
    check(ngc_cell_compartment_len(cell, comp, &len));
    check(ngc_cell_compartment_dims(cell, comp, dims, 4, &ndim));
    /* ngc-learn's row-major dims, reversed: the same memory read column-major. */
    mwSize mdims[4] = {1, 1, 1, 1};
    mwSize mnd = ndim < 2 ? 2 : (mwSize)ndim;
    for (size_t k = 0; k < ndim; k++) mdims[k] = (mwSize)dims[ndim - 1 - k];
    NgcDtype dt = dtype_of(cell);
    mxArray *out = mxCreateNumericArray(mnd, mdims, dt == NGC_DTYPE_F32 ? mxSINGLE_CLASS : mxDOUBLE_CLASS,
                                        mxREAL);
    NgcStatus st = dt == NGC_DTYPE_F32 ? ngc_cell_get_f32(cell, comp, (float *)mxGetData(out), len)
                                       : ngc_cell_get_f64(cell, comp, (double *)mxGetData(out), len);
    mxFree(comp);
    check(st);
    plhs[0] = out;
}

static void cmd_dims(mxArray *plhs[], int nrhs, const mxArray *prhs[]) {
    need_args(nrhs, 3, "dims");
    const NgcCell *cell = cell_arg(prhs[1]);
    char *comp = string_arg(prhs[2], "the compartment");
    size_t ndim = 0, dims[4];
    check(ngc_cell_compartment_dims(cell, comp, dims, 4, &ndim));
    mxFree(comp);
    mxArray *out = mxCreateDoubleMatrix(1, (mwSize)ndim, mxREAL);
    double *d = mxGetPr(out);
    for (size_t k = 0; k < ndim; k++) d[k] = (double)dims[k];
    plhs[0] = out;
}

/* Text by the snprintf-style protocol: size query, then the copy (mxMalloc'd). */
static mxArray *text_out(const NgcCell *cell,
                         NgcStatus (*fn)(const NgcCell *, char *, size_t, size_t *)) {
    size_t len = 0;
    check(fn(cell, NULL, 0, &len));
    char *buf = (char *)mxMalloc(len + 1);
    check(fn(cell, buf, len + 1, &len));
    mxArray *s = mxCreateString(buf);
    mxFree(buf);
    return s;
}

static void cmd_info(mxArray *plhs[], const mxArray *h) {
    const NgcCell *cell = cell_arg(h);
    static const char *fields[] = {"name",       "type",         "dtype", "n_units",
                                   "batch_size", "compartments", "threads"};
    const char *type = NULL;
    size_t n_units = 0, batch = 0, count = 0, threads = 0;
    check(ngc_cell_type(cell, &type));
    check(ngc_cell_n_units(cell, &n_units));
    check(ngc_cell_batch_size(cell, &batch));
    check(ngc_cell_compartment_count(cell, &count));
    check(ngc_cell_threads(cell, &threads));
    mxArray *names = mxCreateCellMatrix(1, (mwSize)count);
    for (size_t i = 0; i < count; i++) {
        const char *n = NULL;
        check(ngc_cell_compartment_name(cell, i, &n));
        mxSetCell(names, (mwIndex)i, mxCreateString(n));
    }
    mxArray *s = mxCreateStructMatrix(1, 1, 7, fields);
    mxSetField(s, 0, "name", text_out(cell, ngc_cell_name));
    mxSetField(s, 0, "type", mxCreateString(type));
    mxSetField(s, 0, "dtype", mxCreateString(dtype_of(cell) == NGC_DTYPE_F32 ? "single" : "double"));
    mxSetField(s, 0, "n_units", mxCreateDoubleScalar((double)n_units));
    mxSetField(s, 0, "batch_size", mxCreateDoubleScalar((double)batch));
    mxSetField(s, 0, "compartments", names);
    mxSetField(s, 0, "threads", mxCreateDoubleScalar((double)threads));
    plhs[0] = s;
}

void mexFunction(int nlhs, mxArray *plhs[], int nrhs, const mxArray *prhs[]) {
    init_once();
    if (nrhs < 1 || !mxIsChar(prhs[0]))
        mexErrMsgIdAndTxt("ngc:usage", "the first argument must be a command, e.g. 'new'");
    char cmd[32];
    if (mxGetString(prhs[0], cmd, sizeof cmd) != 0) usage("unknown command (too long)");

    if (strcmp(cmd, "version") == 0) {
        plhs[0] = mxCreateString(ngc_version());
    } else if (strcmp(cmd, "live") == 0) {
        plhs[0] = mxCreateDoubleScalar((double)n_live);
    } else if (strcmp(cmd, "new") == 0) {
        cmd_new(nlhs, plhs, nrhs, prhs);
    } else {
        static const char *const with_handle[] = {"free",          "set",         "get",  "advance",
                                                  "reset",         "batched_reset", "set_threads",
                                                  "loss",          "metadata",    "info", "dims"};
        int known = 0;
        for (size_t k = 0; k < sizeof with_handle / sizeof with_handle[0]; k++)
            known |= strcmp(cmd, with_handle[k]) == 0;
        if (!known) usage("unknown command '%s'", cmd);
        need_args(nrhs, 2, cmd);
        if (strcmp(cmd, "free") == 0) {
            cmd_free(prhs[1]);
        } else if (strcmp(cmd, "set") == 0) {
            cmd_set(nrhs, prhs);
        } else if (strcmp(cmd, "get") == 0) {
            cmd_get(plhs, nrhs, prhs);
        } else if (strcmp(cmd, "advance") == 0) {
            NgcCell *cell = cell_arg(prhs[1]);
            double t = nrhs > 2 ? scalar_arg(prhs[2], "t") : 0.0;
            double dt = nrhs > 3 ? scalar_arg(prhs[3], "dt") : 1.0;
            check(ngc_cell_advance(cell, t, dt));
        } else if (strcmp(cmd, "reset") == 0) {
            check(ngc_cell_reset(cell_arg(prhs[1])));
        } else if (strcmp(cmd, "batched_reset") == 0) {
            need_args(nrhs, 3, cmd);
            NgcCell *cell = cell_arg(prhs[1]);
            check(ngc_cell_batched_reset(cell, size_arg(prhs[2], "batch_size")));
        } else if (strcmp(cmd, "set_threads") == 0) {
            need_args(nrhs, 3, cmd);
            NgcCell *cell = cell_arg(prhs[1]);
            check(ngc_cell_set_threads(cell, size_arg(prhs[2], "threads")));
        } else if (strcmp(cmd, "loss") == 0) {
            double l = 0.0;
            check(ngc_cell_loss(cell_arg(prhs[1]), &l));
            plhs[0] = mxCreateDoubleScalar(l);
        } else if (strcmp(cmd, "metadata") == 0) {
            plhs[0] = text_out(cell_arg(prhs[1]), ngc_cell_metadata_json);
        } else if (strcmp(cmd, "info") == 0) {
            cmd_info(plhs, prhs[1]);
        } else if (strcmp(cmd, "dims") == 0) {
            cmd_dims(plhs, nrhs, prhs);
        } else {
            usage("unknown command '%s'", cmd);
        }
    }
}
