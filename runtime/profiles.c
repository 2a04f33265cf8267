/* SPDX-License-Identifier: MIT */
/*
 * In-process profiles (ltprof_profile_write in ltprof/ltprof.h), from the tracer's always-on
 * tables, written with the shared pprof builder and symbolized in-process through the shared
 * symbolizer (self_symbolizer.c, symbolizer/sym_pprof.h): heap and allocs from the sampled
 * allocations, mutex and block from the sampled contended waits, threadcreate from the stacks
 * that called pthread_create (tracer/stack_buckets.h), with Go's sample types and scaling. The
 * calling thread is inside ltprof's guard meanwhile, so the writer's own allocations (libdw's,
 * the builder's) are not sampled.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "guard.h"
#include "internal.h"
#include "ltprof/ltprof.h"
#include "pprof_builder.h"
#include "sym.h"
#include "sym_pprof.h"

#define MAX_FRAMES 64

static int fd_write(void *ctx, const void *data, size_t len)
{
    int fd = *(const int *)ctx;
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n, len -= (size_t)n;
    }
    return 0;
}

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

/* The samples of one bucket, symbolized. 0 or a negative status. */
static int add_bucket(struct pprof_builder *b, struct sym_pprof *sp,
                      const struct tr_bucket_snapshot *snap, const struct tr_bucket *k)
{
    uint64_t locs[MAX_FRAMES];
    size_t n = k->npcs < MAX_FRAMES ? k->npcs : MAX_FRAMES;
    for (size_t i = 0; i < n; i++) /* return addresses: step back into the call */
        if (!(locs[i] = sym_pprof_location(sp, snap->pcs[k->pcs_offset + i] - 1)))
            return LTPROF_ERR_NOMEM;
    int64_t values[4];
    pprof_scale_heap_sample(k->v[0], k->v[1], snap->rate, &values[0], &values[1]);
    pprof_scale_heap_sample(k->v[0] - k->v[2], k->v[1] - k->v[3], snap->rate, &values[2],
                            &values[3]);
    struct pprof_label bytes = {.key = "bytes", .num = (int64_t)k->key};
    return pprof_builder_add_final_sample(b, locs, n, values, &bytes, k->key ? 1 : 0);
}

static int write_heap(const char *name, int fd)
{
    struct tr_bucket_snapshot snap;
    if (tr_allocs_snapshot(&snap) != 0)
        return LTPROF_ERR_NOMEM;
    /* Go writes the period of the current rate; 0 (off) would make pprof divide by zero. */
    struct pprof_builder *b =
        pprof_builder_create(pprof_kind_lookup(name), (int64_t)(snap.rate ? snap.rate : 1));
    struct sym_module *exe;
    struct sym_session *sym = rt_self_symbolizer(&exe);
    struct sym_pprof *sp = b && sym ? sym_pprof_create(b, sym) : NULL;
    int rc = sp && (!exe || sym_pprof_mapping(sp, exe)) ? 0 : LTPROF_ERR_NOMEM;
    if (rc == 0) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        pprof_builder_set_time(b, (int64_t)now.tv_sec * 1000000000 + now.tv_nsec, 0);
        char note[200];
        snprintf(note, sizeof(note),
                 "ltprof: allocation table %llu bytes; %llu sampled allocations without a stack "
                 "(table full)",
                 (unsigned long long)snap.table_bytes, (unsigned long long)snap.overflow);
        rc = pprof_builder_add_comment(b, note);
    }
    if (rc == 0 && snap.n_buckets > 1)
        qsort(snap.buckets + 1, snap.n_buckets - 1, sizeof(*snap.buckets), by_inuse_desc);
    for (size_t i = 0; rc == 0 && i < snap.n_buckets; i++)
        if (snap.buckets[i].v[0])
            rc = add_bucket(b, sp, &snap, &snap.buckets[i]);
    if (rc == 0 && pprof_builder_write(b, fd_write, &fd) != 0)
        rc = LTPROF_ERR_IO;
    sym_pprof_destroy(sp);
    sym_session_destroy(sym);
    pprof_builder_destroy(b);
    tr_bucket_snapshot_free(&snap);
    return rc;
}

/* mutex or block: one sample per waiting stack, [contentions, delay ns]; threadcreate: one per
 * creating stack, [threads]. */
static int write_counts(const char *name, int fd)
{
    int block = strcmp(name, "block") == 0, threads = strcmp(name, "threadcreate") == 0;
    struct tr_bucket_snapshot snap;
    if ((threads ? tr_threadcreate_snapshot(&snap) : tr_contention_snapshot(block, &snap)) != 0)
        return LTPROF_ERR_NOMEM;
    struct pprof_builder *b = pprof_builder_create(pprof_kind_lookup(name), 1);
    struct sym_module *exe;
    struct sym_session *sym = rt_self_symbolizer(&exe);
    struct sym_pprof *sp = b && sym ? sym_pprof_create(b, sym) : NULL;
    int rc = sp && (!exe || sym_pprof_mapping(sp, exe)) ? 0 : LTPROF_ERR_NOMEM;
    if (rc == 0) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        pprof_builder_set_time(b, (int64_t)now.tv_sec * 1000000000 + now.tv_nsec, 0);
        char note[200];
        if (threads)
            snprintf(note, sizeof(note),
                     "ltprof: threadcreate table %llu bytes; %llu threads without a stack "
                     "(table full)",
                     (unsigned long long)snap.table_bytes, (unsigned long long)snap.overflow);
        else
            snprintf(note, sizeof(note),
                     "ltprof: %s table %llu bytes, %s %llu; %llu waits without a stack (table "
                     "full)",
                     name, (unsigned long long)snap.table_bytes,
                     block ? "LTPROF_BLOCK_RATE" : "LTPROF_MUTEX_FRACTION",
                     (unsigned long long)snap.rate, (unsigned long long)snap.overflow);
        rc = pprof_builder_add_comment(b, note);
    }
    for (size_t i = 0; rc == 0 && i < snap.n_buckets; i++) {
        const struct tr_bucket *k = &snap.buckets[i];
        if (!k->v[0])
            continue;
        uint64_t locs[MAX_FRAMES];
        size_t n = k->npcs < MAX_FRAMES ? k->npcs : MAX_FRAMES;
        for (size_t j = 0; rc == 0 && j < n; j++)
            if (!(locs[j] = sym_pprof_location(sp, snap.pcs[k->pcs_offset + j] - 1)))
                rc = LTPROF_ERR_NOMEM;
        uint64_t count = block ? k->v[0] / TR_BLOCK_COUNT_ONE : k->v[0];
        int64_t values[2] = {(int64_t)(count ? count : 1), (int64_t)k->v[1]}; /* threads: [0] */
        if (rc == 0)
            rc = pprof_builder_add_final_sample(b, locs, n, values, NULL, 0);
    }
    if (rc == 0 && pprof_builder_write(b, fd_write, &fd) != 0)
        rc = LTPROF_ERR_IO;
    sym_pprof_destroy(sp);
    sym_session_destroy(sym);
    pprof_builder_destroy(b);
    tr_bucket_snapshot_free(&snap);
    return rc;
}

LTPROF_API int ltprof_profile_write(const char *name, int fd, int debug)
{
    if (!name || fd < 0 || debug < 0 || debug > 2)
        return LTPROF_ERR_INVALID;
    int heap = strcmp(name, "heap") == 0 || strcmp(name, "allocs") == 0;
    int counts = strcmp(name, "mutex") == 0 || strcmp(name, "block") == 0 ||
                 strcmp(name, "threadcreate") == 0;
    if (strcmp(name, "goroutine") == 0)
        return LTPROF_ERR_UNSUPPORTED; /* the thread profile: not yet */
    if (!heap && !counts)
        return LTPROF_ERR_NOT_FOUND;
    if (debug != 0)
        return LTPROF_ERR_UNSUPPORTED; /* Go's text formats: not yet */
    tr_guard_enter();
    int saved_errno = errno;
    int rc = heap ? write_heap(name, fd) : write_counts(name, fd);
    errno = saved_errno;
    tr_guard_leave();
    return rc;
}

/* `pattern` with each "%p" replaced by the pid. False when it does not fit. */
static bool expand_pid(const char *pattern, char *out, size_t size)
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
    if (!expand_pid(pattern, path, sizeof(path))) {
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
