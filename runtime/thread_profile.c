/* SPDX-License-Identifier: MIT */
/*
 * The thread profile, our "goroutine" (ltprof_profile_write("goroutine", ...)): the current
 * stack of every thread (tracer/thread_dump.c), grouped by identical stack, thread name and
 * state, with sample type goroutine/count so pprof tools read it as Go's, the labels thread and
 * state; debug=1 in Go's text (groups with a "# labels:" line), debug=2 one entry per thread
 * like a Go panic dump: tid, name, state, how long it has waited, the symbolized stack.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "ltprof/ltprof.h"
#include "pprof_builder.h"

typedef struct tr_thread_dump_entry entry;

/* Orders by stack, then name and state, so each group is a run. */
static int by_group(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? -1 : 1;
    if (x->exact_leaf != y->exact_leaf)
        return x->exact_leaf - y->exact_leaf;
    int c = memcmp(x->pcs, y->pcs, x->n * sizeof(*x->pcs));
    if (c)
        return c;
    c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->state, y->state);
}

static size_t run_end(const entry *t, size_t n, size_t i)
{
    size_t j = i + 1;
    while (j < n && by_group(&t[i], &t[j]) == 0)
        j++;
    return j;
}

struct group {
    size_t first, count;
};

static int by_count_desc(const void *a, const void *b)
{
    const struct group *x = a, *y = b;
    return x->count != y->count ? (x->count > y->count ? -1 : 1) : (x->first > y->first) - (x->first < y->first);
}

int rt_thread_profile_write(int fd, int debug)
{
    struct tr_thread_dump d;
    if (tr_thread_dump(&d) != 0)
        return LTPROF_ERR_NOMEM;
    int rc = 0;
    if (debug >= 2) { /* every thread, as a Go panic dump lists goroutines */
        struct rt_text t;
        rc = rt_text_open(&t, fd);
        for (size_t i = 0; rc == 0 && i < d.n; i++) {
            const entry *e = &d.threads[i];
            uint64_t minutes = e->waiting_ns / 60000000000ull;
            if (minutes)
                rt_text_printf(&t, "thread %u \"%s\" [%s, %llu minutes]:\n", e->tid, e->name,
                               e->state, (unsigned long long)minutes);
            else
                rt_text_printf(&t, "thread %u \"%s\" [%s]:\n", e->tid, e->name, e->state);
            rt_text_panic_stack(&t, e->pcs, e->n, e->exact_leaf);
        }
        rc = rt_text_finish(&t, rc);
        tr_thread_dump_free(&d);
        return rc;
    }
    qsort(d.threads, d.n, sizeof(*d.threads), by_group);
    struct group *groups = calloc(d.n ? d.n : 1, sizeof(*groups));
    size_t n_groups = 0;
    if (!groups)
        rc = LTPROF_ERR_NOMEM;
    for (size_t i = 0; rc == 0 && i < d.n;) {
        size_t j = run_end(d.threads, d.n, i);
        groups[n_groups++] = (struct group){i, j - i};
        i = j;
    }
    if (rc == 0)
        qsort(groups, n_groups, sizeof(*groups), by_count_desc);
    if (rc == 0 && debug == 1) {
        struct rt_text t;
        rc = rt_text_open(&t, fd);
        if (rc == 0)
            rt_text_printf(&t, "goroutine profile: total %zu\n", d.n);
        for (size_t g = 0; rc == 0 && g < n_groups; g++) {
            const entry *e = &d.threads[groups[g].first];
            char labels[128];
            snprintf(labels, sizeof(labels), "# labels: {\"state\":\"%s\", \"thread\":\"%s\"}",
                     e->state, e->name);
            rt_text_printf(&t, "%zu ", groups[g].count);
            rt_text_stack(&t, e->pcs, e->n, e->exact_leaf, labels);
        }
        rc = rt_text_finish(&t, rc);
    } else if (rc == 0) {
        struct rt_writer w;
        rc = rt_writer_open(&w, pprof_kind_lookup("goroutine"), 1, NULL);
        for (size_t g = 0; rc == 0 && g < n_groups; g++) {
            const entry *e = &d.threads[groups[g].first];
            int64_t count = (int64_t)groups[g].count;
            struct pprof_label labels[2] = {{.key = "thread", .str = e->name},
                                            {.key = "state", .str = e->state}};
            rc = rt_writer_sample(&w, e->pcs, e->n, e->exact_leaf, &count, labels, 2);
        }
        rc = rt_writer_finish(&w, fd, rc);
    }
    free(groups);
    tr_thread_dump_free(&d);
    return rc;
}
