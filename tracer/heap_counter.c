/* SPDX-License-Identifier: MIT */
/*
 * The heap counter of the execution trace: bytes in use from mallinfo2() (glibc), emitted as
 * ltprof:heap at most once per interval by whichever thread passes by a point where calling
 * malloc's statistics is safe (thread start and exit, contended waits, annotations; never from
 * inside an async-signal-safe call such as read(), which a signal handler may make).
 * Face: waits.h. mallinfo2 walks every arena under its lock: a few microseconds.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdatomic.h>
#include <time.h>

#include "sampler-internal.h"
#include "waits.h"

static uint64_t interval_ns = 10 * 1000000ull;
static _Atomic uint64_t next_ns; /* earliest time of the next heap event */

void tr_heap_configure(uint32_t interval_ms)
{
    interval_ns = (uint64_t)interval_ms * 1000000ull;
}

const char *tr_heap_source(void)
{
    return interval_ns ? "mallinfo2" : "none";
}

void tr_heap_tick(void)
{
    struct timespec ts;
    if (!interval_ns || !lttng_ust_tracepoint_enabled(ltprof, heap))
        return;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    uint64_t next = atomic_load_explicit(&next_ns, memory_order_relaxed);
    if (now < next ||
        !atomic_compare_exchange_strong_explicit(&next_ns, &next, now + interval_ns,
                                                 memory_order_relaxed, memory_order_relaxed))
        return; /* not yet, or another thread takes this one */
    struct mallinfo2 mi = mallinfo2();
    lttng_ust_tracepoint(ltprof, heap, (uint32_t)tr_tid_self(), (uint64_t)(mi.uordblks + mi.hblkhd));
}
