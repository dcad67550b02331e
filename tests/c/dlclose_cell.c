/*
 * The library unloads after use, as MATLAB's `clear mex` and other reload-in-process
 * hosts need: dlopen it, make one cell of a family row, start its worker threads,
 * advance, free, dlclose, and check with RTLD_NOLOAD that it is no longer mapped.
 * A thread-local destructor registered by the library in the calling thread (as
 * Rust's std::thread::spawn would) makes glibc keep it loaded.
 *
 * Built by tests/dlclose.rs once per row of tests/common/family.rs, not linked
 * with the library (every call goes through dlsym), with
 *   -DROW_FN=<the row's constructor> -D'ROW_NEW(...)=<its call through (*row_fn)>'
 *   -DROW_LABEL='"<label>"'
 * Usage: dlclose_cell /path/to/libngc_cells.so
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "ngc_cells.h"

#ifndef ROW_NEW
#error "build with -DROW_FN=... -D'ROW_NEW(name,n_units,batch_size,shape,dtype,out)=...' (see tests/dlclose.rs)"
#endif

#define STR2(x) #x
#define STR(x) STR2(x)

static void *lib;

/* dlsym into a typed function pointer, without a cast between object and
   function pointers (which ISO C leaves undefined). */
static int sym(void *fn_ptr, size_t size, const char *name) {
    void *s = dlsym(lib, name);
    if (!s) {
        fprintf(stderr, "%s: %s missing: %s\n", ROW_LABEL, name, dlerror());
        return 0;
    }
    memcpy(fn_ptr, &s, size);
    return 1;
}
#define SYM(var, fn) sym(&(var), sizeof(var), STR(fn))

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s libngc_cells.so\n", argv[0]);
        return 2;
    }
    lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "%s: dlopen failed: %s\n", ROW_LABEL, dlerror());
        return 1;
    }
    __typeof__(&ROW_FN) row_fn;
    __typeof__(&ngc_cell_set_threads) set_threads;
    __typeof__(&ngc_cell_advance) advance;
    __typeof__(&ngc_cell_free) cell_free;
    if (!SYM(row_fn, ROW_FN) || !SYM(set_threads, ngc_cell_set_threads) ||
        !SYM(advance, ngc_cell_advance) || !SYM(cell_free, ngc_cell_free)) {
        return 1;
    }
    NgcCell *cell = NULL;
    NgcCell **out = &cell;
    const char *name = "u";
    size_t n_units = 150000, batch_size = 2;
    const size_t *shape = NULL;
    (void)shape; /* a row without a shape (RewardErrorCell) does not use it */
    NgcDtype dtype = NGC_DTYPE_F32;
    NgcStatus st = ROW_NEW(name, n_units, batch_size, shape, dtype, out);
    if (st != NGC_OK || !cell) {
        fprintf(stderr, "%s: creating the cell gave %d\n", ROW_LABEL, (int)st);
        return 1;
    }
    if ((st = set_threads(cell, 2)) != NGC_OK) {
        fprintf(stderr, "%s: set_threads gave %d\n", ROW_LABEL, (int)st);
        return 1;
    }
    for (int i = 0; i < 3; i++) {
        if ((st = advance(cell, (double)i, 1.0)) != NGC_OK) {
            fprintf(stderr, "%s: advance gave %d\n", ROW_LABEL, (int)st);
            return 1;
        }
    }
    cell_free(cell);
    if (dlclose(lib) != 0) {
        fprintf(stderr, "%s: dlclose failed: %s\n", ROW_LABEL, dlerror());
        return 1;
    }
    if (dlopen(argv[1], RTLD_NOW | RTLD_NOLOAD) != NULL) {
        fprintf(stderr, "%s: the library is still loaded after dlclose\n", ROW_LABEL);
        return 1;
    }
    printf("dlclose %s: unloaded\n", ROW_LABEL);
    return 0;
}
