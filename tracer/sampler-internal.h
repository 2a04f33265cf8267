/* SPDX-License-Identifier: MIT */
/*
 * Internal to the CPU sampler: the thread table and process-wide state shared by sampler.c
 * (normal context: arming, registry, fork) and sampler_signal.c (the SIGPROF handler).
 * A slot is published by storing its tid last (release) and read by the handler with acquire
 * loads; slot allocation and release happen under a mutex the handler never takes.
 */
#ifndef LTPROF_TRACER_SAMPLER_INTERNAL_H
#define LTPROF_TRACER_SAMPLER_INTERNAL_H

#include <linux/perf_event.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "tracer.h"

#define TR_MAX_THREADS 4096  /* armed threads at the same time */
#define TR_MAX_WMAPS 1024    /* writable mappings remembered for stacks of foreign threads */
#define TR_TIMER_MAGIC 0x4c545046u /* "LTPF": high half of our timers' si_value */
#define TR_DUMP_MAGIC 0x4c544455u  /* "LTDU": high half of a thread dump's si_value */
#define TR_HIDDEN __attribute__((visibility("hidden")))
#define TR_TLS __attribute__((tls_model("initial-exec"), visibility("hidden")))

/* One armed thread. Fields other than `tid` and `samples` are written before `tid` is
 * published and not changed while it is, except `name` (a torn read gives a mixed name, still
 * NUL-terminated). */
struct tr_thread_slot {
    _Atomic int32_t tid;   /* 0: free */
    int fd;                /* perf engine: the event's fd, else -1 */
    struct perf_event_mmap_page *ring; /* perf: 1+1 page ring (POLL_IN), NULL: REFRESH mode */
    timer_t timer;         /* timer engine: the timer, when has_timer */
    int has_timer;
    pthread_t thread;      /* 0 when armed from another thread */
    struct tr_stack_range stack; /* lo == hi == 0: unknown, use the writable-maps snapshot */
    char name[16];
    _Atomic uint64_t samples;
    int sw_fd;             /* context-switch event (sched.c), -1 when none */
    struct perf_event_mmap_page *sw_ring; /* its ring; opened, drained, closed by the thread */
    int sw_failed;         /* the event could not be opened: do not try again */
    /* The wait this thread is in, for ltprof:thread_state (written by the thread, read by
     * whoever emits the snapshot): a wait_begin kind or NULL, and since when (CLOCK_MONOTONIC). */
    _Atomic(const char *) wait_kind;
    _Atomic uint64_t wait_since_ns;
    /* The interposed call the thread is blocked in (thread_dump.c), as a sequence lock: odd
     * while blocked, with that call's frame pointer and name. Written by the thread only. */
    _Atomic uint32_t blk_seq;
    _Atomic uint64_t blk_fp;
    _Atomic(const char *) blk_what;
    /* A stack asked for by a thread dump, taken by the thread's SIGPROF handler. */
    _Atomic int dump_state; /* 0: none, 1: asked, 3: being taken, 2: taken */
    uint16_t dump_n;
    uint64_t dump_pcs[64];
};

struct tr_wmap {
    uintptr_t lo, hi;
};

/* The sampler's process-wide state. sampler.c writes the configuration before arming any
 * thread; the handler only reads it and updates the counters. */
struct tr_sampler_state {
    _Atomic int engine;         /* enum tr_cpu_engine; TR_ENGINE_NONE when not sampling */
    _Atomic int armed;          /* threads get slots (sampling or context switches are on) */
    _Atomic int sched_on;       /* context-switch events are opened for new threads */
    char sched_note[96];        /* why they are off, for ltprof:trace_info */
    size_t page_bytes;
    uint64_t period_ns;
    size_t ring_bytes;          /* perf ring mapping: 1 header page + 1 data page */
    uint32_t max_frames;
    _Atomic uint32_t pid;       /* cached getpid(), reset in a fork child */
    _Atomic int force_unwind;
    _Atomic uint32_t epoch;     /* bumped to make every thread announce itself again */
    _Atomic int states_announced; /* this session has its ltprof:thread_state snapshot */
    _Atomic uint32_t slots_used; /* high-water mark of the slot table */
    struct sigaction prev_action; /* SIGPROF disposition before ours (chained to) */
    struct tr_thread_slot slots[TR_MAX_THREADS];
    _Atomic uint32_t nwmaps;    /* published after wmaps[] is filled */
    struct tr_wmap wmaps[TR_MAX_WMAPS];
    _Atomic uint64_t samples, signals_foreign, unwind[4], handler_ns_total;
    _Atomic uint64_t sched_lost;     /* switch records the kernel dropped (ring full) */
    _Atomic uint64_t sched_refused;  /* threads whose context-switch event could not be opened */
};

extern struct tr_sampler_state tr_samp TR_HIDDEN;

/* Per-thread: our slot index + 1 (0: unknown), cached tid, and what the announcement logic
 * last saw (cpu_sample enabled, epoch). */
extern __thread int32_t tr_tls_slot TR_TLS;
extern __thread int32_t tr_tls_tid TR_TLS;
extern __thread int32_t tr_tls_seen_enabled TR_TLS;
extern __thread uint32_t tr_tls_epoch TR_TLS;
/* Set while the thread drains its switch ring (sched.c), so a nested drain from the signal
 * handler backs off. */
extern __thread int tr_tls_draining TR_TLS;
/* The thread's switch ring is open (a copy of slot->sw_ring != NULL the wrappers can test). */
extern __thread int tr_tls_sw_open TR_TLS;

/* The calling thread's slot, or NULL when it has none. ASYNC-SIGNAL-SAFE (sampler_signal.c). */
struct tr_thread_slot *tr_slot_self(void) TR_HIDDEN;
int32_t tr_tid_self(void) TR_HIDDEN;

/* The stack range that holds `sp` for the calling thread (its slot's, or a writable mapping
 * seen at start); 0, or -1 when unknown. ASYNC-SIGNAL-SAFE (sampler_signal.c). */
int tr_stack_range_guess(uintptr_t sp, struct tr_stack_range *out) TR_HIDDEN;
/* Set while the thread writes an event from normal context (tr_emit_enter): the handler then
 * leaves the switch ring alone. */
extern __thread int tr_tls_emitting TR_TLS;
/* Set once the thread's exit event is written (thread_events.c). The handler then writes no
 * more events on it: LTTng-UST tears down the thread's RCU reader at exit, and a tracepoint
 * after that registers it again, taking a mutex that the interrupted code may hold (the
 * teardown's own: a deadlock seen in CI). */
extern __thread int tr_tls_exited TR_TLS;

/* ---- context switches (sched.c) ---- */
/* Opens `tid`'s context-switch event and maps its ring into s->sw_fd/sw_ring; 0 or -errno.
 * Normal context, table lock held. */
int tr_sched_open(struct tr_thread_slot *s, int32_t tid) TR_HIDDEN;
void tr_sched_close(struct tr_thread_slot *s) TR_HIDDEN;
/* Opens the slot's switch ring when `recording` (a session records ltprof:sched_switches) and
 * context switches are on, closes it when not. Only the slot's own thread may call it. */
void tr_sched_follow(struct tr_thread_slot *s, int32_t tid, int recording) TR_HIDDEN;
size_t tr_sched_ring_bytes(void) TR_HIDDEN;
/* Emits the switches in the slot's ring as ltprof:sched_switches (or drops them when the event
 * is off) and empties it. Only the slot's own thread may call it. ASYNC-SIGNAL-SAFE. */
void tr_sched_drain(struct tr_thread_slot *s, int32_t tid) TR_HIDDEN;
/* The same, dropping the switches from `from_ns` to `to_ns` (CLOCK_MONOTONIC): the time of a
 * wait or call just recorded, during which switches say nothing new (the thread was blocked)
 * and would only fill the trace. */
void tr_sched_drain_except(struct tr_thread_slot *s, int32_t tid, uint64_t from_ns,
                           uint64_t to_ns) TR_HIDDEN;

/* Emits the thread-state snapshot once per session: the first thread to see tracing enabled
 * after it was off does it (sampler_signal.c, waits.c). ASYNC-SIGNAL-SAFE. */
static inline void tr_announce_states_once(void)
{
    if (!atomic_load_explicit(&tr_samp.states_announced, memory_order_relaxed) &&
        !atomic_exchange_explicit(&tr_samp.states_announced, 1, memory_order_relaxed))
        tr_emit_thread_states();
}

/* The in-process CPU profile (cpu_profile.c): non-zero while one collects, and the handler's
 * hand-over of a sample. ASYNC-SIGNAL-SAFE. */
extern _Atomic int tr_cpu_profile_on TR_HIDDEN;
void tr_cpu_profile_push(const struct tr_thread_slot *slot, uint32_t tid, uint64_t weight_ns,
                         const uint64_t *pcs, size_t n) TR_HIDDEN;

/* The SIGPROF handler (sampler_signal.c). */
void tr_sigprof_handler(int sig, siginfo_t *info, void *ucontext) TR_HIDDEN;

#endif
