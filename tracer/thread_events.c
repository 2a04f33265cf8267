/* SPDX-License-Identifier: MIT */
/*
 * Thread lifecycle events (ltprof_tp.h: thread_start, thread_exit, thread_state, trace_info).
 * The pthread_create interposer records the creator's side (stack, time) before the thread
 * exists; the new thread emits thread_start with it, so the event needs no coordination between
 * the two. Thread states come from the sampler's thread table (sampler-internal.h).
 * Face: tracer.h and thread_events.h.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "sampler-internal.h"
#include "thread_events.h"
#include "waits.h"

TR_TEXT void tr_thread_birth_record(struct tr_thread_birth *b, void *(*start)(void *))
{
    b->start_fn = (uint64_t)(uintptr_t)start;
    b->npcs = 0;
    b->create_ns = 0;
    b->creator_tid = (uint32_t)tr_tid_self();
    b->npcs = (uint16_t)tr_stack_capture_caller(b->pcs, TR_BIRTH_FRAMES);
    if (lttng_ust_tracepoint_enabled(ltprof, thread_start))
        b->create_ns = tr_now_ns();
}

void tr_thread_started(const struct tr_thread_birth *b)
{
    char name[16] = "";
    tr_stack_prepare_self();
    if (!lttng_ust_tracepoint_enabled(ltprof, thread_start))
        return;
    prctl(PR_GET_NAME, name);
    name[15] = '\0';
    /* thread_start comes first in the thread's events: the switches its ring caught while it
     * was being set up (the caller blocks SIGPROF meanwhile) are written after it. */
    lttng_ust_tracepoint(ltprof, thread_start, (uint32_t)tr_tid_self(), (uint64_t)pthread_self(),
                         b->creator_tid, b->create_ns, b->start_fn, name, b->pcs, b->npcs);
    int token = tr_emit_enter();
    tr_heap_tick();
    tr_emit_leave(token);
}

/* Set once the thread's exit is written (by the trampoline on return, or by its cleanup handler
 * on pthread_exit and cancellation): the signal handler writes no more events. */
__thread int tr_tls_exited TR_TLS;

void tr_thread_exited(void)
{
    if (tr_tls_exited)
        return;
    tr_tls_exited = 1;
    if (!lttng_ust_tracepoint_enabled(ltprof, thread_exit))
        return;
    tr_guard_enter();
    int token = tr_emit_enter();
    tr_heap_tick();
    lttng_ust_tracepoint(ltprof, thread_exit, (uint32_t)tr_tid_self(), (uint64_t)pthread_self());
    tr_emit_leave(token);
    tr_guard_leave();
}

void tr_emit_thread_states(void)
{
    if (lttng_ust_tracepoint_enabled(ltprof, trace_info)) {
        int sched = atomic_load_explicit(&tr_samp.sched_on, memory_order_relaxed);
        lttng_ust_tracepoint(ltprof, trace_info, sched ? "perf_event" : "none",
                             sched ? "" : tr_samp.sched_note, tr_syscall_threshold_ns(),
                             tr_heap_source());
    }
    if (!lttng_ust_tracepoint_enabled(ltprof, thread_state))
        return;
    uint32_t used = atomic_load_explicit(&tr_samp.slots_used, memory_order_acquire);
    for (uint32_t i = 0; i < used && i < TR_MAX_THREADS; i++) {
        struct tr_thread_slot *s = &tr_samp.slots[i];
        int32_t tid = atomic_load_explicit(&s->tid, memory_order_acquire);
        if (tid == 0)
            continue;
        char name[16];
        memcpy(name, s->name, sizeof(name));
        name[15] = '\0';
        const char *wait = atomic_load_explicit(&s->wait_kind, memory_order_acquire);
        uint64_t since = wait ? atomic_load_explicit(&s->wait_since_ns, memory_order_relaxed) : 0;
        lttng_ust_tracepoint(ltprof, thread_state, (uint32_t)tid, (uint64_t)s->thread, name,
                             wait ? wait : "", since);
    }
}
