/* SPDX-License-Identifier: MIT */
/*
 * In-process profiles (ltprof_profile_write in ltprof/ltprof.h), from the tracer's always-on
 * tables, written with the shared pprof builder and symbolized in-process through the shared
 * symbolizer (profile_writer.c): heap and allocs from the sampled
 * allocations, mutex and block from the sampled contended waits, threadcreate from the stacks
 * that called pthread_create (tracer/stack_buckets.h), with Go's sample types and scaling. The
 * calling thread is inside ltprof's guard meanwhile, so the writer's own allocations (libdw's,
 * the builder's) are not sampled.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "guard.h"
#include "internal.h"
#include "ltprof/ltprof.h"
#include "pprof_builder.h"

/* Most bytes in use first, then most allocated, as Go's tools show them; ties by size. */
static int by_inuse_desc(const void *a, const void *b)
{
    const struct tr_bucket *x = a, *y = b;
    uint64_t ix = x->v[1] - x->v[3], iy = y->v[1] - y->v[3];
    if (ix != iy)
        return ix > iy ? -1 : 1;
    if (x->v[1] != y->v[1])
        return x->v[1] > y->v[1] ? -1 : 1;
    return x->key < y->key ? -1 : x->key > y->key;
}

/* heap or allocs: one sample per stack and block size, unbiased as Go does. */
static int write_heap(const char *name, int fd)
{
    struct tr_bucket_snapshot snap;
    if (tr_allocs_snapshot(&snap) != 0)
        return LTPROF_ERR_NOMEM;
    char note[200];
    snprintf(note, sizeof(note),
             "ltprof: allocation table %llu bytes; %llu sampled allocations without a stack "
             "(table full)",
             (unsigned long long)snap.table_bytes, (unsigned long long)snap.overflow);
    struct rt_writer w;
    /* Go writes the period of the current rate; 0 (off) would make pprof divide by zero. */
    int rc = rt_writer_open(&w, pprof_kind_lookup(name), (int64_t)(snap.rate ? snap.rate : 1),
                            note);
    if (rc == 0 && snap.n_buckets > 1)
        qsort(snap.buckets + 1, snap.n_buckets - 1, sizeof(*snap.buckets), by_inuse_desc);
    for (size_t i = 0; rc == 0 && i < snap.n_buckets; i++) {
        const struct tr_bucket *k = &snap.buckets[i];
        if (!k->v[0])
            continue;
        int64_t values[4];
        pprof_scale_heap_sample(k->v[0], k->v[1], snap.rate, &values[0], &values[1]);
        pprof_scale_heap_sample(k->v[0] - k->v[2], k->v[1] - k->v[3], snap.rate, &values[2],
                                &values[3]);
        struct pprof_label labels[1 + TR_MAX_LABELS];
        size_t n = 0;
        uint64_t size = TR_ALLOC_SIZE(k->key);
        if (size)
            labels[n++] = (struct pprof_label){.key = "bytes", .num = (int64_t)size};
        n += rt_writer_labels(TR_KEY_LABELS(k->key, 48), labels + n, TR_MAX_LABELS);
        rc = rt_writer_sample(&w, snap.pcs + k->pcs_offset, k->npcs, 0, values, labels, n);
    }
    tr_bucket_snapshot_free(&snap);
    return rt_writer_finish(&w, fd, rc);
}

/* mutex or block: one sample per waiting stack, [contentions, delay ns]; threadcreate: one per
 * creating stack, [threads]. */
static int write_counts(const char *name, int fd)
{
    int block = strcmp(name, "block") == 0, threads = strcmp(name, "threadcreate") == 0;
    struct tr_bucket_snapshot snap;
    if ((threads ? tr_threadcreate_snapshot(&snap) : tr_contention_snapshot(block, &snap)) != 0)
        return LTPROF_ERR_NOMEM;
    char note[200];
    if (threads)
        snprintf(note, sizeof(note),
                 "ltprof: threadcreate table %llu bytes; %llu threads without a stack (table "
                 "full)",
                 (unsigned long long)snap.table_bytes, (unsigned long long)snap.overflow);
    else
        snprintf(note, sizeof(note),
                 "ltprof: %s table %llu bytes, %s %llu; %llu waits without a stack (table full)",
                 name, (unsigned long long)snap.table_bytes,
                 block ? "LTPROF_BLOCK_RATE" : "LTPROF_MUTEX_FRACTION",
                 (unsigned long long)snap.rate, (unsigned long long)snap.overflow);
    struct rt_writer w;
    int rc = rt_writer_open(&w, pprof_kind_lookup(name), 1, note);
    for (size_t i = 0; rc == 0 && i < snap.n_buckets; i++) {
        const struct tr_bucket *k = &snap.buckets[i];
        if (!k->v[0])
            continue;
        uint64_t count = block ? k->v[0] / TR_BLOCK_COUNT_ONE : k->v[0];
        int64_t values[2] = {(int64_t)(count ? count : 1), (int64_t)k->v[1]}; /* threads: [0] */
        rc = rt_writer_sample(&w, snap.pcs + k->pcs_offset, k->npcs, 0, values, NULL, 0);
    }
    tr_bucket_snapshot_free(&snap);
    return rt_writer_finish(&w, fd, rc);
}

/* ---- Go's text formats (debug=1) ------------------------------------------------------------ */

static int by_v0_desc(const void *a, const void *b)
{
    const struct tr_bucket *x = a, *y = b;
    return x->v[0] != y->v[0] ? (x->v[0] > y->v[0] ? -1 : 1) : 0;
}

static int by_v1_desc(const void *a, const void *b)
{
    const struct tr_bucket *x = a, *y = b;
    return x->v[1] != y->v[1] ? (x->v[1] > y->v[1] ? -1 : 1) : 0;
}

/* heap and allocs (the same text): raw sampled values, header rate 2 x the rate as Go writes
 * it, then the allocator's figures in Go's MemStats block (from mallinfo2; pprof ignores it). */
static int text_heap(int fd)
{
    struct tr_bucket_snapshot snap;
    if (tr_allocs_snapshot(&snap) != 0)
        return LTPROF_ERR_NOMEM;
    struct rt_text t;
    int rc = rt_text_open(&t, fd);
    if (snap.n_buckets)
        qsort(snap.buckets, snap.n_buckets, sizeof(*snap.buckets), by_inuse_desc);
    unsigned long long in_n = 0, in_b = 0, all_n = 0, all_b = 0;
    for (size_t i = 0; i < snap.n_buckets; i++) {
        const struct tr_bucket *k = &snap.buckets[i];
        in_n += k->v[0] - k->v[2], in_b += k->v[1] - k->v[3], all_n += k->v[0], all_b += k->v[1];
    }
    if (rc == 0) {
        rt_text_printf(&t, "heap profile: %llu: %llu [%llu: %llu] @ heap/%llu\n", in_n, in_b,
                       all_n, all_b, (unsigned long long)(2 * (snap.rate ? snap.rate : 1)));
        for (size_t i = 0; i < snap.n_buckets; i++) {
            const struct tr_bucket *k = &snap.buckets[i];
            if (!k->v[0])
                continue;
            rt_text_printf(&t, "%llu: %llu [%llu: %llu] ", (unsigned long long)(k->v[0] - k->v[2]),
                           (unsigned long long)(k->v[1] - k->v[3]), (unsigned long long)k->v[0],
                           (unsigned long long)k->v[1]);
            rt_text_stack(&t, snap.pcs + k->pcs_offset, k->npcs, 0, NULL);
        }
        struct mallinfo2 mi = mallinfo2();
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        /* in use: the arenas' allocated chunks and the chunks malloc mmapped on their own, as
         * the trace's heap counter counts them (tracer/heap_counter.c) */
        size_t in_use = mi.uordblks + mi.hblkhd;
        rt_text_printf(&t, "\n# runtime.MemStats\n# Alloc = %zu\n# Sys = %zu\n", in_use,
                       mi.arena + mi.hblkhd);
        rt_text_printf(&t, "# HeapAlloc = %zu\n# HeapSys = %zu\n# HeapIdle = %zu\n", in_use,
                       mi.arena + mi.hblkhd, mi.fordblks);
        rt_text_printf(&t, "# HeapInuse = %zu\n# MaxRSS = %ld\n", in_use, ru.ru_maxrss * 1024);
    }
    tr_bucket_snapshot_free(&snap);
    return rt_text_finish(&t, rc);
}

/* threadcreate: "threadcreate profile: total N", then one record per stack by count. */
static int text_threadcreate(int fd)
{
    struct tr_bucket_snapshot snap;
    if (tr_threadcreate_snapshot(&snap) != 0)
        return LTPROF_ERR_NOMEM;
    struct rt_text t;
    int rc = rt_text_open(&t, fd);
    unsigned long long total = 0;
    for (size_t i = 0; i < snap.n_buckets; i++)
        total += snap.buckets[i].v[0];
    if (snap.n_buckets)
        qsort(snap.buckets, snap.n_buckets, sizeof(*snap.buckets), by_v0_desc);
    if (rc == 0) {
        rt_text_printf(&t, "threadcreate profile: total %llu\n", total);
        for (size_t i = 0; i < snap.n_buckets; i++) {
            const struct tr_bucket *k = &snap.buckets[i];
            if (!k->v[0])
                continue;
            rt_text_printf(&t, "%llu ", (unsigned long long)k->v[0]);
            rt_text_stack(&t, snap.pcs + k->pcs_offset, k->npcs, 0, NULL);
        }
    }
    tr_bucket_snapshot_free(&snap);
    return rt_text_finish(&t, rc);
}

/* mutex and block: "--- mutex:" / "--- contention:", cycles/second, then "<cycles> <count>"
 * records by delay, raw (unscaled) as Go writes them. Our cycles are nanoseconds. */
static int text_contention(int fd, int block)
{
    struct tr_bucket_snapshot snap;
    if (tr_contention_snapshot(block, &snap) != 0)
        return LTPROF_ERR_NOMEM;
    struct rt_text t;
    int rc = rt_text_open(&t, fd);
    if (snap.n_buckets)
        qsort(snap.buckets, snap.n_buckets, sizeof(*snap.buckets), by_v1_desc);
    uint64_t fraction = !block && snap.rate ? snap.rate : 1;
    if (rc == 0) {
        rt_text_printf(&t, "--- %s:\ncycles/second=1000000000\n", block ? "contention" : "mutex");
        if (!block)
            rt_text_printf(&t, "sampling period=%llu\n", (unsigned long long)fraction);
        for (size_t i = 0; i < snap.n_buckets; i++) {
            const struct tr_bucket *k = &snap.buckets[i];
            if (!k->v[0])
                continue;
            uint64_t count = block ? k->v[0] / TR_BLOCK_COUNT_ONE : k->v[0] / fraction;
            rt_text_printf(&t, "%llu %llu ", (unsigned long long)(k->v[1] / fraction),
                           (unsigned long long)(count ? count : 1));
            rt_text_stack(&t, snap.pcs + k->pcs_offset, k->npcs, 0, NULL);
        }
    }
    tr_bucket_snapshot_free(&snap);
    return rt_text_finish(&t, rc);
}

static int write_text(const char *name, int fd)
{
    if (strcmp(name, "heap") == 0 || strcmp(name, "allocs") == 0)
        return text_heap(fd);
    if (strcmp(name, "threadcreate") == 0)
        return text_threadcreate(fd);
    return text_contention(fd, strcmp(name, "block") == 0);
}

LTPROF_API int ltprof_profile_write(const char *name, int fd, int debug)
{
    if (!name || fd < 0 || debug < 0 || debug > 2)
        return LTPROF_ERR_INVALID;
    int heap = strcmp(name, "heap") == 0 || strcmp(name, "allocs") == 0;
    int counts = strcmp(name, "mutex") == 0 || strcmp(name, "block") == 0 ||
                 strcmp(name, "threadcreate") == 0;
    int threads = strcmp(name, "goroutine") == 0;
    if (!heap && !counts && !threads && !ltprof_profile_lookup(name))
        return LTPROF_ERR_NOT_FOUND;
    tr_guard_enter();
    int saved_errno = errno;
    int rc = threads              ? rt_thread_profile_write(fd, debug)
             : !heap && !counts ? rt_custom_profile_write(name, fd, debug)
             : debug          ? write_text(name, fd)
             : heap           ? write_heap(name, fd)
                              : write_counts(name, fd);
    errno = saved_errno;
    tr_guard_leave();
    return rc;
}

/* Records in a table: stacks with something counted (threadcreate: the threads). */
static int64_t table_count(struct tr_bucket_snapshot *snap, int threads)
{
    int64_t n = 0;
    for (size_t i = 0; i < snap->n_buckets; i++)
        if (snap->buckets[i].v[0])
            n += threads ? (int64_t)snap->buckets[i].v[0] : 1;
    tr_bucket_snapshot_free(snap);
    return n;
}

int64_t rt_profile_count(const char *name)
{
    struct tr_bucket_snapshot snap;
    int64_t n = -1;
    tr_guard_enter();
    if (strcmp(name, "heap") == 0 || strcmp(name, "allocs") == 0)
        n = tr_allocs_snapshot(&snap) == 0 ? table_count(&snap, 0) : -1;
    else if (strcmp(name, "mutex") == 0 || strcmp(name, "block") == 0)
        n = tr_contention_snapshot(name[0] == 'b', &snap) == 0 ? table_count(&snap, 0) : -1;
    else if (strcmp(name, "threadcreate") == 0)
        n = tr_threadcreate_snapshot(&snap) == 0 ? table_count(&snap, 1) : -1;
    else if (strcmp(name, "goroutine") == 0)
        n = (int64_t)tr_thread_count();
    else if (ltprof_profile_lookup(name))
        n = (int64_t)ltprof_profile_count(ltprof_profile_lookup(name));
    tr_guard_leave();
    return n;
}

bool rt_expand_pid(const char *pattern, char *out, size_t size)
{
    size_t n = 0;
    for (const char *p = pattern; *p; p++) {
        int w = p[0] == '%' && p[1] == 'p' ? snprintf(out + n, size - n, "%d", (int)getpid())
                                           : snprintf(out + n, size - n, "%c", *p);
        if (w < 0 || (size_t)w >= size - n)
            return false;
        n += (size_t)w;
        p += p[0] == '%' && p[1] == 'p';
    }
    return true;
}

static void write_at_exit(const char *name, const char *variable, const char *pattern)
{
    char path[4200];
    if (!pattern[0])
        return;
    if (!rt_expand_pid(pattern, path, sizeof(path))) {
        fprintf(stderr, "ltprof: cannot write %s=%s: path too long\n", variable, pattern);
        return;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "ltprof: cannot write %s=%s: %s\n", variable, path, strerror(errno));
        return;
    }
    int rc = ltprof_profile_write(name, fd, 0);
    if (close(fd) != 0 && rc == 0)
        rc = LTPROF_ERR_IO;
    if (rc != 0) {
        fprintf(stderr, "ltprof: cannot write %s=%s: %s\n", variable, path,
                ltprof_status_string((enum ltprof_status)rc));
        unlink(path);
    }
}

void rt_profiles_write_at_exit(const struct rt_config *cfg)
{
    write_at_exit("heap", "LTPROF_HEAPPROFILE", cfg->heap_profile);
    write_at_exit("mutex", "LTPROF_MUTEXPROFILE", cfg->mutex_profile);
    write_at_exit("block", "LTPROF_BLOCKPROFILE", cfg->block_profile);
}
