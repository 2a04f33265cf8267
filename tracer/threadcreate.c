/* SPDX-License-Identifier: MIT */
/*
 * The always-on table behind the in-process threadcreate profile: how many threads each stack
 * created (pthread_create's callers), every thread the program created since it started, as
 * Go counts them. One stack-bucket table (stack_buckets.h) under a spinlock; the
 * pthread_create interposer calls in with the creator's stack.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "guard.h"
#include "stack_buckets.h"
#include "thread_events.h"

static atomic_flag lock = ATOMIC_FLAG_INIT;
static struct tr_buckets table = TR_BUCKETS_INIT;

static void take(void)
{
    while (atomic_flag_test_and_set_explicit(&lock, memory_order_acquire))
        ;
}

static void drop(void)
{
    atomic_flag_clear_explicit(&lock, memory_order_release);
}

uint32_t tr_threadcreate_add(const uint64_t *pcs, size_t n)
{
    take();
    uint32_t id = tr_buckets_for(&table, pcs, n, 0);
    struct tr_bucket *b = tr_buckets_at(&table, id);
    if (b)
        b->v[0]++;
    drop();
    return b ? id : UINT32_MAX;
}

void tr_threadcreate_undo(uint32_t id)
{
    take();
    struct tr_bucket *b = tr_buckets_at(&table, id);
    if (b && b->v[0])
        b->v[0]--;
    drop();
}

/* fork() takes the lock around itself, so the child never inherits it taken. */
static void fork_prepare(void)
{
    tr_guard_enter();
    take();
}

static void fork_release(void)
{
    drop();
    tr_guard_leave();
}

__attribute__((constructor)) static void threadcreate_init(void)
{
    pthread_atfork(fork_prepare, fork_release, fork_release);
}

int tr_threadcreate_snapshot(struct tr_bucket_snapshot *s)
{
    tr_guard_enter();
    take();
    int rc = tr_buckets_copy(&table, s);
    drop();
    tr_guard_leave();
    s->rate = 1;
    return rc == 0 ? 0 : LTPROF_ERR_NOMEM;
}
