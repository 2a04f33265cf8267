/* SPDX-License-Identifier: MIT */
/*
 * Thread labels (tracer.h: tr_labels_*), like Go's pprof.Do: each thread has a current label
 * set, an id into a table of immutable sets; pushing a key/value makes (or finds) the set with
 * that pair added (a key's value replaced) and pops restore the one before. Sets are never
 * freed, so the SIGPROF handler and the allocation sampler read the id from thread-local
 * storage and writers look the set up later without a lock. At most TR_MAX_LABEL_SETS distinct
 * sets for the process's life.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"
#include "ltprof_tp.h"
#include "sampler-internal.h"
#include "tracer.h"

#define MAX_DEPTH 32

__thread uint32_t tr_tls_labels __attribute__((tls_model("initial-exec")));
static __thread uint16_t saved[MAX_DEPTH] __attribute__((tls_model("initial-exec")));
static __thread uint32_t depth __attribute__((tls_model("initial-exec")));

static struct tr_label_set *_Atomic sets[TR_MAX_LABEL_SETS]; /* [0]: no labels */
/* The announce epoch (tr_samp.epoch + 1) at which each set's ltprof:label_set was emitted. */
static _Atomic uint32_t announced[TR_MAX_LABEL_SETS];
static uint32_t n_sets = 1;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

const struct tr_label_set *tr_label_set_get(uint32_t id)
{
    return id && id < TR_MAX_LABEL_SETS ? atomic_load_explicit(&sets[id], memory_order_acquire)
                                        : NULL;
}

static int same(const struct tr_label_set *s, const char *const *keys, const char *const *values,
                uint32_t n)
{
    if (s->n != n)
        return 0;
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(s->keys[i], keys[i]) != 0 || strcmp(s->values[i], values[i]) != 0)
            return 0;
    return 1;
}

/* The id of the set of these pairs (sorted by key), made if new; 0 when the table is full or
 * memory is short. Under the lock. */
static uint32_t intern(const char *const *keys, const char *const *values, uint32_t n)
{
    for (uint32_t id = 1; id < n_sets; id++)
        if (same(sets[id], keys, values, n))
            return id;
    if (n_sets == TR_MAX_LABEL_SETS)
        return 0;
    struct tr_label_set *s = calloc(1, sizeof(*s));
    if (!s)
        return 0;
    s->n = n;
    for (uint32_t i = 0; i < n; i++) {
        s->keys[i] = strdup(keys[i]);
        s->values[i] = strdup(values[i]);
        if (!s->keys[i] || !s->values[i]) {
            for (uint32_t j = 0; j <= i; j++)
                free((void *)s->keys[j]), free((void *)s->values[j]);
            free(s);
            return 0;
        }
    }
    atomic_store_explicit(&sets[n_sets], s, memory_order_release);
    return n_sets++;
}

/* Appends `text` at out[*n], up to `size` - 1 bytes in all. */
static void put(char *out, size_t *n, size_t size, const char *text)
{
    while (*text && *n + 1 < size)
        out[(*n)++] = *text++;
}

void tr_labels_announce(uint32_t id)
{
    if (!id || id >= TR_MAX_LABEL_SETS || !lttng_ust_tracepoint_enabled(ltprof, label_set))
        return;
    uint32_t epoch = atomic_load_explicit(&tr_samp.epoch, memory_order_relaxed) + 1;
    if (atomic_load_explicit(&announced[id], memory_order_relaxed) == epoch)
        return;
    const struct tr_label_set *s = atomic_load_explicit(&sets[id], memory_order_acquire);
    if (!s)
        return;
    char pairs[1024]; /* on the stack: this runs in the SIGPROF handler too */
    size_t n = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        if (i)
            put(pairs, &n, sizeof(pairs), "\x1e");
        put(pairs, &n, sizeof(pairs), s->keys[i]);
        put(pairs, &n, sizeof(pairs), "\x1f");
        put(pairs, &n, sizeof(pairs), s->values[i]);
    }
    pairs[n] = '\0';
    lttng_ust_tracepoint(ltprof, label_set, id, pairs);
    atomic_store_explicit(&announced[id], epoch, memory_order_relaxed);
}

int tr_labels_push(const char *key, const char *value)
{
    if (!key || !*key || !value || depth == MAX_DEPTH)
        return LTPROF_ERR_INVALID;
    const struct tr_label_set *cur = tr_label_set_get(tr_tls_labels);
    const char *keys[TR_MAX_LABELS], *values[TR_MAX_LABELS];
    uint32_t n = 0;
    int placed = 0;
    for (uint32_t i = 0; cur && i < cur->n; i++) { /* merge, sorted by key */
        int c = strcmp(cur->keys[i], key);
        if (!placed && c >= 0) {
            keys[n] = key, values[n++] = value, placed = 1;
            if (c == 0)
                continue; /* replaced */
        }
        if (n == TR_MAX_LABELS)
            return LTPROF_ERR_INVALID;
        keys[n] = cur->keys[i], values[n++] = cur->values[i];
    }
    if (!placed) {
        if (n == TR_MAX_LABELS)
            return LTPROF_ERR_INVALID;
        keys[n] = key, values[n++] = value;
    }
    tr_guard_enter(); /* our allocations are not the program's */
    pthread_mutex_lock(&lock);
    uint32_t id = intern(keys, values, n);
    pthread_mutex_unlock(&lock);
    tr_guard_leave();
    if (!id)
        return LTPROF_ERR_NOMEM;
    saved[depth++] = (uint16_t)tr_tls_labels;
    __atomic_store_n(&tr_tls_labels, id, __ATOMIC_RELAXED);
    return LTPROF_OK;
}

TR_HOLD_ACROSS_FORK(lock)

void tr_labels_pop(void)
{
    if (depth)
        __atomic_store_n(&tr_tls_labels, saved[--depth], __ATOMIC_RELAXED);
}

const char *tr_label_value(const char *key)
{
    const struct tr_label_set *s = tr_label_set_get(tr_tls_labels);
    for (uint32_t i = 0; s && key && i < s->n; i++)
        if (strcmp(s->keys[i], key) == 0)
            return s->values[i];
    return NULL;
}
