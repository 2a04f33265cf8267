/* SPDX-License-Identifier: MIT */
/*
 * Allocation sampling (allocs.h): the per-thread countdown's slow path, the live set of sampled
 * blocks and the ltprof:alloc / ltprof:free events. The live set is an open-addressing table in
 * memory from mmap (never from malloc, which is what it watches), under a spinlock taken only on
 * the sampled paths; the counts of live samples per address granule (tr_alloc_maybe) let every
 * other free skip it. A thread already inside ltprof (a signal handler that allocates while we
 * record, LTTng-UST's own threads) passes through unsampled. fork() takes the lock around itself, so the child gets it free.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "allocs.h"
#include "guard.h"
#include "interpose/real.h"
#include "ltprof_tp.h"
#include "sampler-internal.h"
#include "stack_buckets.h"
#include "tracer.h"

#define STACK_FRAMES 64

__thread int64_t tr_alloc_countdown TR_HIDDEN_TLS;
_Atomic uint8_t tr_alloc_maybe[1u << TR_ALLOC_MAYBE_BITS];

static __thread uint64_t rng_state __attribute__((tls_model("initial-exec")));
/* The rate generation the calling thread's countdown was drawn for (0: none yet). */
static __thread uint32_t drawn_gen __attribute__((tls_model("initial-exec")));

static _Atomic uint64_t sample_rate = 524288; /* LTPROF_MEMPROFILE_RATE */
static _Atomic uint32_t rate_gen = 1;          /* bumped by every tr_allocs_configure */

/* With sampling off, a thread still looks at the rate after this many bytes, so that turning
 * sampling on reaches every thread. */
#define OFF_RECHECK_BYTES (64ll << 20)

/* ---- the live set --------------------------------------------------------------------------- */

struct live_block {
    uintptr_t addr; /* 0 = empty, 1 = removed */
    uint64_t size;
    uint32_t bucket; /* in `buckets` (stack_buckets.h); UINT32_MAX = none */
};

static atomic_flag lock = ATOMIC_FLAG_INIT;
static struct live_block *table;
static size_t table_cap, table_used, table_live; /* used counts removed slots too */
static struct tr_alloc_stats stats;
static struct tr_buckets buckets = TR_BUCKETS_INIT; /* per stack and block size, for profiles */

static void lock_take(void)
{
    for (unsigned spins = 0; atomic_flag_test_and_set_explicit(&lock, memory_order_acquire);) {
        if (++spins % 64 == 0)
            sched_yield();
    }
}

static void lock_drop(void)
{
    atomic_flag_clear_explicit(&lock, memory_order_release);
}

static size_t slot_of(uintptr_t addr, size_t cap)
{
    return (size_t)(((uint64_t)addr >> 4) * 0xbf58476d1ce4e5b9ULL >> 17) & (cap - 1);
}

/* Rehashes into a table of `cap` slots (removed slots dropped). 0, or -1 when mmap fails. */
static int table_resize(size_t cap)
{
    struct live_block *t = mmap(NULL, cap * sizeof(*t), PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (t == MAP_FAILED)
        return -1;
    for (size_t i = 0; i < table_cap; i++) {
        if (table[i].addr <= 1)
            continue;
        size_t j = slot_of(table[i].addr, cap);
        while (t[j].addr)
            j = (j + 1) & (cap - 1);
        t[j] = table[i];
    }
    if (table)
        munmap(table, table_cap * sizeof(*table));
    table = t, table_cap = cap, table_used = table_live;
    return 0;
}

/* The slot holding addr, or NULL. */
static struct live_block *table_find(uintptr_t addr)
{
    if (!table_cap)
        return NULL;
    for (size_t i = slot_of(addr, table_cap);; i = (i + 1) & (table_cap - 1)) {
        if (table[i].addr == addr)
            return &table[i];
        if (!table[i].addr)
            return NULL;
    }
}

/* Counts the free of a live block in its bucket. */
static void bucket_freed(const struct live_block *b)
{
    struct tr_bucket *k = tr_buckets_at(&buckets, b->bucket);
    if (k) {
        k->v[2]++;
        k->v[3] += b->size;
    }
}

/* Adds (or replaces) a live block. 0, or -1 when the table cannot grow. */
static int table_put(uintptr_t addr, uint64_t size, uint32_t bucket)
{
    struct live_block *b = table_find(addr);
    if (b) { /* a block freed where we could not see it (see tr_alloc_freeing) */
        bucket_freed(b);
        b->size = size, b->bucket = bucket;
        return 0;
    }
    /* Grow when live blocks fill a quarter; else rehash in place to drop removed slots. */
    if ((table_used + 1) * 2 > table_cap &&
        table_resize(!table_cap ? 4096
                     : (table_live + 1) * 4 > table_cap ? table_cap * 2
                                                        : table_cap) != 0)
        return -1;
    size_t i = slot_of(addr, table_cap);
    while (table[i].addr > 1)
        i = (i + 1) & (table_cap - 1);
    table_used += table[i].addr == 0;
    table[i] = (struct live_block){addr, size, bucket};
    table_live++;
    _Atomic uint8_t *maybe = &tr_alloc_maybe[tr_alloc_slot((const void *)addr)];
    uint8_t n = atomic_load_explicit(maybe, memory_order_relaxed);
    if (n < 255)
        atomic_store_explicit(maybe, (uint8_t)(n + 1), memory_order_release);
    return 0;
}

/* Empties the slot of a freed block. */
static void table_remove(struct live_block *b)
{
    _Atomic uint8_t *maybe = &tr_alloc_maybe[tr_alloc_slot((const void *)b->addr)];
    uint8_t n = atomic_load_explicit(maybe, memory_order_relaxed);
    if (n < 255) /* 255 sticks: the count may have been higher */
        atomic_store_explicit(maybe, (uint8_t)(n - 1), memory_order_relaxed);
    b->addr = 1;
    table_live--;
}

static void fork_prepare(void)
{
    tr_guard_enter();
    lock_take();
}

static void fork_release(void)
{
    lock_drop();
    tr_guard_leave();
}

/* ---- sampling ------------------------------------------------------------------------------- */

/* Other threads pick the new rate up when their current countdown runs out; the calling
 * thread at once. */
void tr_allocs_configure(uint64_t rate)
{
    atomic_store_explicit(&sample_rate, rate, memory_order_relaxed);
    atomic_fetch_add_explicit(&rate_gen, 1, memory_order_release);
    tr_alloc_countdown = 0;
}

uint64_t tr_allocs_rate(void)
{
    return atomic_load_explicit(&sample_rate, memory_order_relaxed);
}

/* The bytes until the calling thread's next sample: exponential with mean `rate`. */
static int64_t next_distance(uint64_t rate)
{
    if (rate == 0)
        return OFF_RECHECK_BYTES;
    if (rate == 1)
        return 0;
    if (!rng_state) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        rng_state = ((uint64_t)ts.tv_nsec << 20 ^ (uint64_t)tr_tid_self() ^
                     (uint64_t)(uintptr_t)&rng_state) | 1;
    }
    rng_state ^= rng_state >> 12, rng_state ^= rng_state << 25, rng_state ^= rng_state >> 27;
    uint64_t r = rng_state * 0x2545f4914f6cdd1dULL;
    double u = ((double)(r >> 11) + 1.0) / 9007199254740993.0; /* (0, 1] */
    double d = -log(u) * (double)rate;
    return d >= 9.0e18 ? INT64_MAX : (int64_t)d;
}

/* Keeps a sampled block (in the live set, counted in its bucket) and records ltprof:alloc. */
TR_TEXT __attribute__((noinline)) static void record_alloc(void *p, size_t size, uint64_t rate,
                                                          const void *ret)
{
    uint64_t pcs[STACK_FRAMES];
    size_t n = tr_stack_capture_caller(pcs, STACK_FRAMES);
    lock_take();
    uint32_t bucket = tr_buckets_for(&buckets, pcs, n, size | (uint64_t)tr_tls_labels << 48);
    int put = table_put((uintptr_t)p, size, bucket);
    struct tr_bucket *k = put == 0 ? tr_buckets_at(&buckets, bucket) : NULL;
    if (k) {
        k->v[0]++;
        k->v[1] += size;
    }
    if (put == 0)
        stats.sampled++;
    else
        stats.dropped++;
    lock_drop();
    if (put == 0 && lttng_ust_tracepoint_enabled(ltprof, alloc) &&
        atomic_load_explicit(&tr_real_ready, memory_order_acquire) && !tr_called_by_lttng(ret)) {
        int token = tr_emit_enter();
        uint32_t labels = tr_tls_labels;
        tr_labels_announce(labels);
        lttng_ust_tracepoint(ltprof, alloc, (uint32_t)tr_tid_self(), (uint64_t)(uintptr_t)p,
                             (uint64_t)size, rate, pcs, (uint16_t)n, labels);
        tr_emit_leave(token);
    }
}

TR_TEXT __attribute__((noinline)) void tr_alloc_sampled(void *p, size_t size, const void *ret)
{
    uint64_t rate = atomic_load_explicit(&sample_rate, memory_order_relaxed);
    uint32_t gen = atomic_load_explicit(&rate_gen, memory_order_acquire);
    int saved_errno = errno;
    if (drawn_gen != gen) {
        /* The thread's first allocation, or the rate changed: a fresh distance, which this
         * allocation counts towards. */
        drawn_gen = gen;
        tr_alloc_countdown = next_distance(rate) - (int64_t)size;
        if (tr_alloc_countdown >= 0 || rate == 0) {
            errno = saved_errno;
            return;
        }
    }
    tr_alloc_countdown = next_distance(rate);
    if (rate == 0 || tr_guard_active()) {
        errno = saved_errno;
        return;
    }
    tr_guard_enter();
    record_alloc(p, size, rate, ret);
    tr_guard_leave();
    errno = saved_errno;
}

TR_TEXT __attribute__((noinline)) void tr_alloc_freeing(void *p)
{
    if (tr_guard_active())
        return; /* inside ltprof (a signal handler while we hold the lock): left as live */
    int saved_errno = errno;
    tr_guard_enter();
    lock_take();
    struct live_block *b = table_find((uintptr_t)p);
    uint64_t size = 0;
    if (b) {
        size = b->size;
        bucket_freed(b);
        table_remove(b);
        stats.freed++;
    }
    lock_drop();
    if (b && lttng_ust_tracepoint_enabled(ltprof, free)) {
        int token = tr_emit_enter();
        lttng_ust_tracepoint(ltprof, free, (uint32_t)tr_tid_self(), (uint64_t)(uintptr_t)p, size);
        tr_emit_leave(token);
    }
    tr_guard_leave();
    errno = saved_errno;
}

/* Inside the guard, like every holder of the lock: a signal handler that allocates meanwhile
 * must not wait for it. */
void tr_allocs_get_stats(struct tr_alloc_stats *out)
{
    tr_guard_enter();
    lock_take();
    *out = stats;
    out->live = table_live;
    lock_drop();
    tr_guard_leave();
}

int tr_allocs_snapshot(struct tr_bucket_snapshot *s)
{
    tr_guard_enter(); /* our own copies are not sampled */
    lock_take();
    int rc = tr_buckets_copy(&buckets, s);
    s->table_bytes += table_cap * sizeof(*table);
    lock_drop();
    tr_guard_leave();
    s->rate = tr_allocs_rate();
    return rc == 0 ? 0 : LTPROF_ERR_NOMEM;
}

/* Overridden by interpose/malloc.c; sanitized builds leave glibc's malloc alone. */
__attribute__((weak)) int tr_allocs_interposed(char *first, size_t size)
{
    snprintf(first, size, "this build (sanitizers own malloc)");
    return -1;
}

/* Registered at load, before any thread can take the lock. */
__attribute__((constructor)) static void allocs_init(void)
{
    pthread_atfork(fork_prepare, fork_release, fork_release);
}
