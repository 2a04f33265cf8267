/* SPDX-License-Identifier: MIT */
/*
 * The stacks of the execution trace: each distinct (process, PCs) is interned once and named by
 * a small id, which outputs map to their own form (a gotrace stack, a JSON array of frames).
 * Symbolization expands inline chains through the process's symbolizer (proc_sym.c).
 * Face: converter/timeline.h (cv_stack_*). Memory: the distinct stacks and their PCs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "sym.h"
#include "timeline.h"

struct stack_key {
    const struct cv_stacks *t;
    int64_t pid;
    const uint64_t *pcs;
    uint32_t n;
    bool exact_leaf;
};

static uint64_t stack_hash(int64_t pid, const uint64_t *pcs, uint32_t n, bool exact_leaf)
{
    uint64_t seed = (uint64_t)pid * 0x9e3779b97f4a7c15ULL ^ (exact_leaf ? 0x5bd1e995u : 0);
    return cv_hash_bytes(pcs, n * sizeof(*pcs), seed);
}

static bool stack_eq(const void *ctx, size_t pos)
{
    const struct stack_key *k = ctx;
    const struct cv_stack *s = CV_VEC_AT(&k->t->stacks, struct cv_stack, pos);
    return s->pid == k->pid && s->n == k->n && s->exact_leaf == k->exact_leaf &&
           memcmp(CV_VEC_AT(&k->t->pcs, uint64_t, s->pcs_offset), k->pcs,
                  k->n * sizeof(*k->pcs)) == 0;
}

static uint64_t stack_rehash(const void *ctx, size_t pos)
{
    return CV_VEC_AT(&((const struct cv_stacks *)ctx)->stacks, struct cv_stack, pos)->hash;
}

void cv_stacks_init(struct cv_stacks *t)
{
    memset(t, 0, sizeof(*t));
    cv_vec_init(&t->stacks, sizeof(struct cv_stack));
    cv_vec_init(&t->pcs, sizeof(uint64_t));
}

void cv_stacks_fini(struct cv_stacks *t)
{
    cv_vec_fini(&t->stacks);
    cv_vec_fini(&t->pcs);
    cv_index_fini(&t->index);
}

int cv_stack_intern(struct cv_stacks *t, int64_t pid, const uint64_t *pcs, uint32_t n,
                    bool exact_leaf, uint32_t *id)
{
    *id = 0;
    if (n == 0)
        return 0;
    if (n > CV_MAX_FRAMES)
        n = CV_MAX_FRAMES;
    struct stack_key k = {t, pid, pcs, n, exact_leaf};
    uint64_t h = stack_hash(pid, pcs, n, exact_leaf);
    size_t pos = cv_index_find(&t->index, h, stack_eq, &k);
    if (pos == SIZE_MAX) {
        size_t off = cv_vec_append(&t->pcs, pcs, n);
        struct cv_stack *s = off == SIZE_MAX ? NULL : cv_vec_push(&t->stacks);
        if (!s)
            return LTPROF_ERR_NOMEM;
        s->hash = h;
        s->pid = pid;
        s->n = n;
        s->exact_leaf = exact_leaf;
        s->pcs_offset = off;
        pos = t->stacks.len - 1;
        if (cv_index_insert(&t->index, h, pos, stack_rehash, t) != 0) {
            t->stacks.len--;
            return LTPROF_ERR_NOMEM;
        }
    }
    *id = (uint32_t)pos + 1;
    return 0;
}

struct cv_stack *cv_stack_get(struct cv_stacks *t, uint32_t id)
{
    return id && id <= t->stacks.len ? CV_VEC_AT(&t->stacks, struct cv_stack, id - 1) : NULL;
}

const uint64_t *cv_stack_pcs(const struct cv_stacks *t, const struct cv_stack *s)
{
    return CV_VEC_AT(&t->pcs, uint64_t, s->pcs_offset);
}

/* The name of an address nobody could symbolize: the module's file name and offset, else the
 * address itself. */
static void unknown_name(const struct cv_process *p, uint64_t addr, char *buf, size_t size)
{
    size_t i;
    if (p && cv_proc_sym_module(p, addr, &i)) {
        const char *path = p->modules[i].path, *base = strrchr(path, '/');
        snprintf(buf, size, "%s+0x%llx", base ? base + 1 : path,
                 (unsigned long long)(addr - p->modules[i].baddr));
    } else {
        snprintf(buf, size, "0x%llx", (unsigned long long)addr);
    }
}

/* Symbolizes the first `limit` PCs of `s`. */
static int symbolize(struct cv_state *st, const struct cv_stack *s, uint32_t limit,
                     struct cv_symbolized *out)
{
    struct cv_process *p = cv_state_process(st, s->pid);
    const uint64_t *pcs = cv_stack_pcs(&st->stacks, s);
    out->n = 0;
    if (!p || cv_proc_sym_sync(p) != 0)
        return LTPROF_ERR_NOMEM;
    for (uint32_t i = 0; i < s->n && i < limit && out->n < CV_MAX_SYM_FRAMES; i++) {
        uint64_t addr = (i == 0 && s->exact_leaf) ? pcs[i] : pcs[i] - 1;
        struct sym_frame frames[CV_MAX_INLINE];
        struct sym_module *mod = cv_proc_sym_module(p, addr, NULL);
        size_t k = mod ? sym_lookup(p->sym, mod, addr, frames, CV_MAX_INLINE) : 0;
        if (k == 0) {
            struct cv_frame *f = &out->frames[out->n];
            unknown_name(p, addr, out->names[out->n], sizeof(out->names[0]));
            *f = (struct cv_frame){pcs[i], out->names[out->n], NULL, 0};
            out->n++;
            continue;
        }
        for (size_t j = 0; j < k && out->n < CV_MAX_SYM_FRAMES; j++) {
            const char *fn = frames[j].function;
            if (!fn) {
                unknown_name(p, addr, out->names[out->n], sizeof(out->names[0]));
                fn = out->names[out->n];
            }
            out->frames[out->n++] = (struct cv_frame){pcs[i], fn, frames[j].file, frames[j].line};
        }
    }
    return 0;
}

int cv_stack_symbolize(struct cv_state *st, const struct cv_stack *s, struct cv_symbolized *out)
{
    return symbolize(st, s, UINT32_MAX, out);
}

int cv_stack_symbolize_leaf(struct cv_state *st, const struct cv_stack *s,
                            struct cv_symbolized *out)
{
    return symbolize(st, s, 1, out);
}
