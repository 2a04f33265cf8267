/* SPDX-License-Identifier: MIT */
/*
 * Stacks for events emitted in normal context (user annotations now; locks and allocations
 * later): the calling thread's stack through the .eh_frame unwinder, with the thread's stack
 * range cached in TLS on first use. Face: tracer.h. Never call from a signal handler (the
 * first call per thread asks pthread_getattr_np, which may allocate).
 */
#define _GNU_SOURCE
#include <string.h>

#include "tracer.h"

static __thread struct tr_stack_range capture_range __attribute__((tls_model("initial-exec")));
static __thread int capture_range_known __attribute__((tls_model("initial-exec")));

__attribute__((noinline)) size_t tr_stack_capture(uint64_t *pcs, size_t max, unsigned skip)
{
    uint64_t buf[TR_UNWIND_MAX_FRAMES];
    enum tr_unwind_status status;

    if (!capture_range_known) {
        if (tr_stack_range_self(&capture_range) != 0)
            return 0;
        capture_range_known = 1;
    }
    /* buf[0] is in this function, buf[1] in our caller: drop them and `skip` more. */
    size_t drop = 2 + (size_t)skip;
    size_t want = max + drop < TR_UNWIND_MAX_FRAMES ? max + drop : TR_UNWIND_MAX_FRAMES;
    size_t n = tr_unwind_here(&capture_range, buf, want, &status);
    if (n <= drop)
        return 0;
    n -= drop;
    if (n > max)
        n = max;
    memcpy(pcs, buf + drop, n * sizeof(*pcs));
    return n;
}
