/* SPDX-License-Identifier: MIT */
/*
 * The always-on tables of contended waits behind the in-process mutex and block profiles
 * (waits.h: tr_contention_*), with Go's sampling: of the contended waits on mutexes and rwlocks
 * one in LTPROF_MUTEX_FRACTION on average is kept, both values multiplied by the fraction
 * (SetMutexProfileFraction); every wait on synchronisation lasting at least LTPROF_BLOCK_RATE
 * ns is kept, a shorter one with probability duration / rate, counting rate / duration waits
 * and rate ns (SetBlockProfileRate, unbiased as Go's runtime does). Buckets per waiting stack
 * (stack_buckets.h) under a spinlock taken inside the guard.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "stack_buckets.h"
#include "waits.h"

#define FRAMES 64

_Atomic int tr_contention_enabled;
static _Atomic uint64_t mutex_fraction, block_rate;
static atomic_flag lock = ATOMIC_FLAG_INIT;
static struct tr_buckets tables[2] = {TR_BUCKETS_INIT, TR_BUCKETS_INIT}; /* mutex, block */
static __thread uint64_t rng __attribute__((tls_model("initial-exec")));

void tr_contention_configure(uint64_t fraction, uint64_t rate_ns)
{
    atomic_store_explicit(&mutex_fraction, fraction, memory_order_relaxed);
    atomic_store_explicit(&block_rate, rate_ns, memory_order_relaxed);
    atomic_store_explicit(&tr_contention_enabled, fraction > 0 || rate_ns > 0,
                          memory_order_release);
}

uint64_t tr_mutex_fraction(void)
{
    return atomic_load_explicit(&mutex_fraction, memory_order_relaxed);
}

uint64_t tr_block_rate(void)
{
    return atomic_load_explicit(&block_rate, memory_order_relaxed);
}

static uint64_t next_random(void)
{
    if (!rng) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        rng = ((uint64_t)ts.tv_nsec << 17 ^ (uint64_t)(uintptr_t)&rng) | 1;
    }
    rng ^= rng >> 12, rng ^= rng << 25, rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dULL;
}

static int is_lock(const char *kind)
{
    return strcmp(kind, "mutex") == 0 || strncmp(kind, "rwlock", 6) == 0;
}

static void add(int which, const uint64_t *pcs, size_t n, uint64_t count, uint64_t ns)
{
    while (atomic_flag_test_and_set_explicit(&lock, memory_order_acquire))
        ;
    struct tr_bucket *b = tr_buckets_at(&tables[which], tr_buckets_for(&tables[which], pcs, n, 0));
    if (b) {
        b->v[0] += count;
        b->v[1] += ns;
    }
    atomic_flag_clear_explicit(&lock, memory_order_release);
}

TR_TEXT __attribute__((noinline)) void tr_contention_record(const char *kind, uint64_t ns,
                                                            const uint64_t *pcs, size_t n)
{
    if (!atomic_load_explicit(&tr_contention_enabled, memory_order_acquire) || tr_guard_active())
        return;
    uint64_t fraction = tr_mutex_fraction(), rate = tr_block_rate();
    int keep_mutex = fraction > 0 && is_lock(kind) && (fraction == 1 || next_random() % fraction == 0);
    uint64_t block_count = 0, block_ns = 0;
    if (rate > 0) {
        if (ns >= rate)
            block_count = TR_BLOCK_COUNT_ONE, block_ns = ns;
        else if (ns > 0 && (double)(next_random() >> 11) < (double)ns / (double)rate * 0x1p53)
            block_count = (uint64_t)((double)TR_BLOCK_COUNT_ONE * (double)rate / (double)ns),
            block_ns = rate;
    }
    if (!keep_mutex && !block_count)
        return;
    tr_guard_enter();
    uint64_t own[FRAMES];
    if (!pcs) {
        n = tr_stack_capture_caller(own, FRAMES);
        pcs = own;
    }
    if (keep_mutex)
        add(0, pcs, n, fraction, ns * fraction);
    if (block_count)
        add(1, pcs, n, block_count, block_ns);
    tr_guard_leave();
}

/* fork() takes the lock around itself, so the child never inherits it taken. */
static void fork_prepare(void)
{
    tr_guard_enter();
    while (atomic_flag_test_and_set_explicit(&lock, memory_order_acquire))
        ;
}

static void fork_release(void)
{
    atomic_flag_clear_explicit(&lock, memory_order_release);
    tr_guard_leave();
}

__attribute__((constructor)) static void contention_init(void)
{
    pthread_atfork(fork_prepare, fork_release, fork_release);
}

int tr_contention_snapshot(int which, struct tr_bucket_snapshot *s)
{
    tr_guard_enter();
    while (atomic_flag_test_and_set_explicit(&lock, memory_order_acquire))
        ;
    int rc = tr_buckets_copy(&tables[which ? 1 : 0], s);
    atomic_flag_clear_explicit(&lock, memory_order_release);
    tr_guard_leave();
    s->rate = which ? tr_block_rate() : tr_mutex_fraction();
    return rc == 0 ? 0 : LTPROF_ERR_NOMEM;
}
