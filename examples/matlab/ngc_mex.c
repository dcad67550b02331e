/*
 * ngc_mex.c -- one C MEX gateway to ngc-cells for MATLAB and GNU Octave.
 *
 * The classdefs beside this file are the interface users see: NgcCell.m (the methods,
 * common to every cell type) and one thin subclass per cell type (BernoulliErrorCell.m,
 * GaussianErrorCell.m, LaplacianErrorCell.m, RewardErrorCell.m, RateCell.m). They call this
 * gateway as ngc_mex(command, ...):
 *
 *   h = ngc_mex('new', type, name, n_units, batch_size, dtype, <type's parameters>)
 *         'BernoulliErrorCell'  input_logits, shape
 *         'GaussianErrorCell'   sigma, shape
 *         'LaplacianErrorCell'  scale, shape
 *         'RewardErrorCell'     alpha, ema_window_len, use_online_predictor
 *         'RateCell'            tau_m, prior, prior_leak, act_fx, output_scale, threshold,
 *                               threshold_lambda, integration_type, resist_scale,
 *                               is_stateful, shape
 *       (shape is [] or [H W C]; dtype 'single' or 'double'; ngc_mex('types') lists
 *       the types. The 0.1 form ngc_mex('new', name, n_units, batch_size,
 *       input_logits, shape, dtype) still makes a BernoulliErrorCell.)
 *   ngc_mex('free', h)                      ngc_mex('set', h, compartment, value)
 *   v = ngc_mex('get', h, compartment)      ngc_mex('set_shaped', h, compartment, value [, dims])
 *   ngc_mex('advance', h [, t, dt])         ngc_mex('evolve', h [, t, dt])
 *   ngc_mex('reset', h)                     ngc_mex('batched_reset', h, batch_size)
 *   L = ngc_mex('loss', h)                  json = ngc_mex('metadata', h)
 *   s = ngc_mex('info', h)                  d = ngc_mex('dims', h, compartment)
 *   ngc_mex('set_threads', h, n)            n = ngc_mex('live')
 *   v = ngc_mex('version')                  t = ngc_mex('types')
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
 * [C W H batch]: the same memory, read column-major (ngc-learn's dims reversed; a
 * 1-d (n) or 0-d compartment comes back as [n 1] or [1 1]). 'set' takes any array
 * with the compartment's element count, in that order.
 *
 * Shapes. 'set_shaped' gives a compartment new dims (a per-unit Sigma, say). Without
 * dims they are the value's MATLAB size reversed: an [n 1] column is ngc-learn's
 * (1, n), an [n batch] matrix (batch, n), a [C W H] array (H, W, C). With dims, they
 * are ngc-learn's own row-major dims ([] for 0-d, n for (n,)), and the value holds
 * prod(dims) elements in the order 'get' returns them.
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

/* [] or [H W C]: NULL or `shape` filled. */
static const size_t *shape_arg(const mxArray *a, size_t shape[3]) {
    if (mxIsEmpty(a)) return NULL;
    if (!mxIsNumeric(a) || mxIsComplex(a) || mxGetNumberOfElements(a) != 3)
        usage("%s must be [] or [H W C]", "shape");
    if (!mxIsDouble(a)) usage("%s must be a double array [H W C]", "shape");
    const double *d = mxGetPr(a);
    for (int k = 0; k < 3; k++) {
        if (!(d[k] >= 0.0 && d[k] <= 9007199254740992.0) || d[k] != (double)(size_t)d[k])
            usage("%s must hold non-negative whole numbers", "shape");
        shape[k] = (size_t)d[k];
    }
    return shape;
}

static NgcDtype dtype_arg(const mxArray *a) {
    char *dt = string_arg(a, "dtype");
    NgcDtype dtype = 0;
    if (strcmp(dt, "single") == 0 || strcmp(dt, "float32") == 0)
        dtype = NGC_DTYPE_F32;
    else if (strcmp(dt, "double") == 0 || strcmp(dt, "float64") == 0)
        dtype = NGC_DTYPE_F64;
    else
        usage("dtype must be 'single' or 'double', not '%s'", dt);
    mxFree(dt);
    return dtype;
}

/* ---- The family: one row per cell type of ngc_cells.h ------------------------------ */

/* Each row's `make` reads the type's own parameters from p[0 .. n_params) (the
   arguments after dtype) and calls the type's constructor. */
typedef NgcStatus (*MakeFn)(const char *name, size_t n_units, size_t batch, NgcDtype dtype,
                            const mxArray *const *p, NgcCell **out);

static NgcStatus make_bernoulli(const char *name, size_t n, size_t b, NgcDtype dt,
                                const mxArray *const *p, NgcCell **out) {
    size_t shape[3];
    bool logits = scalar_arg(p[0], "input_logits") != 0.0;
    const size_t *sp = shape_arg(p[1], shape);
    return ngc_bernoulli_error_cell_new(name, n, b, logits, sp, dt, out);
}

static NgcStatus make_gaussian(const char *name, size_t n, size_t b, NgcDtype dt,
                               const mxArray *const *p, NgcCell **out) {
    size_t shape[3];
    double sigma = scalar_arg(p[0], "sigma");
    const size_t *sp = shape_arg(p[1], shape);
    return ngc_gaussian_error_cell_new(name, n, b, sigma, sp, dt, out);
}

static NgcStatus make_laplacian(const char *name, size_t n, size_t b, NgcDtype dt,
                                const mxArray *const *p, NgcCell **out) {
    size_t shape[3];
    double scale = scalar_arg(p[0], "scale");
    const size_t *sp = shape_arg(p[1], shape);
    return ngc_laplacian_error_cell_new(name, n, b, scale, sp, dt, out);
}

static NgcStatus make_reward(const char *name, size_t n, size_t b, NgcDtype dt,
                             const mxArray *const *p, NgcCell **out) {
    double alpha = scalar_arg(p[0], "alpha");
    size_t window = size_arg(p[1], "ema_window_len");
    bool online = scalar_arg(p[2], "use_online_predictor") != 0.0;
    return ngc_reward_error_cell_new(name, n, b, alpha, window, online, dt, out);
}

static NgcStatus make_rate(const char *name, size_t n, size_t b, NgcDtype dt,
                           const mxArray *const *p, NgcCell **out) {
    size_t shape[3];
    double tau_m = scalar_arg(p[0], "tau_m");
    char *prior = string_arg(p[1], "prior");
    double leak = scalar_arg(p[2], "prior_leak");
    char *act_fx = string_arg(p[3], "act_fx");
    double output_scale = scalar_arg(p[4], "output_scale");
    char *threshold = string_arg(p[5], "threshold");
    double lambda = scalar_arg(p[6], "threshold_lambda");
    char *integration = string_arg(p[7], "integration_type");
    double resist_scale = scalar_arg(p[8], "resist_scale");
    bool stateful = scalar_arg(p[9], "is_stateful") != 0.0;
    const size_t *sp = shape_arg(p[10], shape);
    NgcStatus st = ngc_rate_cell_new(name, n, b, tau_m, prior, leak, act_fx, output_scale, threshold,
                                     lambda, integration, resist_scale, stateful, sp, dt, out);
    mxFree(prior);
    mxFree(act_fx);
    mxFree(threshold);
    mxFree(integration);
    return st;
}

static const struct {
    const char *type;   /* ngc-learn's class name, as ngc_cell_type gives it */
    int n_params;       /* arguments after dtype */
    const char *params; /* their names, for the usage message */
    MakeFn make;
} FAMILY[] = {
    {"BernoulliErrorCell", 2, "input_logits, shape", make_bernoulli},
    {"GaussianErrorCell", 2, "sigma, shape", make_gaussian},
    {"LaplacianErrorCell", 2, "scale, shape", make_laplacian},
    {"RewardErrorCell", 3, "alpha, ema_window_len, use_online_predictor", make_reward},
    {"RateCell", 11,
     "tau_m, prior, prior_leak, act_fx, output_scale, threshold, threshold_lambda, "
     "integration_type, resist_scale, is_stateful, shape",
     make_rate},
};
#define N_FAMILY (sizeof FAMILY / sizeof FAMILY[0])

/* ---- Commands ------------------------------------------------------------------------ */

/* ngc_mex('new', type, name, n_units, batch_size, dtype, params...), or the 0.1 form
   ngc_mex('new', name, n_units, batch_size, input_logits, shape, dtype) (told apart by
   its third argument, a number where the new form has the name). */
static void cmd_new(mxArray *plhs[], int nrhs, const mxArray *prhs[]) {
    need_args(nrhs, 3, "new");
    size_t row = 0;
    const mxArray *a[4];      /* name, n_units, batch_size, dtype */
    const mxArray *legacy[2]; /* the 0.1 form's input_logits, shape */
    const mxArray *const *params;
    if (!mxIsChar(prhs[2])) {
        need_args(nrhs, 7, "new");
        a[0] = prhs[1], a[1] = prhs[2], a[2] = prhs[3], a[3] = prhs[6];
        legacy[0] = prhs[4], legacy[1] = prhs[5];
        params = legacy;
    } else {
        char *type = string_arg(prhs[1], "the cell type");
        while (row < N_FAMILY && strcmp(FAMILY[row].type, type) != 0) row++;
        if (row == N_FAMILY) {
            char known[256] = "";
            for (size_t k = 0; k < N_FAMILY; k++) {
                strncat(known, k ? ", " : "", sizeof known - strlen(known) - 1);
                strncat(known, FAMILY[k].type, sizeof known - strlen(known) - 1);
            }
            usage("unknown cell type '%s' (the types are %s)", type, known);
        }
        mxFree(type);
        if (nrhs != 6 + FAMILY[row].n_params)
            usage("ngc_mex('new', '%s', name, n_units, batch_size, dtype, %s): %d argument(s) "
                  "after the command, not %d",
                  FAMILY[row].type, FAMILY[row].params, 5 + FAMILY[row].n_params, nrhs - 1);
        for (int k = 0; k < 4; k++) a[k] = prhs[2 + k];
        params = prhs + 6;
    }
    char *name = string_arg(a[0], "the name");
    size_t n_units = size_arg(a[1], "n_units");
    size_t batch = size_arg(a[2], "batch_size");
    NgcDtype dtype = dtype_arg(a[3]);

    /* Room in the registry first, so that a made cell is never lost. */
    if (n_live == n_cap) {
        size_t cap = n_cap ? 2 * n_cap : 16;
        Entry *grown = (Entry *)realloc(registry, cap * sizeof *grown);
        if (grown == NULL) mexErrMsgIdAndTxt("ngc:NGC_ERR_ALLOCATION", "out of memory");
        registry = grown;
        n_cap = cap;
    }
    NgcCell *cell = NULL;
    NgcStatus st = FAMILY[row].make(name, n_units, batch, dtype, params, &cell);
    mxFree(name);
    check(st);
    uint64_t id = (generation << 32) | (next_seq++ & 0xffffffffu);
    registry[n_live].id = id;
    registry[n_live].cell = cell;
    n_live++;
    plhs[0] = uint64_scalar(id);
}

static void cmd_types(mxArray *plhs[]) {
    mxArray *types = mxCreateCellMatrix(1, (mwSize)N_FAMILY);
    for (size_t k = 0; k < N_FAMILY; k++) mxSetCell(types, (mwIndex)k, mxCreateString(FAMILY[k].type));
    plhs[0] = types;
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

/* The values of `v` in the cell's dtype: v's own data, or a converted mxMalloc'd copy
   (freed with the call). `what` names the command for the usage message. */
static const void *values_arg(const NgcCell *cell, const mxArray *v, const char *what,
                              const char *comp) {
    if (!(mxIsSingle(v) || mxIsDouble(v)) || mxIsComplex(v) || mxIsSparse(v))
        usage("%s '%s': the value must be a real, full single or double array", what, comp);
    size_t n = mxGetNumberOfElements(v);
    if (dtype_of(cell) == NGC_DTYPE_F32) {
        if (mxIsSingle(v)) return mxGetData(v);
        float *tmp = (float *)mxMalloc((n ? n : 1) * sizeof *tmp); /* as MATLAB's single() rounds */
        const double *src = (const double *)mxGetData(v);
        for (size_t i = 0; i < n; i++) tmp[i] = (float)src[i];
        return tmp;
    }
    if (mxIsDouble(v)) return mxGetData(v);
    double *tmp = (double *)mxMalloc((n ? n : 1) * sizeof *tmp);
    const float *src = (const float *)mxGetData(v);
    for (size_t i = 0; i < n; i++) tmp[i] = (double)src[i];
    return tmp;
}

static void cmd_set(int nrhs, const mxArray *prhs[]) {
    need_args(nrhs, 4, "set");
    NgcCell *cell = cell_arg(prhs[1]);
    char *comp = string_arg(prhs[2], "the compartment");
    const void *src = values_arg(cell, prhs[3], "set", comp);
    size_t n = mxGetNumberOfElements(prhs[3]);
    NgcStatus st = dtype_of(cell) == NGC_DTYPE_F32 ? ngc_cell_set_f32(cell, comp, (const float *)src, n)
                                                   : ngc_cell_set_f64(cell, comp, (const double *)src, n);
    mxFree(comp);
    check(st);
}

/* ngc_mex('set_shaped', h, compartment, value [, dims]): dims are ngc-learn's
   (row-major); without them, the value's MATLAB size reversed. */
static void cmd_set_shaped(int nrhs, const mxArray *prhs[]) {
    need_args(nrhs, 4, "set_shaped");
    NgcCell *cell = cell_arg(prhs[1]);
    char *comp = string_arg(prhs[2], "the compartment");
    const mxArray *v = prhs[3];
    const void *src = values_arg(cell, v, "set_shaped", comp);
    size_t n = mxGetNumberOfElements(v), rank, *dims;
    if (nrhs > 4) {
        const mxArray *d = prhs[4];
        if (!(mxIsDouble(d) || mxIsEmpty(d)) || mxIsComplex(d) || mxIsSparse(d))
            usage("set_shaped '%s': dims must be [] or a double vector of sizes", comp);
        rank = mxGetNumberOfElements(d);
        dims = (size_t *)mxMalloc((rank ? rank : 1) * sizeof *dims);
        const double *dd = rank ? mxGetPr(d) : NULL;
        for (size_t k = 0; k < rank; k++) {
            if (!(dd[k] >= 0.0 && dd[k] <= 9007199254740992.0) || dd[k] != (double)(size_t)dd[k])
                usage("set_shaped '%s': dims must hold non-negative whole numbers", comp);
            dims[k] = (size_t)dd[k];
        }
    } else {
        const mwSize *md = mxGetDimensions(v);
        rank = (size_t)mxGetNumberOfDimensions(v);
        dims = (size_t *)mxMalloc(rank * sizeof *dims);
        for (size_t k = 0; k < rank; k++) dims[k] = (size_t)md[rank - 1 - k];
    }
    /* The library reads prod(dims) elements: the value must hold exactly that many (a zero
       dim is left to the library, which refuses it). */
    size_t want = 1;
    int zero = 0;
    for (size_t k = 0; k < rank; k++) {
        zero |= dims[k] == 0;
        want = dims[k] != 0 && want <= (size_t)-1 / dims[k] ? want * dims[k] : (size_t)-1;
    }
    if (!zero && want != n)
        mexErrMsgIdAndTxt("ngc:NGC_ERR_LENGTH_MISMATCH",
                          "NGC_ERR_LENGTH_MISMATCH: set_shaped '%s': the value holds %lu element(s), "
                          "the dims %lu",
                          comp, (unsigned long)n, (unsigned long)want);
    double dummy = 0.0; /* an empty value's data may be NULL: let the library say ZERO_SIZE */
    NgcStatus st = ngc_cell_set_shaped(cell, comp, n ? src : &dummy, dims, rank);
    mxFree(dims);
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
    (void)nlhs;
    init_once();
    if (nrhs < 1 || !mxIsChar(prhs[0]))
        mexErrMsgIdAndTxt("ngc:usage", "the first argument must be a command, e.g. 'new'");
    char cmd[32];
    if (mxGetString(prhs[0], cmd, sizeof cmd) != 0) usage("unknown command (too long)");

    if (strcmp(cmd, "version") == 0) {
        plhs[0] = mxCreateString(ngc_version());
    } else if (strcmp(cmd, "live") == 0) {
        plhs[0] = mxCreateDoubleScalar((double)n_live);
    } else if (strcmp(cmd, "types") == 0) {
        cmd_types(plhs);
    } else if (strcmp(cmd, "new") == 0) {
        cmd_new(plhs, nrhs, prhs);
    } else {
        static const char *const with_handle[] = {
            "free", "set",         "get",      "set_shaped", "advance", "evolve", "reset",
            "batched_reset", "set_threads", "loss", "metadata", "info",  "dims"};
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
        } else if (strcmp(cmd, "set_shaped") == 0) {
            cmd_set_shaped(nrhs, prhs);
        } else if (strcmp(cmd, "advance") == 0 || strcmp(cmd, "evolve") == 0) {
            NgcCell *cell = cell_arg(prhs[1]);
            double t = nrhs > 2 ? scalar_arg(prhs[2], "t") : 0.0;
            double dt = nrhs > 3 ? scalar_arg(prhs[3], "dt") : 1.0;
            check(cmd[0] == 'a' ? ngc_cell_advance(cell, t, dt) : ngc_cell_evolve(cell, t, dt));
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
