/* SPDX-License-Identifier: MIT */
/*
 * Records what keeps a thread from running: contended waits on pthread objects, the releases
 * that end them, and blocking calls that took longer than the threshold (ltprof_tp.h:
 * wait_begin, wait_end, wake, syscall). Called by the interposers on their slow paths (waits.h)
 * with the thread's own state; every event goes through tr_emit_enter/leave so the thread's
 * context switches are written out first. The blocking-call path may run inside a program's
 * signal handler (write() is async-signal-safe), so it only does async-signal-safe work.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <time.h>

#include "sampler-internal.h"
#include "waits.h"

#define WAIT_FRAMES 64

static uint64_t syscall_threshold_ns = 10000;

void tr_trace_configure(const struct tr_trace_config *cfg)
{
    syscall_threshold_ns = cfg->syscall_ns;
    tr_heap_configure(cfg->heap_interval_ms);
}

uint64_t tr_syscall_threshold_ns(void)
{
    return syscall_threshold_ns;
}


int tr_emit_enter(void)
{
    int token = tr_tls_emitting;
    tr_tls_emitting = 1;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (!token) {
        struct tr_thread_slot *s = tr_slot_self();
        tr_announce_states_once(); /* first, so the thread is named before its switches */
        if (s) {
            tr_sched_follow(s, tr_tid_self(),
                            lttng_ust_tracepoint_enabled(ltprof, sched_switches));
            tr_sched_drain(s, tr_tid_self());
        }
    }
    return token;
}

void tr_emit_leave(int token)
{
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    tr_tls_emitting = token;
}

/* The wait the thread is in, for the thread_state snapshot. */
static void note_wait(const char *kind, uint64_t since_ns)
{
    struct tr_thread_slot *s = tr_slot_self();
    if (!s)
        return;
    atomic_store_explicit(&s->wait_since_ns, since_ns, memory_order_relaxed);
    atomic_store_explicit(&s->wait_kind, kind, memory_order_release);
}

TR_TEXT __attribute__((noinline)) void tr_wait_prepare(struct tr_wait *w)
{
    tr_guard_enter();
    w->npcs = (uint16_t)tr_stack_capture_caller(w->pcs, TR_WAIT_FRAMES);
    tr_guard_leave();
}

TR_TEXT __attribute__((noinline)) void tr_wait_begin(const struct tr_wait *w, const char *kind,
                                                     const void *addr, uint64_t target)
{
    tr_guard_enter();
    int token = tr_emit_enter();
    tr_heap_tick();
    note_wait(kind, tr_now_ns());
    lttng_ust_tracepoint(ltprof, wait_begin, (uint32_t)tr_tid_self(), kind, (uint64_t)(uintptr_t)addr,
                         target, w->pcs, w->npcs);
    tr_emit_leave(token);
    tr_guard_leave();
}

TR_TEXT __attribute__((noinline)) void tr_wait_end(const char *kind, const void *addr, int result)
{
    int saved_errno = errno;
    tr_guard_enter();
    /* The switches while it waited say nothing new: dropped, not written before the end. */
    struct tr_thread_slot *slot = tr_slot_self();
    if (slot && !tr_tls_emitting)
        tr_sched_drain_except(slot, tr_tid_self(),
                              atomic_load_explicit(&slot->wait_since_ns, memory_order_relaxed),
                              tr_now_ns());
    int token = tr_emit_enter();
    note_wait(NULL, 0);
    lttng_ust_tracepoint(ltprof, wait_end, (uint32_t)tr_tid_self(), kind, (uint64_t)(uintptr_t)addr,
                         (int32_t)result);
    tr_emit_leave(token);
    tr_guard_leave();
    errno = saved_errno;
}

/* Emits the event first and the thread's switches after it: they happened during the wait or
 * call the event describes, which began before anything of it was recorded. */
static int emit_enter_after(void)
{
    int token = tr_tls_emitting;
    tr_tls_emitting = 1;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    return token;
}

/* Leaves the emission and writes out the switches, but those from `from_ns` to `to_ns`. */
static void emit_leave_drain(int token, uint64_t from_ns, uint64_t to_ns)
{
    tr_emit_leave(token);
    if (!token) {
        struct tr_thread_slot *s = tr_slot_self();
        if (s)
            tr_sched_drain_except(s, tr_tid_self(), from_ns, to_ns);
    }
}

TR_TEXT __attribute__((noinline)) void tr_wait_end_unseen(const char *kind, const void *addr,
                                                          int result)
{
    int saved_errno = errno;
    tr_guard_enter();
    int token = emit_enter_after();
    tr_announce_states_once();
    lttng_ust_tracepoint(ltprof, wait_end, (uint32_t)tr_tid_self(), kind, (uint64_t)(uintptr_t)addr,
                         (int32_t)result);
    emit_leave_drain(token, 0, tr_now_ns()); /* the wait began unseen */
    tr_guard_leave();
    errno = saved_errno;
}

TR_TEXT __attribute__((noinline)) void tr_wake(const char *kind, const void *addr)
{
    uint64_t pcs[WAIT_FRAMES];
    int saved_errno = errno;
    tr_guard_enter();
    int token = tr_emit_enter();
    size_t n = tr_stack_capture_caller(pcs, WAIT_FRAMES);
    lttng_ust_tracepoint(ltprof, wake, (uint32_t)tr_tid_self(), kind, (uint64_t)(uintptr_t)addr,
                         pcs, (uint16_t)n);
    tr_emit_leave(token);
    tr_guard_leave();
    errno = saved_errno;
}

void tr_sched_stop_following(void)
{
    struct tr_thread_slot *s = tr_slot_self();
    if (s && !lttng_ust_tracepoint_enabled(ltprof, sched_switches))
        tr_sched_follow(s, tr_tid_self(), 0);
}

TR_TEXT void tr_call_begin(struct tr_call *c, const char *call)
{
    c->on = tr_calls_on();
    if (!c->on)
        return;
    tr_guard_enter();
    c->token = tr_emit_enter();
    tr_guard_leave();
    c->start_ns = tr_now_ns();
    note_wait(call, c->start_ns);
}

TR_TEXT void tr_call_begun_unseen(struct tr_call *c)
{
    c->on = 1;
    c->start_ns = 0;
    c->token = emit_enter_after();
    tr_announce_states_once();
}

TR_TEXT __attribute__((noinline)) void tr_call_end(struct tr_call *c, const char *call, int fd,
                                                   int64_t result)
{
    uint64_t pcs[WAIT_FRAMES];
    if (!c->on)
        return;
    int saved_errno = errno;
    uint64_t end_ns = tr_now_ns();
    note_wait(NULL, 0);
    tr_guard_enter();
    if (end_ns - c->start_ns >= syscall_threshold_ns) { /* start 0: it began unseen */
        size_t n = tr_stack_capture_caller(pcs, WAIT_FRAMES);
        lttng_ust_tracepoint(ltprof, syscall, (uint32_t)tr_tid_self(), call, (int32_t)fd,
                             c->start_ns, end_ns, result, pcs, (uint16_t)n);
    }
    /* The switches during a recorded call say nothing new; those of a short one (off CPU
     * for less than the threshold) are written out now rather than at the next event. */
    if (end_ns - c->start_ns >= syscall_threshold_ns)
        emit_leave_drain(c->token, c->start_ns, end_ns);
    else
        emit_leave_drain(c->token, 1, 0);
    tr_guard_leave();
    errno = saved_errno;
}
