/*
 * family.c -- times ngc_cell_advance through the C ABI for every cell of the
 * family, and the memory floors of the error cells, interleaved sample by
 * sample in one process (issues 11, 12 and 16).
 *
 * Configurations, for each size (784 units, 1e5, 1e6, 1e7 elements; batch 1, f32):
 *   gaussian, laplacian, bernoulli (probability mode), each twice:
 *     rest  modulator and mask never set: owned and at their rest value
 *           (ones), so the kernel neither reads them nor rewrites the mask;
 *     set   modulator written with ngc_cell_set (ones: same numbers, but the
 *           at-rest mark is gone) and mask bound to a caller buffer of ones
 *           (a bound compartment is always read and rewritten): the full
 *           computation, 4 reads and 3 writes per element;
 *   reward (alpha 0.1, window 10, online predictor),
 *   rate_euler_identity, rate_euler_tanh, rate_rk4_tanh (tau_m 10, Gaussian
 *     prior with leak 0.1, dt 1, stateful);
 *   floor16_plain / floor16_stream: read mu, target, write dmu, dtarget
 *     (16 bytes per element), no math, ordinary / non-temporal stores;
 *   floor28_plain / floor28_stream: read mu, target, modulator, mask, write
 *     dmu, dtarget, mask (28 bytes per element); the mask store is ordinary
 *     in both (as in the library, which streams dmu and dtarget only, and
 *     only for arrays of 16 MiB and more: the 1e7 rows).
 * The error cells' mu/target/dmu/dtarget are caller buffers (bound) shared by
 * the cells and the floors, so every configuration streams the same memory.
 *
 * Each sample: one untimed call (wakes the worker threads, as back-to-back
 * advance calls find them), then back-to-back calls for about 5 ms; the
 * configurations take turns sample by sample; the figure is the median.
 * Allocations are counted over the timed calls by interposing malloc & co.
 * (the library allocates through the C library); minor page faults too.
 *
 * Before timing, every cell type is checked for bit-identical outputs with 1
 * and 2 threads (two cells, the same inputs, three steps).
 *
 * Output, one tab-separated line per configuration:
 *   impl cell mode threads label elements us_per_call ns_per_element allocs_per_call faults_per_call min_us
 * (us_per_call: the median sample; min_us: the fastest sample, the least disturbed
 * by other programs on a shared machine).
 *
 * Usage: family [--threads N] [--quick] [--samples S] [--only LABEL] [--cells PREFIX] [--impl NAME]
 * (--cells rate: only the configurations whose cell name starts with PREFIX;
 * the floors are then left out unless PREFIX is "floor". --impl: the name the
 * library's rows are printed under, default ngc_cells; bench/family.sh --before
 * runs this program a second time on another build of the library, with
 * LD_LIBRARY_PATH, as ngc_cells_before)
 * Build: cc -O3 -march=native -std=gnu11 -pthread family.c -lngc_cells
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <immintrin.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "ngc_cells.h"
#include "common.h"

/* ------------------------------------------------------------------ */
/* Allocation counter: malloc & co. interposed (the executable's definitions
 * win over the C library's for the whole process, the Rust library included). */

static _Atomic long n_allocs;
static _Atomic int counting;
static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);
static _Alignas(64) char boot[1 << 14]; /* for dlsym's own allocations while resolving */
static size_t boot_used;

static int in_boot(void *p) { return (char *)p >= boot && (char *)p < boot + sizeof boot; }

static void *boot_alloc(size_t n) {
    n = (n + 63) & ~(size_t)63;
    if (boot_used + n > sizeof boot) return NULL;
    void *p = boot + boot_used;
    boot_used += n;
    return p;
}

static void resolve(void) {
    static int resolving;
    if (resolving) return;
    resolving = 1;
    real_calloc = dlsym(RTLD_NEXT, "calloc");
    real_malloc = dlsym(RTLD_NEXT, "malloc");
    real_realloc = dlsym(RTLD_NEXT, "realloc");
    real_free = dlsym(RTLD_NEXT, "free");
    real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
    real_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
    real_memalign = dlsym(RTLD_NEXT, "memalign");
    resolving = 0;
}

static void count_one(void) {
    if (atomic_load_explicit(&counting, memory_order_relaxed))
        atomic_fetch_add_explicit(&n_allocs, 1, memory_order_relaxed);
}

void *malloc(size_t n) {
    if (!real_malloc) resolve();
    if (!real_malloc) return boot_alloc(n);
    count_one();
    return real_malloc(n);
}

void *calloc(size_t a, size_t b) {
    if (!real_calloc) resolve();
    if (!real_calloc) return boot_alloc(a * b); /* static storage: zeroed */
    count_one();
    return real_calloc(a, b);
}

void *realloc(void *p, size_t n) {
    if (!real_realloc) resolve();
    count_one();
    if (in_boot(p)) {
        void *q = real_malloc(n);
        if (q) memcpy(q, p, n < 256 ? n : 256);
        return q;
    }
    return real_realloc(p, n);
}

void free(void *p) {
    if (!p || in_boot(p)) return;
    if (!real_free) resolve();
    real_free(p);
}

int posix_memalign(void **out, size_t align, size_t n) {
    if (!real_posix_memalign) resolve();
    count_one();
    return real_posix_memalign(out, align, n);
}

void *aligned_alloc(size_t align, size_t n) {
    if (!real_aligned_alloc) resolve();
    count_one();
    return real_aligned_alloc(align, n);
}

void *memalign(size_t align, size_t n) {
    if (!real_memalign) resolve();
    count_one();
    return real_memalign(align, n);
}

/* ------------------------------------------------------------------ */

static long minflt(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

static float *array(size_t n) {
    float *p = NULL;
    if (posix_memalign((void **)&p, 4096, n * sizeof(float) + 4096) != 0) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return p;
}

static float *filled(size_t n, double lo, double hi) {
    float *p = array(n);
    for (size_t i = 0; i < n; i++) p[i] = (float)(lo + (hi - lo) * unit());
    return p;
}

static float *constant(size_t n, float v) {
    float *p = array(n);
    for (size_t i = 0; i < n; i++) p[i] = v;
    return p;
}

/* ------------------------------------------------------------------ */
/* The floors: the arrays' loads and stores with no math worth the name. */

typedef struct {
    const float *a, *b, *m;
    float *k, *c, *d;
    size_t n;
    int wide, stream;
} Floor;

static int has512;

__attribute__((target("avx512f"))) static void floor16_512(const Floor *f, size_t lo, size_t hi) {
    for (size_t i = lo; i < hi; i += 16) {
        __m512 a = _mm512_load_ps(f->a + i), b = _mm512_load_ps(f->b + i);
        __m512 e = _mm512_sub_ps(b, a), ne = _mm512_sub_ps(a, b);
        if (f->stream) {
            _mm512_stream_ps(f->c + i, e);
            _mm512_stream_ps(f->d + i, ne);
        } else {
            _mm512_store_ps(f->c + i, e);
            _mm512_store_ps(f->d + i, ne);
        }
    }
    if (f->stream) _mm_sfence();
}

__attribute__((target("avx512f"))) static void floor28_512(const Floor *f, size_t lo, size_t hi) {
    const __m512 one = _mm512_set1_ps(1.0f), zero = _mm512_setzero_ps();
    for (size_t i = lo; i < hi; i += 16) {
        __m512 a = _mm512_load_ps(f->a + i), b = _mm512_load_ps(f->b + i);
        __m512 m = _mm512_load_ps(f->m + i), k = _mm512_load_ps(f->k + i);
        __m512 mk = _mm512_mul_ps(m, k);
        __m512 e = _mm512_mul_ps(_mm512_sub_ps(b, a), mk), ne = _mm512_mul_ps(_mm512_sub_ps(a, b), mk);
        if (f->stream) {
            _mm512_stream_ps(f->c + i, e);
            _mm512_stream_ps(f->d + i, ne);
        } else {
            _mm512_store_ps(f->c + i, e);
            _mm512_store_ps(f->d + i, ne);
        }
        _mm512_store_ps(f->k + i, _mm512_fmadd_ps(k, zero, one));
    }
    if (f->stream) _mm_sfence();
}

static void floor_scalar(const Floor *f, size_t lo, size_t hi) {
    for (size_t i = lo; i < hi; i++) {
        float e = f->b[i] - f->a[i];
        if (f->wide) {
            float mk = f->m[i] * f->k[i];
            f->c[i] = e * mk;
            f->d[i] = -e * mk;
            f->k[i] = f->k[i] * 0.0f + 1.0f;
        } else {
            f->c[i] = e;
            f->d[i] = -e;
        }
    }
}

/* Group g of G (whole 64-byte lines). */
static void floor_group(const Floor *f, size_t g, size_t groups) {
    size_t per = (f->n / groups + 15) & ~(size_t)15;
    size_t lo = per * g, hi = g == groups - 1 ? f->n : lo + per;
    if (hi > f->n) hi = f->n;
    if (lo >= hi) return;
    if (has512 && (hi - lo) % 16 == 0) {
        if (f->wide) floor28_512(f, lo, hi);
        else floor16_512(f, lo, hi);
    } else {
        floor_scalar(f, lo, hi);
    }
}

/* Two threads for the floors, sharing the work as the library's pool does
 * (src/abi/native/pool.rs, src/core/workspace.rs `Deal`): the call is cut into
 * GROUPS groups in two parts; each thread first takes its own part's groups
 * from the front (the same part call after call, so its core's cache keeps
 * it), then what is left of the other part from the back, so the caller never
 * waits for a helper that has not started (the machine is shared); the helper
 * spins between calls while a sample runs and sleeps between samples. `ends[i]`
 * holds part i's next group from the front (low 32 bits) and one past its last
 * group not taken (high 32 bits); `inflight` counts helpers under way. */
#define GROUPS 64
static struct {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    _Atomic int mode; /* 0 sleep, 1 spin, 2 exit */
    _Atomic uint64_t ends[2];
    _Atomic int inflight;
    Floor *_Atomic arg;
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* Takes a group of part `part` from its front or back into *g; 0 when the part is empty. */
static int take(int part, int front, uint64_t *g) {
    uint64_t now = atomic_load(&pool.ends[part]);
    for (;;) {
        uint64_t lo = now & 0xffffffffu, hi = now >> 32;
        if (lo >= hi) return 0;
        uint64_t next = front ? now + 1 : now - (1ull << 32);
        if (atomic_compare_exchange_weak(&pool.ends[part], &now, next)) {
            *g = front ? lo : hi - 1;
            return 1;
        }
    }
}

static int work_left(void) {
    for (int i = 0; i < 2; i++) {
        uint64_t e = atomic_load_explicit(&pool.ends[i], memory_order_relaxed);
        if ((e & 0xffffffffu) < (e >> 32)) return 1;
    }
    return 0;
}

/* Runs the groups task `task` (0: the caller, 1: the helper) gets. The call's
 * floor is read after each take: a group always belongs to the call that
 * `arg` names by then (the caller stores `arg` before opening the call). */
static void take_groups(int task) {
    if (task) atomic_fetch_add(&pool.inflight, 1);
    uint64_t g;
    while (take(task, 1, &g)) floor_group(atomic_load(&pool.arg), g, GROUPS);
    while (take(1 - task, 0, &g)) floor_group(atomic_load(&pool.arg), g, GROUPS);
    if (task) atomic_fetch_sub(&pool.inflight, 1);
}

static void *helper(void *unused) {
    (void)unused;
    for (;;) {
        pthread_mutex_lock(&pool.mu);
        while (atomic_load(&pool.mode) == 0) pthread_cond_wait(&pool.cv, &pool.mu);
        pthread_mutex_unlock(&pool.mu);
        if (atomic_load(&pool.mode) == 2) return NULL;
        while (atomic_load_explicit(&pool.mode, memory_order_relaxed) == 1) {
            if (work_left())
                take_groups(1);
            else
                _mm_pause();
        }
    }
}

static void pool_mode(int mode) {
    pthread_mutex_lock(&pool.mu);
    atomic_store(&pool.mode, mode);
    pthread_cond_broadcast(&pool.cv);
    pthread_mutex_unlock(&pool.mu);
}

static void floor_call(Floor *f, int threads) {
    /* As the library: threads only from 65536 elements on (32768 per thread). */
    if (threads == 1 || f->n < 65536) {
        floor_group(f, 0, 1);
        return;
    }
    atomic_store(&pool.arg, f);
    /* Opens the call: part 0 is groups [0, GROUPS/2), part 1 the rest. */
    atomic_store(&pool.ends[1], (uint64_t)(GROUPS / 2) | ((uint64_t)GROUPS << 32));
    atomic_store(&pool.ends[0], (uint64_t)(GROUPS / 2) << 32);
    take_groups(0);
    while (atomic_load(&pool.inflight) != 0) _mm_pause();
}

/* ------------------------------------------------------------------ */

typedef enum { GAUSSIAN, LAPLACIAN, BERNOULLI, REWARD, RATE_EI, RATE_ET, RATE_RT } Kind;

typedef struct {
    const char *impl, *cell, *mode;
    Kind kind;
    NgcCell *h;
    Floor floor;
    long reps;
    double *t;
    long allocs, faults, calls;
} Config;

static int threads = 1;
static const char *cells_prefix = NULL;
static const char *impl_name = "ngc_cells";

/* Whether the configuration of cell (or floor) `name` is to be run. */
static int wanted(const char *name) {
    return !cells_prefix || !strncmp(name, cells_prefix, strlen(cells_prefix));
}

static void call(Config *c) {
    if (c->h) {
        CHECK(ngc_cell_advance(c->h, 0.0, 1.0));
    } else {
        if (threads > 1 && atomic_load(&pool.mode) != 1) pool_mode(1);
        floor_call(&c->floor, threads);
    }
}

static void sample(Config *c, int s, double target) {
    call(c); /* untimed: wakes the workers */
    if (c->reps == 0) {
        double t0 = now();
        call(c);
        double one = now() - t0;
        c->reps = (long)(target / (one > 1e-9 ? one : 1e-9));
        if (c->reps < 1) c->reps = 1;
    }
    long f0 = minflt(), a0 = atomic_load(&n_allocs);
    atomic_store(&counting, 1);
    double t0 = now();
    for (long r = 0; r < c->reps; r++) call(c);
    double dt = now() - t0;
    atomic_store(&counting, 0);
    c->faults += minflt() - f0;
    c->allocs += atomic_load(&n_allocs) - a0;
    c->calls += c->reps;
    c->t[s] = dt / c->reps;
    if (!c->h && threads > 1) pool_mode(0);
}

/* ------------------------------------------------------------------ */
/* The cells. */

static const char *kind_name[] = {"gaussian",           "laplacian",       "bernoulli",    "reward",
                                  "rate_euler_identity", "rate_euler_tanh", "rate_rk4_tanh"};
/* Compartment names of the error cells: prediction, target, outputs. */
static const char *pred_name[] = {"mu", "shift", "p"};
static const char *dpred_name[] = {"dmu", "dshift", "dp"};

static NgcCell *make(Kind k, size_t n) {
    NgcCell *c = NULL;
    switch (k) {
    case GAUSSIAN: CHECK(ngc_gaussian_error_cell_new("g", n, 1, 1.0, NULL, NGC_DTYPE_F32, &c)); break;
    case LAPLACIAN: CHECK(ngc_laplacian_error_cell_new("l", n, 1, 1.0, NULL, NGC_DTYPE_F32, &c)); break;
    case BERNOULLI: CHECK(ngc_bernoulli_error_cell_new("b", n, 1, false, NULL, NGC_DTYPE_F32, &c)); break;
    case REWARD: CHECK(ngc_reward_error_cell_new("r", n, 1, 0.1, 10, true, NGC_DTYPE_F32, &c)); break;
    case RATE_EI:
    case RATE_ET:
    case RATE_RT:
        CHECK(ngc_rate_cell_new("z", n, 1, 10.0, "gaussian", 0.1, k == RATE_EI ? "identity" : "tanh", 1.0,
                                "none", 0.0, k == RATE_RT ? "rk4" : "euler", 1.0, true, NULL, NGC_DTYPE_F32,
                                &c));
        break;
    }
    return c;
}

/* Writes the inputs of a cell of kind k (owned storage) from fixed seeds. */
static void set_inputs(NgcCell *c, Kind k, size_t n) {
    float *a = array(n), *b = array(n), *z = array(n);
    uint64_t keep = rng;
    rng = 0x1234567887654321ull;
    for (size_t i = 0; i < n; i++) {
        a[i] = (float)(k == BERNOULLI ? 0.02 + 0.96 * unit() : unit() * 2 - 1);
        b[i] = (float)(k == BERNOULLI ? (unit() < 0.5) : unit() * 2 - 1);
        z[i] = (float)(unit() * 2 - 1);
        if (i % 97 == 3) b[i] = a[i]; /* ties (Laplacian sign 0) */
    }
    rng = keep;
    if (k <= BERNOULLI) {
        CHECK(ngc_cell_set(c, pred_name[k], a, n));
        CHECK(ngc_cell_set(c, "target", b, n));
    } else if (k == REWARD) {
        CHECK(ngc_cell_set(c, "reward", a, n));
    } else {
        CHECK(ngc_cell_set(c, "j", a, n));
        CHECK(ngc_cell_set(c, "j_td", b, n));
        CHECK(ngc_cell_set(c, "z", z, n));
    }
    free(a);
    free(b);
    free(z);
}

/* The outputs of a cell, as bytes, appended to out (returns the new length). */
static size_t get_outputs(NgcCell *c, Kind k, size_t n, unsigned char *out) {
    static const char *err_out[] = {"dtarget", "L"};
    static const char *rew_out[] = {"mu", "rpe", "accum_reward"};
    static const char *rate_out[] = {"j", "z", "zF"};
    size_t len = 0;
    const char *names[4];
    int count = 0;
    if (k <= BERNOULLI) {
        names[count++] = dpred_name[k];
        names[count++] = err_out[0];
        names[count++] = err_out[1];
    } else if (k == REWARD) {
        for (int i = 0; i < 3; i++) names[count++] = rew_out[i];
    } else {
        for (int i = 0; i < 3; i++) names[count++] = rate_out[i];
    }
    for (int i = 0; i < count; i++) {
        size_t m = 0;
        CHECK(ngc_cell_compartment_len(c, names[i], &m));
        CHECK(ngc_cell_get(c, names[i], out + len, m));
        len += m * sizeof(float);
    }
    (void)n;
    return len;
}

/* Bit-identical outputs with 1 and 2 threads (three steps). */
static int check_threads(size_t n) {
    int bad = 0;
    unsigned char *o1 = malloc(3 * n * sizeof(float) + 64), *o2 = malloc(3 * n * sizeof(float) + 64);
    for (Kind k = GAUSSIAN; k <= RATE_RT; k++) {
        if (!wanted(kind_name[k])) continue;
        size_t l1 = 0, l2 = 0;
        for (int th = 1; th <= 2; th++) {
            NgcCell *c = make(k, n);
            CHECK(ngc_cell_set_threads(c, th));
            set_inputs(c, k, n);
            for (int s = 0; s < 3; s++) CHECK(ngc_cell_advance(c, 0.0, 1.0));
            if (th == 1) l1 = get_outputs(c, k, n, o1);
            else l2 = get_outputs(c, k, n, o2);
            ngc_cell_free(c);
        }
        if (l1 != l2 || memcmp(o1, o2, l1)) {
            fprintf(stderr, "family: %s at %zu elements differs between 1 and 2 threads\n", kind_name[k], n);
            bad = 1;
        }
    }
    free(o1);
    free(o2);
    return bad;
}

int main(int argc, char **argv) {
    int quick = 0, samples = 0;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) quick = 1;
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--samples") && i + 1 < argc) samples = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "--cells") && i + 1 < argc) cells_prefix = argv[++i];
        else if (!strcmp(argv[i], "--impl") && i + 1 < argc) impl_name = argv[++i];
        else {
            fprintf(stderr,
                    "usage: %s [--threads N] [--quick] [--samples S] [--only LABEL] [--cells PREFIX] [--impl NAME]\n",
                    argv[0]);
            return 2;
        }
    }
    if (threads < 1 || threads > 2) {
        fprintf(stderr, "family: --threads 1 or 2\n");
        return 2;
    }
    if (samples <= 0) samples = quick ? 5 : 21;
    double target = quick ? 2e-3 : 5e-3;
    has512 = __builtin_cpu_supports("avx512f");
    if (threads > 1) pthread_create(&pool.th, NULL, helper, NULL);

    struct {
        const char *label;
        size_t n;
    } sizes[] = {{"784", 784}, {"1e5", 100000}, {"1e6", 1000000}, {"1e7", 10000000}};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        const char *label = sizes[si].label;
        size_t n = sizes[si].n;
        if (only && strcmp(only, label)) continue;
        if (threads == 2 && check_threads(n)) return 1;

        /* Caller buffers shared by the cells and the floors. */
        float *mu = filled(n, -1, 1), *tg = filled(n, -1, 1);
        float *p = filled(n, 0.02, 0.98), *x = array(n);
        for (size_t i = 0; i < n; i++) x[i] = unit() < 0.5 ? 0.0f : 1.0f;
        float *dmu = constant(n, 0), *dtg = constant(n, 0);
        float *ones = constant(n, 1), *mod = constant(n, 1), *mask = constant(n, 1);
        float *reward = filled(n, -1, 1), *jtd = filled(n, -1, 1), *zF = constant(n, 0);

        Config cfg[16];
        int nc = 0;
        for (Kind k = GAUSSIAN; k <= BERNOULLI; k++) {
            if (!wanted(kind_name[k])) continue;
            for (int set = 0; set <= 1; set++) {
                NgcCell *c = make(k, n);
                CHECK(ngc_cell_bind(c, pred_name[k], k == BERNOULLI ? p : mu, n));
                CHECK(ngc_cell_bind(c, "target", k == BERNOULLI ? x : tg, n));
                CHECK(ngc_cell_bind(c, dpred_name[k], dmu, n));
                CHECK(ngc_cell_bind(c, "dtarget", dtg, n));
                if (set) {
                    CHECK(ngc_cell_set(c, "modulator", ones, n));
                    CHECK(ngc_cell_bind(c, "mask", mask, n));
                }
                cfg[nc++] = (Config){.impl = impl_name, .cell = kind_name[k], .mode = set ? "set" : "rest", .kind = k, .h = c};
            }
        }
        if (wanted(kind_name[REWARD])) {
            NgcCell *c = make(REWARD, n);
            CHECK(ngc_cell_bind(c, "reward", reward, n));
            cfg[nc++] = (Config){.impl = impl_name, .cell = kind_name[REWARD], .mode = "-", .kind = REWARD, .h = c};
        }
        for (Kind k = RATE_EI; k <= RATE_RT; k++) {
            if (!wanted(kind_name[k])) continue;
            NgcCell *c = make(k, n);
            CHECK(ngc_cell_bind(c, "j", filled(n, -1, 1), n));
            CHECK(ngc_cell_bind(c, "j_td", jtd, n));
            CHECK(ngc_cell_bind(c, "z", filled(n, -1, 1), n));
            CHECK(ngc_cell_bind(c, "zF", zF, n));
            cfg[nc++] = (Config){.impl = impl_name, .cell = kind_name[k], .mode = "-", .kind = k, .h = c};
        }
        int first_floor = nc;
        for (int wide = 0; wide <= 1 && (!cells_prefix || wanted("floor")); wide++) {
            for (int stream = 0; stream <= (has512 ? 1 : 0); stream++) {
                static const char *names[2][2] = {{"floor16_plain", "floor16_stream"},
                                                  {"floor28_plain", "floor28_stream"}};
                Floor f = {mu, tg, mod, mask, dmu, dtg, n, wide, stream};
                cfg[nc++] = (Config){.impl = names[wide][stream], .cell = "-", .mode = wide ? "set" : "rest", .floor = f};
            }
        }
        (void)first_floor;
        for (int i = 0; i < nc; i++) {
            if (cfg[i].h) CHECK(ngc_cell_set_threads(cfg[i].h, threads));
            cfg[i].t = calloc(samples, sizeof(double));
        }
        /* Warm-up: every configuration twice (faults the pages in). */
        for (int i = 0; i < nc; i++) {
            call(&cfg[i]);
            call(&cfg[i]);
        }
        if (threads > 1) pool_mode(0);
        /* Sanity: the set configurations compute what the rest ones do. */
        for (int i = 0; i + 1 < nc; i++) {
            if (!cfg[i].h || strcmp(cfg[i].mode, "rest") || strcmp(cfg[i + 1].mode, "set")) continue;
            Kind k = cfg[i].kind;
            unsigned char *a = malloc(3 * n * 4 + 64), *b = malloc(3 * n * 4 + 64);
            CHECK(ngc_cell_advance(cfg[i].h, 0, 1));
            size_t la = get_outputs(cfg[i].h, k, n, a);
            CHECK(ngc_cell_advance(cfg[i + 1].h, 0, 1));
            size_t lb = get_outputs(cfg[i + 1].h, k, n, b);
            if (la != lb || memcmp(a, b, la)) {
                fprintf(stderr, "family: %s rest and set differ\n", kind_name[k]);
                return 1;
            }
            free(a);
            free(b);
        }
        /* The configurations take turns, sample by sample. */
        for (int s = 0; s < samples; s++)
            for (int i = 0; i < nc; i++) sample(&cfg[i], s, target);
        for (int i = 0; i < nc; i++) {
            Config *c = &cfg[i];
            qsort(c->t, samples, sizeof(double), cmp_double);
            double med = c->t[samples / 2];
            printf("%s\t%s\t%s\t%d\t%s\t%zu\t%.4f\t%.4f\t%.3f\t%.3f\t%.4f\n", c->impl, c->cell, c->mode, threads,
                   label, n, med * 1e6, med * 1e9 / n, c->h ? (double)c->allocs / c->calls : 0.0,
                   (double)c->faults / c->calls, c->t[0] * 1e6);
            if (c->h) ngc_cell_free(c->h);
            free(c->t);
        }
        fflush(stdout);
        /* Buffers are leaked on purpose (the cells that bound them are freed;
         * the process is short). */
    }
    if (threads > 1) {
        pool_mode(2);
        pthread_join(pool.th, NULL);
    }
    return 0;
}
