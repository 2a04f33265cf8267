/* SPDX-License-Identifier: MIT */
/*
 * Internal to tracer/: what the interposers (interpose/sync.c, interpose/syscalls.c) call to
 * record waits, wake-ups and blocking calls (implemented in waits.c). Each wrapper asks a cheap
 * inline question first (is anybody recording?) and calls into waits.c only on the slow path,
 * so an uncontended lock or an unrecorded read() costs a load and a branch.
 */
#ifndef LTPROF_TRACER_WAITS_H
#define LTPROF_TRACER_WAITS_H

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "guard.h"
#include "ltprof_tp.h"
#include "sampler-internal.h"
#include "tracer.h"

/* Whether contended waits and wake-ups are recorded now (a session enables the events and the
 * calling thread is not ltprof's own work). */
static inline int tr_waits_on(void)
{
    return lttng_ust_tracepoint_enabled(ltprof, wait_begin) && !tr_guard_active();
}

/* Whether blocking calls are timed now. */
static inline int tr_calls_on(void)
{
    return lttng_ust_tracepoint_enabled(ltprof, syscall) && !tr_guard_active();
}

/* A wait about to begin: tr_wait_prepare() takes the caller's stack (a microsecond or so);
 * a lock that is free by then is taken without recording anything (tr_wait_begin is not
 * called: a wait that short is not worth two events). */
#define TR_WAIT_FRAMES 64
struct tr_wait {
    uint16_t npcs;
    uint64_t pcs[TR_WAIT_FRAMES];
};
void tr_wait_prepare(struct tr_wait *w);

/* A wait on the object at `addr` begins (ltprof:wait_begin with the prepared stack): `kind` is
 * one of the wait_begin kinds (static strings), `target` the pthread_t of a join, else 0. */
void tr_wait_begin(const struct tr_wait *w, const char *kind, const void *addr, uint64_t target);
/* ... and ends with `result`. The pair nests with nothing: one wait at a time per thread. */
void tr_wait_end(const char *kind, const void *addr, int result);
/* The end of a wait that began before recording did (no wait_begin in the trace). */
void tr_wait_end_unseen(const char *kind, const void *addr, int result);
/* The calling thread releases `addr`, which has waiters (ltprof:wake). */
void tr_wake(const char *kind, const void *addr);

/* One timed blocking call: tr_call_begin() before the real call, tr_call_end() after it. */
struct tr_call {
    uint64_t start_ns;
    int token; /* tr_emit_enter()'s */
    int on;    /* 0: nothing is recorded for this call */
};

void tr_call_begin(struct tr_call *c, const char *call);
/* For a call that began before recording did: its end is recorded with an unknown start (0). */
void tr_call_begun_unseen(struct tr_call *c);
/* Records ltprof:syscall when the call took at least the threshold. Keeps errno. */
void tr_call_end(struct tr_call *c, const char *call, int fd, int64_t result);

/* The thread's switch ring is open (its wrappers close it once no session records). */
extern __thread int tr_tls_sw_open __attribute__((tls_model("initial-exec"), visibility("hidden")));
/* Closes the calling thread's switch ring when no session records switches any more. */
void tr_sched_stop_following(void);

/* ---- heap counter (heap_counter.c) ---- */
void tr_heap_configure(uint32_t interval_ms);
/* Emits ltprof:heap when the interval has passed since the last one (any thread). Normal
 * context only, never inside a call a signal handler may make: it calls mallinfo2(). */
void tr_heap_tick(void);
/* "mallinfo2" or "none". */
const char *tr_heap_source(void);

uint64_t tr_syscall_threshold_ns(void);

static inline uint64_t tr_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- blocked calls, for thread dumps (thread_dump.c) ---- */

/* The calling thread is about to block in `what` (a static string), inside the ltprof function
 * whose frame is `fp` (__builtin_frame_address(0)): published in its slot so a thread dump can
 * unwind it from there without a signal. TR_BLOCK_BEGIN/END bracket the blocking call: a few
 * plain stores; async-signal-safe. A signal handler's call nested in a blocked one (where the
 * sequence is odd already) publishes nothing. */
/* Only the slot's thread writes these: plain stores, no locked instruction. */
static inline void tr_block_publish(struct tr_thread_slot *s, const char *what, void *fp)
{
    uint32_t seq = atomic_load_explicit(&s->blk_seq, memory_order_relaxed);
    atomic_store_explicit(&s->blk_fp, (uint64_t)(uintptr_t)fp, memory_order_relaxed);
    atomic_store_explicit(&s->blk_what, what, memory_order_relaxed);
    atomic_store_explicit(&s->blk_seq, seq + 1, memory_order_release); /* odd: blocked */
}
static inline void tr_block_clear(struct tr_thread_slot *s)
{
    uint32_t seq = atomic_load_explicit(&s->blk_seq, memory_order_relaxed);
    atomic_store_explicit(&s->blk_seq, seq + 1, memory_order_release); /* even: not any more */
}
/* A call nested in a published one (a signal handler's) publishes nothing. */
#define TR_BLOCK_BEGIN(what)                                                                      \
    struct tr_thread_slot *blk_ = tr_tls_slot ? tr_slot_self() : NULL;                           \
    if (blk_ && (atomic_load_explicit(&blk_->blk_seq, memory_order_relaxed) & 1))                \
        blk_ = NULL;                                                                              \
    if (blk_)                                                                                     \
        tr_block_publish(blk_, (what), __builtin_frame_address(0))
#define TR_BLOCK_END()                                                                            \
    do {                                                                                          \
        if (blk_)                                                                                 \
            tr_block_clear(blk_);                                                                 \
    } while (0)

/* ---- the in-process mutex and block tables (contention.c) ---- */

/* Non-zero when LTPROF_MUTEX_FRACTION or LTPROF_BLOCK_RATE asks for them. */
extern _Atomic int tr_contention_enabled __attribute__((visibility("hidden")));
static inline int tr_contention_on(void)
{
    return atomic_load_explicit(&tr_contention_enabled, memory_order_relaxed) &&
           !tr_guard_active();
}
/* A contended wait of `kind` (a wait_begin kind) lasted `ns`, at the stack `pcs` (n frames;
 * NULL: the caller's, taken here when the wait is kept). Sampled as Go samples. */
void tr_contention_record(const char *kind, uint64_t ns, const uint64_t *pcs, size_t n);

#endif
