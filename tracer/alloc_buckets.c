/* SPDX-License-Identifier: MIT */
/*
 * The always-on table behind the in-process heap and allocs profiles (allocs.h): one bucket
 * per (stack, block size), like Go's memory-profile buckets, counting the sampled allocations
 * and frees. Memory comes from mmap (never from malloc, which is what it counts) and grows by
 * doubling up to fixed limits; past them new stacks go to one bucket with an empty stack, and
 * the overflow is counted. Every function runs under the live set's lock (allocs.c).
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/mman.h>

#include "allocs.h"
#include "tracer.h"

#define MAX_BUCKETS (1u << 20)
#define MAX_PCS (1u << 24) /* 128 MiB of frames at most */

static struct tr_alloc_bucket *buckets; /* [0] is the overflow bucket */
static uint32_t n_buckets, cap_buckets;
static uint32_t *index_slots; /* bucket ids by hash, 0 = empty; 2 x cap_buckets slots */
static uint64_t *pcs_pool;
static size_t n_pcs, cap_pcs;
static uint64_t overflowed;

static void *map(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* Moves `used` bytes of *area (of `old` bytes) into a fresh mapping of `new` bytes. */
static int remap(void **area, size_t used, size_t old, size_t new)
{
    void *p = map(new);
    if (!p)
        return -1;
    if (*area) {
        memcpy(p, *area, used);
        munmap(*area, old);
    }
    *area = p;
    return 0;
}

static uint64_t stack_hash(const uint64_t *pcs, size_t n, uint64_t size)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ size;
    for (size_t i = 0; i < n; i++)
        h = (h ^ pcs[i]) * 0xbf58476d1ce4e5b9ULL;
    return h ^ h >> 31;
}

static void index_insert(uint32_t id)
{
    uint32_t mask = 2 * cap_buckets - 1;
    for (uint32_t i = (uint32_t)buckets[id].hash & mask;; i = (i + 1) & mask) {
        if (!index_slots[i]) {
            index_slots[i] = id;
            return;
        }
    }
}

/* Room for one more bucket and n more frames. 0, or -1 when a limit or mmap says no. */
static int reserve(size_t n)
{
    if (n_buckets + 1 > cap_buckets) {
        uint32_t cap = cap_buckets ? cap_buckets * 2 : 1024;
        if (cap > MAX_BUCKETS)
            return -1;
        uint32_t *slots = map((size_t)2 * cap * sizeof(*slots));
        if (!slots || remap((void **)&buckets, n_buckets * sizeof(*buckets),
                            cap_buckets * sizeof(*buckets), cap * sizeof(*buckets)) != 0) {
            if (slots)
                munmap(slots, (size_t)2 * cap * sizeof(*slots));
            return -1;
        }
        if (index_slots)
            munmap(index_slots, (size_t)2 * cap_buckets * sizeof(*index_slots));
        index_slots = slots, cap_buckets = cap;
        for (uint32_t id = 1; id < n_buckets; id++)
            index_insert(id);
    }
    if (n_pcs + n > cap_pcs) {
        size_t cap = cap_pcs ? cap_pcs : 16384;
        while (cap < n_pcs + n)
            cap *= 2;
        if (cap > MAX_PCS || remap((void **)&pcs_pool, n_pcs * sizeof(*pcs_pool),
                                   cap_pcs * sizeof(*pcs_pool), cap * sizeof(*pcs_pool)) != 0)
            return -1;
        cap_pcs = cap;
    }
    return 0;
}

uint32_t tr_alloc_bucket_for(const uint64_t *pcs, size_t n, uint64_t size)
{
    if (!n_buckets) { /* the overflow bucket first */
        if (reserve(0) != 0)
            return UINT32_MAX;
        buckets[0] = (struct tr_alloc_bucket){0};
        n_buckets = 1;
    }
    uint64_t h = stack_hash(pcs, n, size);
    uint32_t mask = 2 * cap_buckets - 1;
    for (uint32_t i = (uint32_t)h & mask; index_slots[i]; i = (i + 1) & mask) {
        const struct tr_alloc_bucket *b = &buckets[index_slots[i]];
        if (b->hash == h && b->size == size && b->npcs == n &&
            memcmp(&pcs_pool[b->pcs_offset], pcs, n * sizeof(*pcs)) == 0)
            return index_slots[i];
    }
    if (reserve(n) != 0) {
        overflowed++;
        return 0;
    }
    uint32_t id = n_buckets++;
    memcpy(&pcs_pool[n_pcs], pcs, n * sizeof(*pcs));
    buckets[id] = (struct tr_alloc_bucket){.hash = h, .size = size, .npcs = (uint32_t)n,
                                           .pcs_offset = n_pcs};
    n_pcs += n;
    index_insert(id);
    return id;
}

struct tr_alloc_bucket *tr_alloc_bucket_at(uint32_t id)
{
    return id < n_buckets ? &buckets[id] : NULL;
}

size_t tr_alloc_buckets_view(const struct tr_alloc_bucket **b, const uint64_t **pcs)
{
    *b = buckets, *pcs = pcs_pool;
    return n_buckets;
}

void tr_alloc_buckets_usage(uint64_t *bytes, uint64_t *overflow)
{
    *bytes = (uint64_t)cap_buckets * (sizeof(*buckets) + 2 * sizeof(*index_slots)) +
             cap_pcs * sizeof(*pcs_pool);
    *overflow = overflowed;
}
