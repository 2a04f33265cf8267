/* SPDX-License-Identifier: MIT */
/*
 * gotrace tables: the string and stack dictionaries of a Go execution trace (interned, written
 * at the end of the file) and the PC table that keeps every PC bound to one (function, file,
 * line), inventing fake PCs when needed. Also uvarint helpers. Memory comes from the converter's
 * allocation shim (cv_malloc, internal.h), whose test hook fails the Nth allocation.
 * Face: gotrace_writer.h; shared internals: gotrace_internal.h. Single-threaded.
 */
#include "gotrace_internal.h"

#include "ltprof/ltprof.h"

#include <stdlib.h>
#include <string.h>

int gt_buf_reserve(struct gt_buf *b, size_t extra)
{
    if (b->len + extra <= b->cap)
        return LTPROF_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra)
        cap *= 2;
    uint8_t *data = cv_realloc(b->data, cap);
    if (!data)
        return LTPROF_ERR_NOMEM;
    b->data = data;
    b->cap = cap;
    return LTPROF_OK;
}

size_t gt_uvarint_put(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

size_t gt_uvarint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* ---- open-addressing index over an entry array ------------------------------------------ */

/* Re-insert every entry's hash into a table at least twice as large as `count` + 1 entries (the
 * reserved stacks of gt_stack_reserve are not in the index, so `count` can have run far
 * ahead of it). */
static int index_grow(struct gt_index *ix, size_t count, const void *entries, size_t stride)
{
    size_t cap = ix->cap ? ix->cap * 2 : 64;
    while (cap < 2 * (count + 1))
        cap *= 2;
    uint32_t *slots = cv_malloc(cap * sizeof(*slots));
    if (!slots)
        return LTPROF_ERR_NOMEM;
    memset(slots, 0, cap * sizeof(*slots));
    for (size_t i = 0; i < count; i++) {
        /* every entry struct starts with its uint64_t hash */
        uint64_t h = *(const uint64_t *)((const char *)entries + i * stride);
        size_t s = h & (cap - 1);
        while (slots[s])
            s = (s + 1) & (cap - 1);
        slots[s] = (uint32_t)(i + 1);
    }
    free(ix->slots);
    ix->slots = slots;
    ix->cap = cap;
    return LTPROF_OK;
}

/* Grow an entry array of `*cap` elements so one more fits. */
static int array_grow(void **array, size_t *cap, size_t count, size_t elem)
{
    if (count < *cap)
        return LTPROF_OK;
    size_t ncap = *cap ? *cap * 2 : 64;
    void *p = cv_realloc(*array, ncap * elem);
    if (!p)
        return LTPROF_ERR_NOMEM;
    *array = p;
    *cap = ncap;
    return LTPROF_OK;
}

/* ---- strings ----------------------------------------------------------------------------- */

int gt_string_intern(struct gt_tables *t, const char *s, uint64_t *id, bool *truncated)
{
    *id = 0;
    *truncated = false;
    if (!s || !*s)
        return LTPROF_OK;
    size_t len = strlen(s);
    bool cut = len > GOTRACE_STRING_MAX_BYTES;
    if (cut) { /* keep the end, as the Go runtime does */
        s += len - GOTRACE_STRING_MAX_BYTES;
        len = GOTRACE_STRING_MAX_BYTES;
    }
    uint64_t h = cv_hash_bytes(s, len, 0);
    size_t slot = 0;
    if (t->string_index.cap) {
        for (slot = h & (t->string_index.cap - 1); t->string_index.slots[slot];
             slot = (slot + 1) & (t->string_index.cap - 1)) {
            const struct gt_string *e = &t->strings[t->string_index.slots[slot] - 1];
            if (e->hash == h && e->len == len && memcmp(e->data, s, len) == 0) {
                *id = t->string_index.slots[slot];
                return LTPROF_OK;
            }
        }
    }
    if (t->nstrings >= UINT32_MAX - 1)
        return LTPROF_ERR_INVALID;
    char *copy = cv_malloc(len);
    if (!copy)
        return LTPROF_ERR_NOMEM;
    memcpy(copy, s, len); // NOLINT(bugprone-not-null-terminated-result): kept with its length
    int rc = array_grow((void **)&t->strings, &t->strings_cap, t->nstrings, sizeof(*t->strings));
    if (rc == 0 && (t->nstrings + 1) * 2 > t->string_index.cap)
        rc = index_grow(&t->string_index, t->nstrings, t->strings, sizeof(*t->strings));
    if (rc) {
        free(copy);
        return rc;
    }
    t->strings[t->nstrings] = (struct gt_string){.hash = h, .data = copy, .len = len};
    t->nstrings++;
    *truncated = cut; /* counted once per distinct string */
    for (slot = h & (t->string_index.cap - 1); t->string_index.slots[slot];
         slot = (slot + 1) & (t->string_index.cap - 1))
        ;
    t->string_index.slots[slot] = (uint32_t)t->nstrings;
    *id = t->nstrings;
    return LTPROF_OK;
}

/* ---- PCs --------------------------------------------------------------------------------- */

static struct gt_pc *pc_slot(const struct gt_tables *t, uint64_t pc)
{
    uint64_t h = cv_hash_bytes(&pc, sizeof(pc), 1);
    size_t s = h & (t->pcs_cap - 1);
    while (t->pcs[s].pc && t->pcs[s].pc != pc)
        s = (s + 1) & (t->pcs_cap - 1);
    return &t->pcs[s];
}

static int pcs_grow(struct gt_tables *t)
{
    size_t cap = t->pcs_cap ? t->pcs_cap * 2 : 256;
    struct gt_pc *old = t->pcs;
    size_t old_cap = t->pcs_cap;
    struct gt_pc *pcs = cv_malloc(cap * sizeof(*pcs));
    if (!pcs)
        return LTPROF_ERR_NOMEM;
    memset(pcs, 0, cap * sizeof(*pcs));
    t->pcs = pcs;
    t->pcs_cap = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].pc)
            *pc_slot(t, old[i].pc) = old[i];
    free(old);
    return LTPROF_OK;
}

#define FAKE_PC_BASE (1ULL << 47)
#define FAKE_PC_MASK (FAKE_PC_BASE - 1)

/*
 * Bind `pc` to (fn, file, line) and return the PC to write in *out: `pc` itself when it is
 * nonzero and free or already bound to the same frame, else a fake PC in [2^47, 2^48) derived
 * from the frame's hash (probing until a free or same-frame PC is found).
 */
static int pc_resolve(struct gt_tables *t, uint64_t pc, uint64_t fn, uint64_t file,
                      uint64_t line, uint64_t *out, bool *fake)
{
    if ((t->npcs + 1) * 2 > t->pcs_cap) {
        int rc = pcs_grow(t);
        if (rc)
            return rc;
    }
    uint64_t key[3] = {fn, file, line};
    uint64_t step = (cv_hash_bytes(key, sizeof(key), 3) | 1) & FAKE_PC_MASK;
    uint64_t cand = pc;
    *fake = (pc == 0);
    if (pc == 0)
        cand = FAKE_PC_BASE | (cv_hash_bytes(key, sizeof(key), 2) & FAKE_PC_MASK);
    for (;;) {
        struct gt_pc *e = pc_slot(t, cand);
        if (!e->pc) {
            *e = (struct gt_pc){.pc = cand, .fn = fn, .file = file, .line = line};
            t->npcs++;
            break;
        }
        if (e->fn == fn && e->file == file && e->line == line)
            break;
        /* taken by another frame: move on in the fake range */
        if (!*fake) {
            *fake = true;
            cand = FAKE_PC_BASE | (cv_hash_bytes(key, sizeof(key), 2) & FAKE_PC_MASK);
        } else {
            cand = FAKE_PC_BASE | ((cand + step) & FAKE_PC_MASK);
        }
    }
    *out = cand;
    return LTPROF_OK;
}

/* ---- stacks ------------------------------------------------------------------------------ */

/* Room for the id (≤ 5 bytes: ids < 2^32) and n (≤ 2 bytes: n ≤ 128) inside 2048 bytes. */
#define FRAMES_BUDGET (GOTRACE_STACK_MAX_BYTES - 5 - 2)

/* The EvStack body of frames (count, then pc, fn, file, line each) into enc (*len bytes). */
static int encode_stack(struct gt_tables *t, const struct gotrace_frame *frames, size_t n,
                        uint8_t *enc, size_t *len, size_t *kept, uint64_t *fake)
{
    uint8_t fb[FRAMES_BUDGET]; /* encoded frames */
    size_t used = 0, count = 0;
    int rc;
    bool trunc;

    *fake = 0;
    if (n > GOTRACE_STACK_MAX_FRAMES)
        n = GOTRACE_STACK_MAX_FRAMES;
    for (; count < n; count++) {
        const struct gotrace_frame *f = &frames[count];
        uint64_t fn, file, pc;
        bool faked;
        uint8_t one[40];
        if ((rc = gt_string_intern(t, f->function, &fn, &trunc)) ||
            (rc = gt_string_intern(t, f->file, &file, &trunc)))
            return rc;
        if ((rc = pc_resolve(t, f->pc, fn, file, f->line, &pc, &faked)))
            return rc;
        size_t flen = gt_uvarint_put(one, pc);
        flen += gt_uvarint_put(one + flen, fn);
        flen += gt_uvarint_put(one + flen, file);
        flen += gt_uvarint_put(one + flen, f->line);
        if (used + flen > FRAMES_BUDGET)
            break;
        memcpy(fb + used, one, flen);
        used += flen;
        *fake += faked;
    }
    *kept = count;
    *len = gt_uvarint_put(enc, count);
    memcpy(enc + *len, fb, used);
    *len += used;
    return LTPROF_OK;
}

int gt_stack_intern(struct gt_tables *t, const struct gotrace_frame *frames, size_t n,
                    uint64_t *id, size_t *kept, uint64_t *fake)
{
    uint8_t enc[2 + FRAMES_BUDGET];
    size_t len, slot;
    *id = 0;
    int rc = encode_stack(t, frames, n, enc, &len, kept, fake);
    if (rc || *kept == 0)
        return rc;

    uint64_t h = cv_hash_bytes(enc, len, 7);
    if (t->stack_index.cap) {
        for (slot = h & (t->stack_index.cap - 1); t->stack_index.slots[slot];
             slot = (slot + 1) & (t->stack_index.cap - 1)) {
            const struct gt_stack *e = &t->stacks[t->stack_index.slots[slot] - 1];
            if (e->hash == h && e->len == len && memcmp(e->enc, enc, len) == 0) {
                *id = t->stack_index.slots[slot];
                return LTPROF_OK;
            }
        }
    }
    if (t->nstacks >= UINT32_MAX - 1)
        return LTPROF_ERR_INVALID;
    uint8_t *copy = cv_malloc(len);
    if (!copy)
        return LTPROF_ERR_NOMEM;
    memcpy(copy, enc, len);
    rc = array_grow((void **)&t->stacks, &t->stacks_cap, t->nstacks, sizeof(*t->stacks));
    if (rc == 0 && (t->nstacks + 1) * 2 > t->stack_index.cap)
        rc = index_grow(&t->stack_index, t->nstacks, t->stacks, sizeof(*t->stacks));
    if (rc) {
        free(copy);
        return rc;
    }
    t->stacks[t->nstacks] = (struct gt_stack){.hash = h, .enc = copy, .len = len};
    t->nstacks++;
    for (slot = h & (t->stack_index.cap - 1); t->stack_index.slots[slot];
         slot = (slot + 1) & (t->stack_index.cap - 1))
        ;
    t->stack_index.slots[slot] = (uint32_t)t->nstacks;
    *id = t->nstacks;
    return LTPROF_OK;
}

int gt_stack_reserve(struct gt_tables *t, uint64_t *id)
{
    *id = 0;
    if (t->nstacks >= UINT32_MAX - 1)
        return LTPROF_ERR_INVALID;
    int rc = array_grow((void **)&t->stacks, &t->stacks_cap, t->nstacks, sizeof(*t->stacks));
    if (rc)
        return rc;
    t->stacks[t->nstacks++] = (struct gt_stack){0, NULL, 0};
    *id = t->nstacks;
    return LTPROF_OK;
}

int gt_stack_fill(struct gt_tables *t, uint64_t id, const struct gotrace_frame *frames, size_t n,
                  size_t *kept, uint64_t *fake)
{
    uint8_t enc[2 + FRAMES_BUDGET];
    size_t len;
    if (id == 0 || id > t->nstacks || t->stacks[id - 1].enc)
        return LTPROF_ERR_INVALID;
    int rc = encode_stack(t, frames, n, enc, &len, kept, fake);
    uint8_t *copy = rc ? NULL : cv_malloc(len);
    if (rc || !copy)
        return rc ? rc : LTPROF_ERR_NOMEM;
    memcpy(copy, enc, len);
    t->stacks[id - 1] = (struct gt_stack){cv_hash_bytes(enc, len, 7), copy, len};
    return LTPROF_OK;
}

/* ---- output and cleanup ------------------------------------------------------------------ */

static int table_record(struct gt_buf *out, const uint8_t *head, size_t head_len,
                        const void *body, size_t body_len,
                        int (*flush)(void *ctx, struct gt_buf *out), void *ctx)
{
    int rc;
    if (out->len + head_len + body_len > GOTRACE_BATCH_BYTES && (rc = flush(ctx, out)))
        return rc;
    if ((rc = gt_buf_reserve(out, head_len + body_len)))
        return rc;
    memcpy(out->data + out->len, head, head_len);
    memcpy(out->data + out->len + head_len, body, body_len);
    out->len += head_len + body_len;
    return LTPROF_OK;
}

int gt_tables_write(const struct gt_tables *t, struct gt_buf *out,
                    int (*flush)(void *ctx, struct gt_buf *out), void *ctx)
{
    uint8_t head[32];
    size_t n;
    int rc;
    for (size_t i = 0; i < t->nstrings; i++) {
        head[0] = 37; /* EvString: id, len, bytes */
        n = 1 + gt_uvarint_put(head + 1, i + 1);
        n += gt_uvarint_put(head + n, t->strings[i].len);
        if ((rc = table_record(out, head, n, t->strings[i].data, t->strings[i].len, flush, ctx)))
            return rc;
    }
    static const uint8_t no_frames[1] = {0}; /* a reserved stack never filled */
    for (size_t i = 0; i < t->nstacks; i++) {
        const uint8_t *body = t->stacks[i].enc ? t->stacks[i].enc : no_frames;
        size_t body_len = t->stacks[i].enc ? t->stacks[i].len : 1;
        head[0] = 3 | 0xc0; /* EvStack, always length-prefixed: L, id, n, frames */
        n = 1 + gt_uvarint_put(head + 1, gt_uvarint_len(i + 1) + body_len);
        n += gt_uvarint_put(head + n, i + 1);
        if ((rc = table_record(out, head, n, body, body_len, flush, ctx)))
            return rc;
    }
    return LTPROF_OK;
}

void gt_tables_fini(struct gt_tables *t)
{
    for (size_t i = 0; i < t->nstrings; i++)
        free(t->strings[i].data);
    for (size_t i = 0; i < t->nstacks; i++)
        free(t->stacks[i].enc);
    free(t->strings);
    free(t->string_index.slots);
    free(t->stacks);
    free(t->stack_index.slots);
    free(t->pcs);
    memset(t, 0, sizeof(*t));
}
