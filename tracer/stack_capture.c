/* SPDX-License-Identifier: MIT */
/*
 * Stacks for events emitted outside the SIGPROF handler (waits, blocking calls, thread
 * creation, annotations): the calling thread's stack through the .eh_frame unwinder, with
 * ltprof's own frames (the TR_TEXT section: interposers and recorders) dropped, so the first
 * PC is in the code that called into ltprof. Face: tracer.h. Async-signal-safe once the
 * thread's stack range is known (tr_stack_prepare_self, or the sampler's table), because
 * blocking calls such as write() may be made from a program's signal handlers.
 */
#define _GNU_SOURCE
#include <string.h>

#include "sampler-internal.h"
#include "tracer.h"

/* Bounds of the TR_TEXT section, from the linker. */
extern const char __start_ltprof_text[] __attribute__((weak, visibility("hidden")));
extern const char __stop_ltprof_text[] __attribute__((weak, visibility("hidden")));

static __thread struct tr_stack_range capture_range __attribute__((tls_model("initial-exec")));
static __thread int capture_range_known __attribute__((tls_model("initial-exec")));

void tr_stack_prepare_self(void)
{
    if (!capture_range_known && tr_stack_range_self(&capture_range) == 0)
        capture_range_known = 1;
}

static int in_ltprof_text(uint64_t pc)
{
    return (uintptr_t)pc >= (uintptr_t)__start_ltprof_text &&
           (uintptr_t)pc < (uintptr_t)__stop_ltprof_text;
}

TR_TEXT __attribute__((noinline)) size_t tr_stack_capture_caller(uint64_t *pcs, size_t max)
{
    uint64_t buf[TR_UNWIND_MAX_FRAMES];
    enum tr_unwind_status status;
    struct tr_stack_range range;
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);

    if (capture_range_known)
        range = capture_range;
    else if (tr_stack_range_guess(sp, &range) != 0)
        return 0;
    size_t n = tr_unwind_here(&range, buf, TR_UNWIND_MAX_FRAMES, &status);
    /* buf[0] is in the unwinder; then come ltprof's frames (this function first), then the
     * caller's. Return addresses are looked up at pc - 1, inside the call. */
    size_t i = 0;
    while (i < n && !in_ltprof_text(i == 0 ? buf[i] : buf[i] - 1))
        i++;
    while (i < n && in_ltprof_text(buf[i] - 1))
        i++;
    n -= i;
    if (n > max)
        n = max;
    memcpy(pcs, buf + i, n * sizeof(*pcs));
    return n;
}
