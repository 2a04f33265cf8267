/* SPDX-License-Identifier: MIT */
/*
 * Internal to tracer/: tables of stack buckets (stack_buckets.c), the always-on tables behind
 * the in-process profiles: one bucket per (stack, key), four counters each, like Go's profile
 * buckets. The allocation sampler keeps one (key = block size), the contention recorder two
 * (mutex and block, key 0). Memory comes from mmap (never from malloc, which one of them
 * counts) and grows by doubling up to fixed limits; past them new stacks go to bucket 0, with
 * an empty stack, and the overflow is counted. Not thread-safe: the owner's lock covers every
 * call.
 */
#ifndef LTPROF_TRACER_STACK_BUCKETS_H
#define LTPROF_TRACER_STACK_BUCKETS_H

#include <stddef.h>
#include <stdint.h>

#include "tracer.h"

struct tr_buckets {
    struct tr_bucket *buckets; /* [0] is the overflow bucket */
    uint32_t n, cap;
    uint32_t *index; /* bucket ids by hash, 0 = empty; 2 x cap slots */
    uint64_t *pcs;
    size_t n_pcs, cap_pcs;
    uint64_t overflowed;
};
#define TR_BUCKETS_INIT {0}

/* The bucket of (stack, key), created if new; 0 (the overflow bucket) when the table is full;
 * UINT32_MAX when not even that could be made. */
uint32_t tr_buckets_for(struct tr_buckets *t, const uint64_t *pcs, size_t n, uint64_t key);
/* The bucket `id`, or NULL. Valid until the next tr_buckets_for. */
struct tr_bucket *tr_buckets_at(struct tr_buckets *t, uint32_t id);
/* Empties the table and gives its memory back. */
void tr_buckets_reset(struct tr_buckets *t);
/* Bytes mapped for the table. */
uint64_t tr_buckets_bytes(const struct tr_buckets *t);
/* Copies the table into `out` (malloc'ed buckets and frames). 0, or -1 when out of memory. */
int tr_buckets_copy(const struct tr_buckets *t, struct tr_bucket_snapshot *out);

#endif
