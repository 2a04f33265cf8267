/* SPDX-License-Identifier: MIT */
/*
 * Tables of stack buckets (stack_buckets.h): an array of buckets, an open-addressing index of
 * them by hash, and a pool of the frames of every bucket's stack, each in memory from mmap.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "stack_buckets.h"

#define MAX_BUCKETS (1u << 20)
#define MAX_PCS (1u << 24) /* 128 MiB of frames at most */

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

static uint64_t stack_hash(const uint64_t *pcs, size_t n, uint64_t key)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ key;
    for (size_t i = 0; i < n; i++)
        h = (h ^ pcs[i]) * 0xbf58476d1ce4e5b9ULL;
    return h ^ h >> 31;
}

static void index_insert(struct tr_buckets *t, uint32_t id)
{
    uint32_t mask = 2 * t->cap - 1;
    for (uint32_t i = (uint32_t)t->buckets[id].hash & mask;; i = (i + 1) & mask) {
        if (!t->index[i]) {
            t->index[i] = id;
            return;
        }
    }
}

/* Room for one more bucket and n more frames. 0, or -1 when a limit or mmap says no. */
static int reserve(struct tr_buckets *t, size_t n)
{
    if (t->n + 1 > t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 1024;
        if (cap > MAX_BUCKETS)
            return -1;
        uint32_t *index = map((size_t)2 * cap * sizeof(*index));
        if (!index || remap((void **)&t->buckets, t->n * sizeof(*t->buckets),
                            t->cap * sizeof(*t->buckets), cap * sizeof(*t->buckets)) != 0) {
            if (index)
                munmap(index, (size_t)2 * cap * sizeof(*index));
            return -1;
        }
        if (t->index)
            munmap(t->index, (size_t)2 * t->cap * sizeof(*t->index));
        t->index = index, t->cap = cap;
        for (uint32_t id = 1; id < t->n; id++)
            index_insert(t, id);
    }
    if (t->n_pcs + n > t->cap_pcs) {
        size_t cap = t->cap_pcs ? t->cap_pcs : 16384;
        while (cap < t->n_pcs + n)
            cap *= 2;
        if (cap > MAX_PCS || remap((void **)&t->pcs, t->n_pcs * sizeof(*t->pcs),
                                   t->cap_pcs * sizeof(*t->pcs), cap * sizeof(*t->pcs)) != 0)
            return -1;
        t->cap_pcs = cap;
    }
    return 0;
}

uint32_t tr_buckets_for(struct tr_buckets *t, const uint64_t *pcs, size_t n, uint64_t key)
{
    if (!t->n) { /* the overflow bucket first */
        if (reserve(t, 0) != 0)
            return UINT32_MAX;
        t->buckets[0] = (struct tr_bucket){0};
        t->n = 1;
    }
    uint64_t h = stack_hash(pcs, n, key);
    uint32_t mask = 2 * t->cap - 1;
    for (uint32_t i = (uint32_t)h & mask; t->index[i]; i = (i + 1) & mask) {
        const struct tr_bucket *b = &t->buckets[t->index[i]];
        if (b->hash == h && b->key == key && b->npcs == n &&
            (n == 0 || memcmp(&t->pcs[b->pcs_offset], pcs, n * sizeof(*pcs)) == 0))
            return t->index[i];
    }
    if (reserve(t, n) != 0) {
        t->overflowed++;
        return 0;
    }
    uint32_t id = t->n++;
    if (n) /* an empty stack (none captured) may come before the PC array exists */
        memcpy(&t->pcs[t->n_pcs], pcs, n * sizeof(*pcs));
    t->buckets[id] = (struct tr_bucket){.hash = h, .key = key, .npcs = (uint32_t)n,
                                        .pcs_offset = t->n_pcs};
    t->n_pcs += n;
    index_insert(t, id);
    return id;
}

struct tr_bucket *tr_buckets_at(struct tr_buckets *t, uint32_t id)
{
    return id < t->n ? &t->buckets[id] : NULL;
}

void tr_buckets_reset(struct tr_buckets *t)
{
    if (t->buckets)
        munmap(t->buckets, t->cap * sizeof(*t->buckets));
    if (t->index)
        munmap(t->index, (size_t)2 * t->cap * sizeof(*t->index));
    if (t->pcs)
        munmap(t->pcs, t->cap_pcs * sizeof(*t->pcs));
    *t = (struct tr_buckets)TR_BUCKETS_INIT;
}

uint64_t tr_buckets_bytes(const struct tr_buckets *t)
{
    return (uint64_t)t->cap * (sizeof(*t->buckets) + 2 * sizeof(*t->index)) +
           t->cap_pcs * sizeof(*t->pcs);
}

int tr_buckets_copy(const struct tr_buckets *t, struct tr_bucket_snapshot *out)
{
    memset(out, 0, sizeof(*out));
    out->buckets = t->n ? malloc(t->n * sizeof(*t->buckets)) : NULL;
    out->pcs = malloc((t->n_pcs ? t->n_pcs : 1) * sizeof(*t->pcs));
    if ((t->n && !out->buckets) || !out->pcs) {
        free(out->buckets);
        free(out->pcs);
        memset(out, 0, sizeof(*out));
        return -1;
    }
    if (t->n)
        memcpy(out->buckets, t->buckets, t->n * sizeof(*t->buckets));
    if (t->n_pcs)
        memcpy(out->pcs, t->pcs, t->n_pcs * sizeof(*t->pcs));
    out->n_buckets = t->n;
    out->table_bytes = tr_buckets_bytes(t);
    out->overflow = t->overflowed;
    return 0;
}

void tr_bucket_snapshot_free(struct tr_bucket_snapshot *s)
{
    free(s->buckets);
    free(s->pcs);
    memset(s, 0, sizeof(*s));
}
