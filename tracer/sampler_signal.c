/* SPDX-License-Identifier: MIT */
/*
 * ASYNC-SIGNAL-SAFE: the SIGPROF handler of the CPU sampler and everything it calls. Nothing
 * here locks, allocates or calls a function that is not async-signal-safe; it reads the slot
 * table published by sampler.c (sampler-internal.h) and TLS with the initial-exec model.
 * It tells our signals from foreign ones, emits ltprof:cpu_sample, writes out the thread's
 * context switches (sched.c) and re-arms perf events.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "guard.h"
#include "ltprof_tp.h"
#include "sampler-internal.h"
#include "unwind.h"

#define RELAXED memory_order_relaxed

int32_t tr_tid_self(void)
{
    if (tr_tls_tid == 0)
        tr_tls_tid = (int32_t)syscall(SYS_gettid);
    return tr_tls_tid;
}

struct tr_thread_slot *tr_slot_self(void)
{
    int32_t tid = tr_tid_self();
    int32_t idx = tr_tls_slot - 1;
    if (idx >= 0 && atomic_load_explicit(&tr_samp.slots[idx].tid, memory_order_acquire) == tid)
        return &tr_samp.slots[idx];
    uint32_t used = atomic_load_explicit(&tr_samp.slots_used, memory_order_acquire);
    for (uint32_t i = 0; i < used && i < TR_MAX_THREADS; i++) {
        if (atomic_load_explicit(&tr_samp.slots[i].tid, memory_order_acquire) == tid) {
            tr_tls_slot = (int32_t)i + 1;
            return &tr_samp.slots[i];
        }
    }
    return NULL;
}

enum sig_kind { SIG_OURS, SIG_STALE, SIG_FOREIGN, SIG_DUMP };

/* Ours: a perf overflow of this thread's fd, or our timer for this thread's slot. Stale: one
 * of ours that arrives after its thread was disarmed (dropped). */
static enum sig_kind classify(const siginfo_t *info, struct tr_thread_slot **slot_out)
{
    *slot_out = NULL;
    if (info->si_code == POLL_HUP || info->si_code == POLL_IN) {
        struct tr_thread_slot *s = tr_slot_self();
        if (s && s->fd >= 0 && s->fd == info->si_fd) {
            *slot_out = s;
            return SIG_OURS;
        }
        /* Only perf-based profilers send SIGPROF with POLL_*: forward it when someone else
         * has a handler, else it is a late one of ours. */
        return (tr_samp.prev_action.sa_flags & SA_SIGINFO) ? SIG_FOREIGN : SIG_STALE;
    }
    if (info->si_code == SI_QUEUE) { /* a thread dump asks for this thread's stack */
        uint64_t v = (uint64_t)(uintptr_t)info->si_value.sival_ptr;
        uint32_t idx = (uint32_t)v;
        if ((uint32_t)(v >> 32) != TR_DUMP_MAGIC ||
            info->si_pid != (pid_t)atomic_load_explicit(&tr_samp.pid, RELAXED))
            return SIG_FOREIGN;
        if (idx < TR_MAX_THREADS &&
            atomic_load_explicit(&tr_samp.slots[idx].tid, memory_order_acquire) == tr_tid_self()) {
            *slot_out = &tr_samp.slots[idx];
            return SIG_DUMP;
        }
        return SIG_STALE;
    }
    if (info->si_code == SI_TIMER) {
        uint64_t v = (uint64_t)(uintptr_t)info->si_value.sival_ptr;
        if ((uint32_t)(v >> 32) != TR_TIMER_MAGIC)
            return SIG_FOREIGN;
        uint32_t idx = (uint32_t)v;
        if (idx < TR_MAX_THREADS &&
            atomic_load_explicit(&tr_samp.slots[idx].tid, memory_order_acquire) == tr_tid_self() &&
            tr_samp.slots[idx].has_timer) {
            tr_tls_slot = (int32_t)idx + 1;
            *slot_out = &tr_samp.slots[idx];
            return SIG_OURS;
        }
        return SIG_STALE;
    }
    return SIG_FOREIGN;
}

/* Gives a foreign SIGPROF what the previous disposition would have done with it. */
static void chain(int sig, siginfo_t *info, void *ucontext)
{
    const struct sigaction *prev = &tr_samp.prev_action;
    atomic_fetch_add_explicit(&tr_samp.signals_foreign, 1, RELAXED);
    if (prev->sa_flags & SA_SIGINFO) {
        sigset_t old;
        pthread_sigmask(SIG_BLOCK, &prev->sa_mask, &old);
        prev->sa_sigaction(sig, info, ucontext);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    } else if (prev->sa_handler == SIG_DFL) {
        /* SIGPROF's default action terminates the process: do the same. */
        struct sigaction dfl = {.sa_handler = SIG_DFL};
        sigset_t set;
        sigaction(sig, &dfl, NULL);
        sigemptyset(&set);
        sigaddset(&set, sig);
        syscall(SYS_tgkill, getpid(), tr_tid_self(), sig);
        pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    } else if (prev->sa_handler != SIG_IGN) {
        sigset_t old;
        pthread_sigmask(SIG_BLOCK, &prev->sa_mask, &old);
        prev->sa_handler(sig);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Once per thread and session: process_info and thread_info before the first sample. */
static void announce_if_needed(const struct tr_thread_slot *slot)
{
    uint32_t epoch = atomic_load_explicit(&tr_samp.epoch, RELAXED);
    if (tr_tls_seen_enabled && tr_tls_epoch == epoch)
        return;
    tr_tls_seen_enabled = 1;
    tr_tls_epoch = epoch;
    lttng_ust_tracepoint(ltprof, process_info, LTPROF_SCHEMA_VERSION,
                         atomic_load_explicit(&tr_samp.pid, RELAXED),
                         tr_engine_name((enum tr_cpu_engine)atomic_load_explicit(&tr_samp.engine,
                                                                                  RELAXED)),
                         tr_samp.period_ns, tr_samp.max_frames);
    lttng_ust_tracepoint(ltprof, thread_info, (uint32_t)tr_tid_self(), slot->name);
    tr_announce_states_once();
}

/* The stack the unwinder may read: the slot's own range when sp is inside it, else the
 * writable mapping that contains sp (from the snapshot taken at start), else only [sp, sp). */
static struct tr_stack_range stack_for(const struct tr_thread_slot *slot, uintptr_t sp)
{
    struct tr_stack_range r = {sp, sp, 0};
    if (slot && sp >= slot->stack.lo && sp < slot->stack.hi)
        return slot->stack;
    uint32_t lo = 0, hi = atomic_load_explicit(&tr_samp.nwmaps, memory_order_acquire);
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (sp < tr_samp.wmaps[mid].lo) {
            hi = mid;
        } else if (sp >= tr_samp.wmaps[mid].hi) {
            lo = mid + 1;
        } else {
            r.hi = tr_samp.wmaps[mid].hi;
            break;
        }
    }
    return r;
}

int tr_stack_range_guess(uintptr_t sp, struct tr_stack_range *out)
{
    *out = stack_for(tr_slot_self(), sp);
    return out->hi > out->lo ? 0 : -1;
}

static void sample(struct tr_thread_slot *slot, const siginfo_t *info, void *ucontext)
{
    int enabled = lttng_ust_tracepoint_enabled(ltprof, cpu_sample);
    uint64_t weight_ns = tr_samp.period_ns;
    if (info->si_code == SI_TIMER && info->si_overrun > 0)
        weight_ns *= 1 + (uint64_t)info->si_overrun;

    atomic_fetch_add_explicit(&tr_samp.samples, 1, RELAXED);
    atomic_fetch_add_explicit(&slot->samples, 1, RELAXED);
    if (!enabled) {
        tr_tls_seen_enabled = 0;
        if (atomic_load_explicit(&tr_samp.states_announced, RELAXED))
            atomic_store_explicit(&tr_samp.states_announced, 0, RELAXED); /* session over */
    }
    if (tr_tls_exited)
        enabled = 0; /* its exit is written: no event any more (sampler-internal.h) */
    int profiling = atomic_load_explicit(&tr_cpu_profile_on, memory_order_acquire);
    if (!enabled && !profiling && !atomic_load_explicit(&tr_samp.force_unwind, RELAXED))
        return;
    if (enabled)
        announce_if_needed(slot);

    struct tr_regs regs;
    uint64_t pcs[TR_UNWIND_MAX_FRAMES];
    enum tr_unwind_status status = TR_UNWIND_NO_INFO;
    tr_regs_from_ucontext(&regs, ucontext);
    struct tr_stack_range stack = stack_for(slot, (uintptr_t)regs.reg[TR_REG_RSP]);
    size_t n = tr_unwind(&regs, &stack, pcs, tr_samp.max_frames, &status);
    if ((unsigned)status < 4)
        atomic_fetch_add_explicit(&tr_samp.unwind[status], 1, RELAXED);
    if (enabled) {
        uint32_t labels = tr_tls_labels;
        tr_labels_announce(labels);
        lttng_ust_tracepoint(ltprof, cpu_sample, (uint32_t)tr_tid_self(), weight_ns, (uint8_t)status,
                             pcs, (uint16_t)n, labels);
    }
    if (profiling)
        tr_cpu_profile_push(slot, (uint32_t)tr_tid_self(), weight_ns, pcs, n);
}

void tr_sigprof_handler(int sig, siginfo_t *info, void *ucontext)
{
    int saved_errno = errno;
    struct tr_thread_slot *slot;
    enum sig_kind kind = classify(info, &slot);

    if (kind == SIG_DUMP) {
        int asked = 1;
        if (atomic_compare_exchange_strong(&slot->dump_state, &asked, 3)) { /* 3: taking it */
            struct tr_regs regs;
            enum tr_unwind_status status;
            tr_regs_from_ucontext(&regs, ucontext);
            struct tr_stack_range stack = stack_for(slot, (uintptr_t)regs.reg[TR_REG_RSP]);
            slot->dump_n = (uint16_t)tr_unwind(&regs, &stack, slot->dump_pcs, 64, &status);
            atomic_store_explicit(&slot->dump_state, 2, memory_order_release);
        }
    } else if (kind == SIG_FOREIGN) {
        chain(sig, info, ucontext);
    } else if (kind == SIG_STALE) {
        atomic_fetch_add_explicit(&tr_samp.signals_foreign, 1, RELAXED);
    } else {
        uint64_t t0 = now_ns();
        tr_guard_enter(); /* what LTTng-UST calls from here is not traced */
        sample(slot, info, ucontext);
        if (!tr_tls_emitting && !tr_tls_exited) { /* else it drains itself, or it is gone */
            tr_sched_follow(slot, tr_tid_self(),
                            lttng_ust_tracepoint_enabled(ltprof, sched_switches));
            tr_sched_drain(slot, tr_tid_self());
        }
        tr_guard_leave();
        if (slot->ring) /* consume the sample records: the ring never fills */
            __atomic_store_n(&slot->ring->data_tail,
                             __atomic_load_n(&slot->ring->data_head, __ATOMIC_ACQUIRE),
                             __ATOMIC_RELEASE);
        else if (slot->fd >= 0)
            ioctl(slot->fd, PERF_EVENT_IOC_REFRESH, 1);
        atomic_fetch_add_explicit(&tr_samp.handler_ns_total, now_ns() - t0, RELAXED);
    }
    errno = saved_errno;
}
