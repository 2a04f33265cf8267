/* SPDX-License-Identifier: MIT */
/*
 * Small containers for the converter (converter/internal.h): the allocation shim with its
 * fault-injection hook, a growable array and an open-addressing index of positions into it,
 * so aggregation stays O(1) per event.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

long cv_alloc_fail_countdown;
long cv_alloc_count;

/* True when the test hook says this allocation must fail. */
static bool alloc_fails(void)
{
    cv_alloc_count++;
    return cv_alloc_fail_countdown > 0 && --cv_alloc_fail_countdown == 0;
}

void *cv_malloc(size_t size)
{
    return alloc_fails() ? NULL : malloc(size);
}

void *cv_calloc(size_t n, size_t size)
{
    return alloc_fails() ? NULL : calloc(n, size);
}

void *cv_realloc(void *p, size_t size)
{
    return alloc_fails() ? NULL : realloc(p, size);
}

char *cv_strdup(const char *s)
{
    return alloc_fails() ? NULL : strdup(s);
}

char *cv_strndup(const char *s, size_t n)
{
    return alloc_fails() ? NULL : strndup(s, n);
}

void cv_vec_init(struct cv_vec *v, size_t elem)
{
    v->items = NULL;
    v->len = v->cap = 0;
    v->elem = elem;
}

void cv_vec_fini(struct cv_vec *v)
{
    free(v->items);
    v->items = NULL;
    v->len = v->cap = 0;
}

static int vec_reserve(struct cv_vec *v, size_t extra)
{
    if (v->len + extra <= v->cap)
        return 0;
    if (extra > SIZE_MAX / 2 / v->elem - v->len)
        return -1; /* no doubling below could hold it */
    size_t cap = v->cap ? v->cap : 16;
    while (cap < v->len + extra)
        cap *= 2;
    void *items = cv_realloc(v->items, cap * v->elem);
    if (!items)
        return -1;
    v->items = items;
    v->cap = cap;
    return 0;
}

void *cv_vec_push(struct cv_vec *v)
{
    if (vec_reserve(v, 1) != 0)
        return NULL;
    void *item = (char *)v->items + v->len * v->elem;
    memset(item, 0, v->elem);
    v->len++;
    return item;
}

void *cv_vec_grow(struct cv_vec *v, size_t n)
{
    if (vec_reserve(v, n) != 0)
        return NULL;
    void *first = (char *)v->items + v->len * v->elem;
    v->len += n;
    return first;
}

size_t cv_vec_append(struct cv_vec *v, const void *src, size_t n)
{
    if (vec_reserve(v, n) != 0)
        return SIZE_MAX;
    size_t at = v->len;
    if (n)
        memcpy((char *)v->items + at * v->elem, src, n * v->elem);
    v->len += n;
    return at;
}

void cv_index_fini(struct cv_index *ix)
{
    free(ix->slots);
    ix->slots = NULL;
    ix->cap = ix->used = 0;
}

/* A slot: the hash's upper half as a tag (most mismatches fail on it, without `eq`), and the
 * position + 1 (0 = empty). */
#define SLOT(hash, pos) ((hash) >> 32 << 32 | (uint64_t)((pos) + 1))
#define SLOT_POS(s) ((size_t)((s)&0xffffffffu) - 1)
#define SLOT_TAG(s) ((s) >> 32)

size_t cv_index_find(const struct cv_index *ix, uint64_t hash,
                     bool (*eq)(const void *ctx, size_t pos), const void *ctx)
{
    if (!ix->cap)
        return SIZE_MAX;
    for (size_t i = hash & (ix->cap - 1);; i = (i + 1) & (ix->cap - 1)) {
        uint64_t s = ix->slots[i];
        if (s == 0)
            return SIZE_MAX;
        if (SLOT_TAG(s) == hash >> 32 && eq(ctx, SLOT_POS(s)))
            return SLOT_POS(s);
    }
}

static void index_put(uint64_t *slots, size_t cap, uint64_t hash, size_t pos)
{
    size_t i = hash & (cap - 1);
    while (slots[i] != 0)
        i = (i + 1) & (cap - 1);
    slots[i] = SLOT(hash, pos);
}

int cv_index_insert(struct cv_index *ix, uint64_t hash, size_t pos,
                    uint64_t (*hash_of)(const void *ctx, size_t pos), const void *ctx)
{
    if (pos >= UINT32_MAX - 1)
        return LTPROF_ERR_NOMEM;
    /* Keep the load factor under 1/2 so probe chains stay short. */
    if ((ix->used + 1) * 2 > ix->cap) {
        size_t cap = ix->cap ? ix->cap * 2 : 64;
        uint64_t *slots = cv_calloc(cap, sizeof(*slots));
        if (!slots)
            return LTPROF_ERR_NOMEM;
        for (size_t i = 0; i < ix->cap; i++)
            if (ix->slots[i])
                index_put(slots, cap, hash_of(ctx, SLOT_POS(ix->slots[i])),
                          SLOT_POS(ix->slots[i]));
        free(ix->slots);
        ix->slots = slots;
        ix->cap = cap;
    }
    index_put(ix->slots, ix->cap, hash, pos);
    ix->used++;
    return 0;
}

/* Eight bytes at a time, each word multiplied in, murmur3's finalizer at the end: stacks of
 * addresses and short strings hash with few operations per byte. */
uint64_t cv_hash_bytes(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = (seed + 0x9e3779b97f4a7c15ULL) ^ (len * 0xbf58476d1ce4e5b9ULL);
    for (; len >= 8; p += 8, len -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h ^= w * 0x94d049bb133111ebULL;
        h = (h << 27 | h >> 37) * 0x9e3779b97f4a7c15ULL;
    }
    if (len) {
        uint64_t w = 0;
        memcpy(&w, p, len);
        h ^= w * 0x94d049bb133111ebULL;
        h = (h << 27 | h >> 37) * 0x9e3779b97f4a7c15ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

uint64_t cv_hash_pair(uint64_t a, uint64_t b, uint64_t seed)
{
    uint64_t h = (a + seed * 0x9e3779b97f4a7c15ULL) * 0xbf58476d1ce4e5b9ULL;
    h = (h ^ (h >> 31) ^ b) * 0x94d049bb133111ebULL;
    h ^= h >> 29;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 32;
    return h;
}

int cv_error(struct ltprof_error *err, int status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
    }
    return status;
}

const char *cv_status_text(int status)
{
    switch (status) {
    case LTPROF_OK: return "success";
    case LTPROF_ERR_NOMEM: return "out of memory";
    case LTPROF_ERR_INVALID: return "invalid input";
    case LTPROF_ERR_IO: return "input/output error";
    case LTPROF_ERR_BUSY: return "busy";
    case LTPROF_ERR_UNSUPPORTED: return "unsupported";
    case LTPROF_ERR_NOT_FOUND: return "not found";
    }
    return "unknown error";
}
