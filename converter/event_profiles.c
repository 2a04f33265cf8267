/* SPDX-License-Identifier: MIT */
/*
 * The profiles counted from recorded events, with Go's sample types (converter side of the
 * runtime's tables): mutex.pb.gz (contended waits on mutexes and rwlocks), block.pb.gz (every
 * wait on synchronisation: those, condition variables, semaphores, barriers and joins),
 * threadcreate.pb.gz (the stacks that created the threads started during the trace), and
 * heap.pb.gz and allocs.pb.gz (the sampled allocations, and those still live at the end).
 * A wait counts from its ltprof:wait_begin to the thread's ltprof:wait_end, at the waiting
 * stack; a wait the trace saw only the end of is left out. The tracer records every contended
 * wait, so those profiles are unsampled (period 1); allocations are sampled by bytes and
 * unbiased as Go does. Counts are kept per stack id (stacks.c; allocations per stack id and
 * block size, like Go's buckets), and the live sampled blocks by
 * (process, address): memory follows the distinct stacks and the live samples.
 * Face: converter/internal.h (cv_event_profiles_*).
 */
#define _GNU_SOURCE /* qsort_r */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "pprof_builder.h"
#include "timeline.h"

/* Per-stack counts of the three profiles. */
struct stack_counts {
    uint32_t stack;
    uint32_t labels; /* allocations: the thread's label set (ltprof:label_set); else 0 */
    uint64_t size; /* allocations: the block size (Go's buckets are per stack and size); else 0 */
    uint64_t mutex_n, mutex_ns;
    uint64_t block_n, block_ns;
    uint64_t threads;
    uint64_t alloc_n, alloc_bytes; /* sampled allocations, raw */
    uint64_t free_n, free_bytes;   /* ... of which freed */
};

/* A live sampled block, in an open-addressing table with backward-shift deletion. */
struct live_block {
    uint64_t addr; /* 0 = empty slot */
    int64_t pid;
    uint32_t stack, labels;
    uint64_t size;
};

static uint64_t counts_hash(uint32_t stack, uint64_t size, uint32_t labels)
{
    return cv_hash_pair(stack, size ^ (uint64_t)labels << 48, 13);
}

struct counts_key {
    const struct cv_state *st;
    uint32_t stack, labels;
    uint64_t size;
};

static bool counts_eq(const void *ctx, size_t pos)
{
    const struct counts_key *k = ctx;
    const struct stack_counts *c = CV_VEC_AT(&k->st->event_counts, struct stack_counts, pos);
    return c->stack == k->stack && c->size == k->size && c->labels == k->labels;
}

static uint64_t counts_rehash(const void *ctx, size_t pos)
{
    const struct cv_state *st = ctx;
    const struct stack_counts *c = CV_VEC_AT(&st->event_counts, struct stack_counts, pos);
    return counts_hash(c->stack, c->size, c->labels);
}

static struct stack_counts *counts_of(struct cv_state *st, uint32_t stack, uint64_t size,
                                      uint32_t labels)
{
    if (!st->event_counts.elem)
        cv_vec_init(&st->event_counts, sizeof(struct stack_counts));
    struct counts_key k = {st, stack, labels, size};
    uint64_t h = counts_hash(stack, size, labels);
    size_t pos = cv_index_find(&st->event_index, h, counts_eq, &k);
    if (pos != SIZE_MAX)
        return CV_VEC_AT(&st->event_counts, struct stack_counts, pos);
    struct stack_counts *c = cv_vec_push(&st->event_counts);
    if (!c)
        return NULL;
    c->stack = stack;
    c->size = size;
    c->labels = labels;
    if (cv_index_insert(&st->event_index, h, st->event_counts.len - 1, counts_rehash, st) != 0) {
        st->event_counts.len--;
        return NULL;
    }
    return c;
}

/* What a wait kind counts in: 2 = mutex and block, 1 = block only, 0 = neither. */
static int wait_class(const char *kind)
{
    if (strcmp(kind, "mutex") == 0 || strncmp(kind, "rwlock", 6) == 0)
        return 2;
    static const char *const block_only[] = {"cond", "sem", "barrier", "join"};
    for (size_t i = 0; i < sizeof(block_only) / sizeof(block_only[0]); i++)
        if (strcmp(kind, block_only[i]) == 0)
            return 1;
    return 0;
}

void cv_event_profiles_wait_begin(struct cv_thread *t, const char *kind, uint32_t stack,
                                  uint64_t ts)
{
    t->wait_class = (uint8_t)wait_class(kind);
    t->wait_stack = stack;
    t->wait_ts = ts;
}

int cv_event_profiles_wait_end(struct cv_state *st, struct cv_thread *t, uint64_t ts)
{
    int class = t->wait_class;
    t->wait_class = 0;
    if (!class || ts < t->wait_ts)
        return 0; /* no wait begun, or one that counts in neither profile */
    struct stack_counts *c = counts_of(st, t->wait_stack, 0, 0);
    if (!c)
        return LTPROF_ERR_NOMEM;
    c->block_n++;
    c->block_ns += ts - t->wait_ts;
    if (class == 2) {
        c->mutex_n++;
        c->mutex_ns += ts - t->wait_ts;
    }
    return 0;
}

/* ---- allocations -------------------------------------------------------------------------- */

static size_t live_slot(const struct cv_state *st, int64_t pid, uint64_t addr)
{
    return (size_t)cv_hash_pair((uint64_t)pid, addr, 17) & (st->live_cap - 1);
}

static struct live_block *live_find(struct cv_state *st, int64_t pid, uint64_t addr)
{
    if (!st->live_cap)
        return NULL;
    struct live_block *t = st->live;
    for (size_t i = live_slot(st, pid, addr);; i = (i + 1) & (st->live_cap - 1)) {
        if (t[i].addr == addr && t[i].pid == pid)
            return &t[i];
        if (!t[i].addr)
            return NULL;
    }
}

static int live_grow(struct cv_state *st)
{
    size_t cap = st->live_cap ? st->live_cap * 2 : 1024;
    struct live_block *t = cv_calloc(cap, sizeof(*t)), *old = st->live;
    if (!t)
        return LTPROF_ERR_NOMEM;
    size_t old_cap = st->live_cap;
    st->live = t, st->live_cap = cap;
    for (size_t i = 0; i < old_cap; i++) {
        if (!old[i].addr)
            continue;
        size_t j = live_slot(st, old[i].pid, old[i].addr);
        while (t[j].addr)
            j = (j + 1) & (cap - 1);
        t[j] = old[i];
    }
    free(old);
    return 0;
}

/* Removes slot b, moving later entries of its probe chain back (no tombstones). */
static void live_remove(struct cv_state *st, struct live_block *b)
{
    size_t mask = st->live_cap - 1, i = (size_t)(b - st->live);
    struct live_block *t = st->live;
    for (size_t j = (i + 1) & mask; t[j].addr; j = (j + 1) & mask) {
        size_t home = live_slot(st, t[j].pid, t[j].addr);
        /* t[j] may fill the hole at i when its home is not in (i, j] (cyclically) */
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            t[i] = t[j];
            i = j;
        }
    }
    t[i].addr = 0;
    st->live_n--;
}

int cv_event_profiles_alloc(struct cv_state *st, int64_t pid, uint64_t addr, uint64_t size,
                            uint64_t rate, uint32_t stack, uint32_t labels)
{
    if (!addr)
        return 0;
    if (!st->memprofile_rate)
        st->memprofile_rate = rate ? rate : 1;
    struct live_block *b = live_find(st, pid, addr);
    if (b) { /* its free was not recorded (before the trace, or lost): it counts as freed */
        struct stack_counts *old = counts_of(st, b->stack, b->size, b->labels);
        if (!old)
            return LTPROF_ERR_NOMEM;
        old->free_n++;
        old->free_bytes += b->size;
        live_remove(st, b);
    }
    struct stack_counts *c = counts_of(st, stack, size, labels);
    if (!c || ((st->live_n + 1) * 2 > st->live_cap && live_grow(st) != 0))
        return LTPROF_ERR_NOMEM;
    size_t i = live_slot(st, pid, addr);
    while (st->live[i].addr)
        i = (i + 1) & (st->live_cap - 1);
    st->live[i] = (struct live_block){addr, pid, stack, labels, size};
    st->live_n++;
    c->alloc_n++;
    c->alloc_bytes += size;
    return 0;
}

int cv_event_profiles_free(struct cv_state *st, int64_t pid, uint64_t addr)
{
    struct live_block *b = live_find(st, pid, addr);
    if (!b)
        return 0; /* allocated before the trace began */
    struct stack_counts *c = counts_of(st, b->stack, b->size, b->labels);
    if (!c)
        return LTPROF_ERR_NOMEM;
    c->free_n++;
    c->free_bytes += b->size;
    live_remove(st, b);
    return 0;
}

int cv_event_profiles_thread_created(struct cv_state *st, uint32_t creator_stack)
{
    struct stack_counts *c = counts_of(st, creator_stack, 0, 0);
    if (!c)
        return LTPROF_ERR_NOMEM;
    c->threads++;
    return 0;
}

/* The order Go writes them in: by delay (mutex, block), count (threadcreate) or bytes in use
 * (heap, allocs), descending; equal ones by stack id and size, so the files do not depend on
 * the table's layout. */
static uint64_t sort_value(const struct stack_counts *c, int which)
{
    switch (which) {
    case 0: return c->mutex_ns;
    case 1: return c->block_ns;
    case 2: return c->threads;
    default: return c->alloc_bytes - c->free_bytes; /* heap, allocs: in use first */
    }
}

static int by_value_desc(const void *a, const void *b, void *which)
{
    const struct stack_counts *x = a, *y = b;
    uint64_t vx = sort_value(x, *(const int *)which), vy = sort_value(y, *(const int *)which);
    if (vx != vy)
        return vx > vy ? -1 : 1;
    if (x->stack != y->stack)
        return x->stack < y->stack ? -1 : 1;
    return x->size < y->size ? -1 : x->size > y->size;
}

static int write_one(struct cv_state *st, int which, const char *kind, struct cv_profile **slot,
                     struct ltprof_error *err)
{
    int64_t period = which >= 3 ? (int64_t)(st->memprofile_rate ? st->memprofile_rate : 524288) : 1;
    int rc = cv_profile_open(st, kind, period, slot, err);
    if (rc)
        return rc;
    struct cv_vec *v = &st->event_counts;
    if (v->len)
        qsort_r(v->items, v->len, v->elem, by_value_desc, &which);
    for (size_t i = 0; rc == 0 && i < v->len; i++) {
        const struct stack_counts *c = CV_VEC_AT(v, struct stack_counts, i);
        int64_t values[4];
        if (which >= 3 && c->alloc_n) {
            pprof_scale_heap_sample(c->alloc_n, c->alloc_bytes, st->memprofile_rate, &values[0],
                                    &values[1]);
            pprof_scale_heap_sample(c->alloc_n - c->free_n, c->alloc_bytes - c->free_bytes,
                                    st->memprofile_rate, &values[2], &values[3]);
            struct pprof_label labels[1 + CV_MAX_LABELS];
            size_t n = 0;
            if (c->size)
                labels[n++] = (struct pprof_label){.key = "bytes", .num = (int64_t)c->size};
            const struct cv_stack *s = c->labels ? cv_stack_get(&st->stacks, c->stack) : NULL;
            if (s)
                n += cv_state_labels(st, s->pid, c->labels, labels + n, CV_MAX_LABELS);
            rc = cv_profile_sample(st, *slot, c->stack, values, labels, n, err);
            continue;
        }
        if (which == 0 && c->mutex_n)
            values[0] = (int64_t)c->mutex_n, values[1] = (int64_t)c->mutex_ns;
        else if (which == 1 && c->block_n)
            values[0] = (int64_t)c->block_n, values[1] = (int64_t)c->block_ns;
        else if (which == 2 && c->threads)
            values[0] = (int64_t)c->threads;
        else
            continue;
        rc = cv_profile_sample(st, *slot, c->stack, values, NULL, 0, err);
    }
    return rc ? rc : cv_profile_finish(st, *slot, err);
}

int cv_event_profiles_write(struct cv_state *st, struct ltprof_error *err)
{
    int rc = write_one(st, 0, "mutex", &st->profiles[CV_PROFILE_MUTEX], err);
    if (rc == 0)
        rc = write_one(st, 1, "block", &st->profiles[CV_PROFILE_BLOCK], err);
    if (rc == 0)
        rc = write_one(st, 2, "threadcreate", &st->profiles[CV_PROFILE_THREADCREATE], err);
    if (rc == 0)
        rc = write_one(st, 3, "heap", &st->profiles[CV_PROFILE_HEAP], err);
    if (rc == 0)
        rc = write_one(st, 4, "allocs", &st->profiles[CV_PROFILE_ALLOCS], err);
    cv_index_fini(&st->event_index); /* sorting moved the items: nothing is counted after */
    return rc;
}
