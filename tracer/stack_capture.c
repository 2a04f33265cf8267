/* SPDX-License-Identifier: MIT */
/*
 * Stacks for events emitted outside the SIGPROF handler (waits, blocking calls, thread
 * creation, annotations): the calling thread's stack through the .eh_frame unwinder, with
 * ltprof's own frames (the TR_TEXT section: interposers and recorders) dropped, so the first
 * PC is in the code that called into ltprof. Face: tracer.h. Async-signal-safe once the
 * thread's stack range is known (tr_stack_prepare_self, or the sampler's table), because
 * blocking calls such as write() may be made from a program's signal handlers.
 *
 * A thread records the same few stacks over and over (an event loop's epoll_wait, a worker's
 * lock), and unwinding costs ~40 ns a frame. So each thread keeps its last stacks with the
 * stack addresses their return addresses were read from: a stack is reused when the caller's
 * PC and frame are the same and every one of those addresses still holds the same return
 * address. The first frame that differs from a cached stack sits at the same address in both
 * (all frames inside it are the same), so a changed call path always fails that check.
 */
#define _GNU_SOURCE
#include <string.h>

#include "sampler-internal.h"
#include "tracer.h"

#define CACHE_WAYS 4
#define CACHE_FRAMES 48 /* longer stacks are unwound every time */

/* Bounds of the TR_TEXT section, from the linker. */
extern const char __start_ltprof_text[] __attribute__((weak, visibility("hidden")));
extern const char __stop_ltprof_text[] __attribute__((weak, visibility("hidden")));

struct cached_stack {
    uint32_t n;                    /* 0: empty */
    uint64_t pcs[CACHE_FRAMES];    /* pcs[0] = the caller's PC */
    uint64_t slots[CACHE_FRAMES];  /* where each was read from */
};

#define TLS __attribute__((tls_model("initial-exec")))
static __thread struct tr_stack_range capture_range TLS;
static __thread int capture_range_known TLS;
static __thread struct cached_stack cache[CACHE_WAYS] TLS;
static __thread unsigned cache_next TLS;
static __thread struct tr_stack_cache_stats cache_stats TLS;

void tr_stack_prepare_self(void)
{
    if (!capture_range_known && tr_stack_range_self(&capture_range) == 0)
        capture_range_known = 1;
}

void tr_stack_cache_stats_self(struct tr_stack_cache_stats *out)
{
    *out = cache_stats;
}

int tr_in_ltprof_text(uint64_t pc)
{
    return (uintptr_t)pc >= (uintptr_t)__start_ltprof_text &&
           (uintptr_t)pc < (uintptr_t)__stop_ltprof_text;
}

static int in_range(const struct tr_stack_range *r, uint64_t addr)
{
    return addr >= r->lo && addr + 8 <= r->hi && (addr & 7) == 0;
}

/* The caller's PC and the address it is stored at, found through ltprof's own frames, which
 * are built with frame pointers: from `fp`, follow the chain while the return address is in
 * TR_TEXT. -1 when the chain looks wrong (then the full unwind decides). */
static int caller_by_frame_pointers(const struct tr_stack_range *r, uintptr_t fp, uint64_t *pc,
                                    uint64_t *slot)
{
    for (int hops = 0; hops < 16; hops++) {
        if (!in_range(r, fp) || !in_range(r, fp + 8))
            return -1;
        uint64_t ra = *(const uint64_t *)(fp + 8);
        if (!tr_in_ltprof_text(ra - 1)) {
            if (hops == 0)
                return -1; /* this function's own caller is always ltprof's */
            *pc = ra;
            *slot = fp + 8;
            return 0;
        }
        uintptr_t next = *(const uintptr_t *)fp;
        if (next <= fp)
            return -1;
        fp = next;
    }
    return -1;
}

/* A cached stack that starts at (pc, slot) and whose return addresses are all still in place. */
static const struct cached_stack *cache_find(const struct tr_stack_range *r, uint64_t pc,
                                             uint64_t slot)
{
    for (unsigned w = 0; w < CACHE_WAYS; w++) {
        const struct cached_stack *e = &cache[w];
        if (e->n == 0 || e->pcs[0] != pc || e->slots[0] != slot)
            continue;
        uint32_t i = 1;
        while (i < e->n && in_range(r, e->slots[i]) &&
               *(const uint64_t *)(uintptr_t)e->slots[i] == e->pcs[i])
            i++;
        if (i == e->n)
            return e;
    }
    return NULL;
}

static void cache_put(const uint64_t *pcs, const uint64_t *slots, size_t n)
{
    if (n == 0 || n > CACHE_FRAMES)
        return;
    for (size_t i = 0; i < n; i++)
        if (slots[i] == 0)
            return; /* a return address that was not on the stack: nothing to check it by */
    struct cached_stack *e = &cache[cache_next++ % CACHE_WAYS];
    memcpy(e->pcs, pcs, n * sizeof(*pcs));
    memcpy(e->slots, slots, n * sizeof(*slots));
    e->n = (uint32_t)n;
}

TR_TEXT __attribute__((noinline)) size_t tr_stack_capture_caller(uint64_t *pcs, size_t max)
{
    uint64_t buf[TR_UNWIND_MAX_FRAMES], slots[TR_UNWIND_MAX_FRAMES];
    enum tr_unwind_status status;
    struct tr_stack_range range;
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);

    if (capture_range_known)
        range = capture_range;
    else if (tr_stack_range_guess(sp, &range) != 0)
        return 0;

    uint64_t pc = 0, slot = 0;
    int keyed = caller_by_frame_pointers(&range, sp, &pc, &slot) == 0;
    const struct cached_stack *hit = keyed ? cache_find(&range, pc, slot) : NULL;
    if (hit) {
        size_t n = hit->n < max ? hit->n : max;
        memcpy(pcs, hit->pcs, n * sizeof(*pcs));
        cache_stats.hits++;
        return n;
    }
    cache_stats.misses++;

    size_t n = tr_unwind_here_slots(&range, buf, slots, TR_UNWIND_MAX_FRAMES, &status);
    /* buf[0] is in the unwinder; then come ltprof's frames (this function first), then the
     * caller's. Return addresses are looked up at pc - 1, inside the call. */
    size_t i = 0;
    while (i < n && !tr_in_ltprof_text(i == 0 ? buf[i] : buf[i] - 1))
        i++;
    while (i < n && tr_in_ltprof_text(buf[i] - 1))
        i++;
    n -= i;
    if (keyed && n > 0 && buf[i] == pc && slots[i] == slot) /* the same frame as the key */
        cache_put(buf + i, slots + i, n);
    if (n > max)
        n = max;
    memcpy(pcs, buf + i, n * sizeof(*pcs));
    return n;
}
