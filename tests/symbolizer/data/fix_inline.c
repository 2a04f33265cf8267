/* SPDX-License-Identifier: MIT */
/*
 * Symbolizer fixture (a): a C PIE program built -O2 -g in which inner_step() is forced
 * inline into the noinline outer_fn(). `fix_inline dump` prints the addresses and modules
 * the test symbolizes (see fix_common.h); libc's qsort covers libc.
 */
#define _GNU_SOURCE /* dl_iterate_phdr in fix_common.h */
#include <dlfcn.h>
#include <stdlib.h>

#include "fix_common.h"
#include "fix_lines.h"

volatile int fix_sink;

static int cmp_int(const void *a, const void *b) {
    return *(const int *)a - *(const int *)b;
}

static inline __attribute__((always_inline)) void inner_step(int x) {
    fix_sink += x;
    _Static_assert(__LINE__ + 1 == FIX_INLINE_LINE_CAPTURE, "the next line is the marker");
    fix_capture(0);
    fix_sink += 2 * x;
}

__attribute__((noinline)) int outer_fn(int n) {
    for (int i = 0; i < n; i++) {
        fix_sink += i;
        _Static_assert(__LINE__ + 1 == FIX_INLINE_LINE_CALL, "the next line is the marker");
        inner_step(i);
    }
    return fix_sink;
}

int main(int argc, char **argv) {
    int values[4] = {3, 1, 2, 0};
    qsort(values, 4, sizeof(int), cmp_int);
    outer_fn(argc + 1);
    if (argc > 1 && strcmp(argv[1], "dump") == 0) {
        FIX_PRINT_FN("outer_fn", &outer_fn);
        /* libc's own qsort, even when a sanitizer runtime interposes it. */
        void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
        FIX_PRINT_FN("qsort", libc != NULL ? dlsym(libc, "qsort") : (void *)&qsort);
        fix_dump();
    }
    return values[0];
}
