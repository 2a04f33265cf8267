/* SPDX-License-Identifier: MIT */
/*
 * User-defined profiles (ltprof/ltprof.h: ltprof_profile_new and friends), like Go's
 * pprof.NewProfile: a named set of values, each added with the stack of the code that added
 * it, written as a count profile (sample type <name>/count, one sample per distinct stack)
 * through the in-process writer (profile_writer.c). Every profile lives until the
 * process ends, as in Go. One mutex guards the list and every profile's table.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"
#include "internal.h"
#include "ltprof/ltprof.h"
#include "pprof_builder.h"

#define FRAMES 64
#define MAX_NAME 128

struct entry {
    const void *value; /* NULL = empty slot (values are never NULL) */
    uint32_t npcs;
    uint64_t *pcs;
};

struct ltprof_profile {
    char name[MAX_NAME];
    struct entry *slots; /* open addressing, backward-shift deletion */
    size_t cap, count;
    struct ltprof_profile *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct ltprof_profile *profiles;

TR_HOLD_ACROSS_FORK(lock)

/* Go's own profiles: their names cannot be taken. */
static const char *const builtin[] = {"allocs", "block", "goroutine", "heap", "mutex",
                                      "threadcreate"};

int rt_is_go_profile(const char *name)
{
    for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
        if (strcmp(name, builtin[i]) == 0)
            return 1;
    return 0;
}

static struct ltprof_profile *find(const char *name)
{
    for (struct ltprof_profile *p = profiles; p; p = p->next)
        if (strcmp(p->name, name) == 0)
            return p;
    return NULL;
}

static size_t home(const struct ltprof_profile *p, const void *value)
{
    return (size_t)(((uintptr_t)value >> 3) * 0x9e3779b97f4a7c15ULL >> 20) & (p->cap - 1);
}

static struct entry *slot_of(struct ltprof_profile *p, const void *value)
{
    if (!p->cap)
        return NULL;
    for (size_t i = home(p, value);; i = (i + 1) & (p->cap - 1)) {
        if (p->slots[i].value == value)
            return &p->slots[i];
        if (!p->slots[i].value)
            return NULL;
    }
}

static int grow(struct ltprof_profile *p)
{
    size_t cap = p->cap ? p->cap * 2 : 64;
    struct entry *t = calloc(cap, sizeof(*t)), *old = p->slots;
    if (!t)
        return -1;
    size_t old_cap = p->cap;
    p->slots = t, p->cap = cap;
    for (size_t i = 0; i < old_cap; i++) {
        if (!old[i].value)
            continue;
        size_t j = home(p, old[i].value);
        while (t[j].value)
            j = (j + 1) & (cap - 1);
        t[j] = old[i];
    }
    free(old);
    return 0;
}

LTPROF_API ltprof_profile *ltprof_profile_new(const char *name)
{
    if (!name || !*name || strlen(name) >= MAX_NAME || rt_is_go_profile(name))
        return NULL;
    tr_guard_enter();
    pthread_mutex_lock(&lock);
    struct ltprof_profile *p = find(name) ? NULL : calloc(1, sizeof(*p));
    if (p) {
        memcpy(p->name, name, strlen(name) + 1); /* shorter than MAX_NAME, checked above */
        p->next = profiles;
        profiles = p;
    }
    pthread_mutex_unlock(&lock);
    tr_guard_leave();
    return p;
}

LTPROF_API ltprof_profile *ltprof_profile_lookup(const char *name)
{
    if (!name)
        return NULL;
    tr_guard_enter();
    pthread_mutex_lock(&lock);
    struct ltprof_profile *p = find(name);
    pthread_mutex_unlock(&lock);
    tr_guard_leave();
    return p;
}

LTPROF_API const char *ltprof_profile_name(const ltprof_profile *p)
{
    return p ? p->name : NULL;
}

LTPROF_API TR_TEXT __attribute__((noinline)) int ltprof_profile_add(ltprof_profile *p,
                                                                    const void *value, int skip)
{
    if (!p || !value || skip < 0)
        return LTPROF_ERR_INVALID;
    uint64_t pcs[FRAMES + 32];
    size_t n = tr_stack_capture_caller(pcs, FRAMES + 32);
    size_t drop = (size_t)skip < n ? (size_t)skip : n;
    n -= drop;
    if (n > FRAMES)
        n = FRAMES;
    int rc = LTPROF_OK;
    tr_guard_enter();
    int saved_errno = errno;
    uint64_t *copy = malloc((n ? n : 1) * sizeof(*copy));
    pthread_mutex_lock(&lock);
    if (!copy)
        rc = LTPROF_ERR_NOMEM; // NOLINT(bugprone-branch-clone): here or in grow() below
    else if (slot_of(p, value))
        rc = LTPROF_ERR_BUSY; /* Go panics: "adding duplicate value" */
    else if ((p->count + 1) * 2 > p->cap && grow(p) != 0)
        rc = LTPROF_ERR_NOMEM;
    if (rc == LTPROF_OK) {
        memcpy(copy, pcs + drop, n * sizeof(*copy));
        size_t i = home(p, value);
        while (p->slots[i].value)
            i = (i + 1) & (p->cap - 1);
        p->slots[i] = (struct entry){value, (uint32_t)n, copy};
        p->count++;
        copy = NULL;
    }
    pthread_mutex_unlock(&lock);
    free(copy);
    errno = saved_errno;
    tr_guard_leave();
    return rc;
}

LTPROF_API void ltprof_profile_remove(ltprof_profile *p, const void *value)
{
    if (!p || !value)
        return;
    tr_guard_enter();
    pthread_mutex_lock(&lock);
    struct entry *e = slot_of(p, value);
    if (e) {
        free(e->pcs);
        size_t mask = p->cap - 1, i = (size_t)(e - p->slots);
        for (size_t j = (i + 1) & mask; p->slots[j].value; j = (j + 1) & mask) {
            size_t h = home(p, p->slots[j].value);
            if ((j > i && (h <= i || h > j)) || (j < i && h <= i && h > j)) {
                p->slots[i] = p->slots[j];
                i = j;
            }
        }
        p->slots[i] = (struct entry){0};
        p->count--;
    }
    pthread_mutex_unlock(&lock);
    tr_guard_leave();
}

LTPROF_API size_t ltprof_profile_count(const ltprof_profile *p)
{
    if (!p)
        return 0;
    tr_guard_enter();
    pthread_mutex_lock(&lock);
    size_t n = p->count;
    pthread_mutex_unlock(&lock);
    tr_guard_leave();
    return n;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

LTPROF_API size_t ltprof_profiles(const char **names, size_t max)
{
    size_t n = 0;
    tr_guard_enter();
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++, n++)
        if (names && n < max)
            names[n] = builtin[i];
    for (struct ltprof_profile *p = profiles; p; p = p->next, n++)
        if (names && n < max)
            names[n] = p->name;
    pthread_mutex_unlock(&lock);
    tr_guard_leave();
    if (names)
        qsort(names, n < max ? n : max, sizeof(*names), by_name);
    return n;
}

/* Orders entries by stack, so equal stacks are neighbours. */
static int by_stack(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    if (x->npcs != y->npcs)
        return x->npcs < y->npcs ? -1 : 1;
    return memcmp(x->pcs, y->pcs, x->npcs * sizeof(*x->pcs));
}

int rt_custom_profile_write(const char *name, int fd, int debug)
{
    pthread_mutex_lock(&lock);
    struct ltprof_profile *p = find(name);
    struct entry *copy = NULL;
    size_t n = 0;
    int rc = p ? LTPROF_OK : LTPROF_ERR_NOT_FOUND;
    if (p && p->count && !(copy = calloc(p->count, sizeof(*copy))))
        rc = LTPROF_ERR_NOMEM;
    for (size_t i = 0; rc == LTPROF_OK && copy && i < p->cap; i++) { /* copy: count > 0 */
        if (!p->slots[i].value)
            continue;
        copy[n] = p->slots[i];
        copy[n].pcs = malloc((copy[n].npcs ? copy[n].npcs : 1) * sizeof(uint64_t));
        if (!copy[n].pcs) {
            rc = LTPROF_ERR_NOMEM;
            break;
        }
        memcpy(copy[n].pcs, p->slots[i].pcs, copy[n].npcs * sizeof(uint64_t));
        n++;
    }
    pthread_mutex_unlock(&lock);
    if (rc != LTPROF_OK) {
        for (size_t i = 0; i < n; i++)
            free(copy[i].pcs);
        free(copy);
        return rc;
    }
    if (n)
        qsort(copy, n, sizeof(*copy), by_stack);
    if (debug) { /* Go's count-profile text: "<name> profile: total N", records in stack order */
        struct rt_text t;
        rc = rt_text_open(&t, fd);
        if (rc == 0)
            rt_text_printf(&t, "%s profile: total %zu\n", name, n);
        for (size_t i = 0; rc == 0 && i < n;) {
            size_t j = i + 1;
            while (j < n && by_stack(&copy[i], &copy[j]) == 0)
                j++;
            rt_text_printf(&t, "%zu ", j - i);
            rt_text_stack(&t, copy[i].pcs, copy[i].npcs, 0, NULL);
            i = j;
        }
        rc = rt_text_finish(&t, rc);
        for (size_t i = 0; i < n; i++)
            free(copy[i].pcs);
        free(copy);
        return rc;
    }
    struct pprof_kind kind = {.name = name, .n_sample_types = 1};
    kind.sample_types[0] = (struct pprof_value_type){name, "count"};
    kind.period_type = kind.sample_types[0];
    struct rt_writer w;
    rc = rt_writer_open(&w, &kind, 1, NULL);
    for (size_t i = 0; rc == 0 && i < n;) {
        size_t j = i + 1;
        while (j < n && by_stack(&copy[i], &copy[j]) == 0)
            j++;
        int64_t count = (int64_t)(j - i);
        rc = rt_writer_sample(&w, copy[i].pcs, copy[i].npcs, 0, &count, NULL, 0);
        i = j;
    }
    rc = rt_writer_finish(&w, fd, rc);
    for (size_t i = 0; i < n; i++)
        free(copy[i].pcs);
    free(copy);
    return rc;
}
