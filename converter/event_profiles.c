/* SPDX-License-Identifier: MIT */
/*
 * The profiles counted from recorded events, with Go's sample types (converter side of the
 * runtime's tables): mutex.pb.gz (contended waits on mutexes and rwlocks), block.pb.gz (every
 * wait on synchronisation: those, condition variables, semaphores, barriers and joins) and
 * threadcreate.pb.gz (the stacks that created the threads started during the trace). A wait
 * counts from its ltprof:wait_begin to the thread's ltprof:wait_end, at the waiting stack; a wait
 * the trace saw only the end of is left out. The tracer records every contended wait, so the
 * profiles are unsampled (period 1). Counts are kept per stack id (stacks.c): memory follows the
 * distinct stacks. Face: converter/internal.h (cv_event_profiles_*).
 */
#define _GNU_SOURCE /* qsort_r */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "pprof_builder.h"

/* Per-stack counts of the three profiles. */
struct stack_counts {
    uint32_t stack;
    uint64_t mutex_n, mutex_ns;
    uint64_t block_n, block_ns;
    uint64_t threads;
};

static uint64_t counts_hash(uint32_t stack)
{
    return cv_hash_pair(stack, 0, 13);
}

struct counts_key {
    const struct cv_state *st;
    uint32_t stack;
};

static bool counts_eq(const void *ctx, size_t pos)
{
    const struct counts_key *k = ctx;
    return CV_VEC_AT(&k->st->event_counts, struct stack_counts, pos)->stack == k->stack;
}

static uint64_t counts_rehash(const void *ctx, size_t pos)
{
    const struct cv_state *st = ctx;
    return counts_hash(CV_VEC_AT(&st->event_counts, struct stack_counts, pos)->stack);
}

static struct stack_counts *counts_of(struct cv_state *st, uint32_t stack)
{
    if (!st->event_counts.elem)
        cv_vec_init(&st->event_counts, sizeof(struct stack_counts));
    struct counts_key k = {st, stack};
    size_t pos = cv_index_find(&st->event_index, counts_hash(stack), counts_eq, &k);
    if (pos != SIZE_MAX)
        return CV_VEC_AT(&st->event_counts, struct stack_counts, pos);
    struct stack_counts *c = cv_vec_push(&st->event_counts);
    if (!c)
        return NULL;
    c->stack = stack;
    if (cv_index_insert(&st->event_index, counts_hash(stack), st->event_counts.len - 1,
                        counts_rehash, st) != 0) {
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
    struct stack_counts *c = counts_of(st, t->wait_stack);
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

int cv_event_profiles_thread_created(struct cv_state *st, uint32_t creator_stack)
{
    struct stack_counts *c = counts_of(st, creator_stack);
    if (!c)
        return LTPROF_ERR_NOMEM;
    c->threads++;
    return 0;
}

/* The order Go writes them in: by delay (mutex, block) or count (threadcreate), descending;
 * equal ones by stack id, so the files do not depend on the table's layout. */
static uint64_t sort_value(const struct stack_counts *c, int which)
{
    return which == 0 ? c->mutex_ns : which == 1 ? c->block_ns : c->threads;
}

static int by_value_desc(const void *a, const void *b, void *which)
{
    const struct stack_counts *x = a, *y = b;
    uint64_t vx = sort_value(x, *(const int *)which), vy = sort_value(y, *(const int *)which);
    if (vx != vy)
        return vx > vy ? -1 : 1;
    return x->stack < y->stack ? -1 : x->stack > y->stack;
}

static int write_one(struct cv_state *st, int which, const char *kind, struct cv_profile **slot,
                     struct ltprof_error *err)
{
    int rc = cv_profile_open(st, kind, 1, slot, err);
    if (rc)
        return rc;
    struct cv_vec *v = &st->event_counts;
    if (v->len)
        qsort_r(v->items, v->len, v->elem, by_value_desc, &which);
    for (size_t i = 0; rc == 0 && i < v->len; i++) {
        const struct stack_counts *c = CV_VEC_AT(v, struct stack_counts, i);
        int64_t values[2];
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
    return rc ? rc : cv_profile_finish(*slot, err);
}

int cv_event_profiles_write(struct cv_state *st, struct ltprof_error *err)
{
    int rc = write_one(st, 0, "mutex", &st->profiles[CV_PROFILE_MUTEX], err);
    if (rc == 0)
        rc = write_one(st, 1, "block", &st->profiles[CV_PROFILE_BLOCK], err);
    if (rc == 0)
        rc = write_one(st, 2, "threadcreate", &st->profiles[CV_PROFILE_THREADCREATE], err);
    cv_index_fini(&st->event_index); /* sorting moved the items: nothing is counted after */
    return rc;
}
