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
};

struct tr_wmap {
    uintptr_t lo, hi;
};

/* The sampler's process-wide state. sampler.c writes the configuration before arming any
 * thread; the handler only reads it and updates the counters. */
struct tr_sampler_state {
    _Atomic int engine;         /* enum tr_cpu_engine; TR_ENGINE_NONE when stopped */
    uint64_t period_ns;
    size_t ring_bytes;          /* perf ring mapping: 1 header page + 1 data page */
    uint32_t max_frames;
    _Atomic uint32_t pid;       /* cached getpid(), reset in a fork child */
    _Atomic int force_unwind;
    _Atomic uint32_t epoch;     /* bumped to make every thread announce itself again */
    _Atomic uint32_t slots_used; /* high-water mark of the slot table */
    struct sigaction prev_action; /* SIGPROF disposition before ours (chained to) */
    struct tr_thread_slot slots[TR_MAX_THREADS];
    _Atomic uint32_t nwmaps;    /* published after wmaps[] is filled */
    struct tr_wmap wmaps[TR_MAX_WMAPS];
    _Atomic uint64_t samples, signals_foreign, unwind[4], handler_ns_total;
};

extern struct tr_sampler_state tr_samp TR_HIDDEN;

/* Per-thread: our slot index + 1 (0: unknown), cached tid, and what the announcement logic
 * last saw (cpu_sample enabled, epoch). */
extern __thread int32_t tr_tls_slot TR_TLS;
extern __thread int32_t tr_tls_tid TR_TLS;
extern __thread int32_t tr_tls_seen_enabled TR_TLS;
extern __thread uint32_t tr_tls_epoch TR_TLS;

/* The SIGPROF handler (sampler_signal.c). */
void tr_sigprof_handler(int sig, siginfo_t *info, void *ucontext) TR_HIDDEN;

#endif
