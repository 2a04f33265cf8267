/* SPDX-License-Identifier: MIT */
/*
 * Internal to converter/: the execution-trace model. events.c feeds timeline.c with ltprof's
 * thread, wait, call, switch, sample and annotation events in trace order; timeline.c keeps
 * one state machine per thread lifetime (running, preempted, off CPU, waiting, sleeping, in a
 * call) and tells its outputs each transition through struct tl_ops: trace_gotrace.c (Go
 * execution trace) and trace_json.c (Chrome/Perfetto JSON). Stacks are interned in
 * stacks.c. Single-threaded, like the rest of the conversion.
 */
#ifndef LTPROF_CONVERTER_TIMELINE_H
#define LTPROF_CONVERTER_TIMELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "internal.h"

/* ---- stacks (stacks.c) ---------------------------------------------------------------------- */

#define CV_MAX_INLINE 16      /* inline depth kept per address */
#define CV_MAX_SYM_FRAMES 128 /* frames of a symbolized stack, inline frames included */

/* A distinct stack of one process; id = index + 1, 0 = no stack. */
struct cv_stack {
    uint64_t hash;
    int64_t pid;
    uint32_t n;
    bool exact_leaf; /* pcs[0] is an exact PC (a CPU sample), not a return address */
    size_t pcs_offset;
};

/* One symbolized frame, leaf first. Strings are the symbolizer's or the cv_symbolized's. */
struct cv_frame {
    uint64_t pc;
    const char *function; /* never NULL */
    const char *file;     /* NULL when unknown */
    int line;
};

struct cv_symbolized {
    size_t n;
    struct cv_frame frames[CV_MAX_SYM_FRAMES];
    char names[CV_MAX_SYM_FRAMES][48]; /* names made up for addresses without symbols */
};

void cv_stacks_init(struct cv_stacks *t);
void cv_stacks_fini(struct cv_stacks *t);
/* Interns a stack (at most CV_MAX_FRAMES PCs) and sets *id (0 when n is 0). 0 or NOMEM. */
int cv_stack_intern(struct cv_stacks *t, int64_t pid, const uint64_t *pcs, uint32_t n,
                    bool exact_leaf, uint32_t *id);
/* The stack with this id, or NULL for 0. Valid until the next intern. */
struct cv_stack *cv_stack_get(struct cv_stacks *t, uint32_t id);
const uint64_t *cv_stack_pcs(const struct cv_stacks *t, const struct cv_stack *s);
/* Frames of `s` with inline chains expanded. 0 or LTPROF_ERR_NOMEM. */
int cv_stack_symbolize(struct cv_state *st, const struct cv_stack *s, struct cv_symbolized *out);
/* The same for the first PC only (its inline chain: frames[0] is the innermost function). */
int cv_stack_symbolize_leaf(struct cv_state *st, const struct cv_stack *s,
                            struct cv_symbolized *out);

/* ---- threads -------------------------------------------------------------------------------- */

enum tl_state {
    TL_RUNNING,  /* on a CPU, or at least not inside anything that waits */
    TL_RUNNABLE, /* preempted, or woken and not yet running */
    TL_OFFCPU,   /* off the CPU outside any recorded wait (page faults, untraced calls) */
    TL_WAITING,  /* in a wait: wait_kind says which, or unknown for threads seen late */
    TL_SLEEPING,
    TL_SYSCALL,
    TL_EXITED,
};

/* Why a thread stops running (tl_ops.stop). */
enum tl_stop {
    TL_STOP_PREEMPT, /* runnable, off CPU */
    TL_STOP_OFFCPU,  /* voluntary switch outside recorded waits */
    TL_STOP_SYNC,    /* mutex, rwlock, semaphore, barrier */
    TL_STOP_COND,    /* condition variable */
    TL_STOP_JOIN,    /* pthread_join */
    TL_STOP_SLEEP,
    TL_STOP_SYSCALL,
};

struct tl_open_region;

/* One thread lifetime. Outputs read these fields; timeline.c writes them. */
struct tl_thread {
    uint32_t index;   /* position in the timeline's thread list: outputs index their state by it */
    int64_t pid;
    uint32_t tid;
    uint64_t pthread; /* 0 when unknown */
    char *name;       /* latest name, never NULL */
    enum tl_state state;
    uint64_t last_ts; /* time of its latest transition; its events never go below it */
    uint64_t begin_ts;
    bool preexisting;  /* existed before the trace began (no thread_start seen) */
    /* The current wait, while state is WAITING, SLEEPING or SYSCALL. */
    const char *wait_kind; /* static or interned text: "mutex", "read", ... */
    uint64_t wait_addr;
    uint64_t wait_ts;
    uint32_t wait_stack;
    /* Open regions, innermost last, to drop ends that match none (Go's readers reject them). */
    struct tl_open_region *regions;
    uint32_t nregions, cap_regions;
};

struct tl_open_region {
    uint64_t task;
    const char *type; /* interned: compared by pointer */
};

/* What outputs are told. `stack` arguments are cv_stack ids (0 = none). Each returns 0 or a
 * negative ltprof_status; the timeline stops at the first error. */
struct tl_ops {
    const char *name; /* for error messages */
    /* The first event's time: no time passed to the output is earlier. */
    int (*begin)(void *ctx, uint64_t t0);
    /* A thread appears: created by `creator` at `create_ts` (NULL when it existed before the
     * trace or its creator is not traced), or found already waiting when `waiting`. */
    int (*thread_new)(void *ctx, const struct tl_thread *t, uint64_t ts,
                      const struct tl_thread *creator, uint64_t create_ts, uint32_t create_stack,
                      uint64_t start_fn, bool waiting);
    int (*thread_renamed)(void *ctx, const struct tl_thread *t);
    int (*run)(void *ctx, const struct tl_thread *t, uint64_t ts, int cpu);
    /* `detail`: the wait kind or call name; `addr` the object waited on (0: none). */
    int (*stop)(void *ctx, const struct tl_thread *t, uint64_t ts, enum tl_stop why,
                uint32_t stack, const char *detail, uint64_t addr);
    /* `t` becomes runnable. `waker` unblocked it at `waker_ts` (NULL: nobody known, at `ts`)
     * by a release of kind `how` ("mutex", "cond_signal", "exit", ..., NULL when unknown);
     * `from` says what t was doing (a TL_STOP_*). */
    int (*wake)(void *ctx, const struct tl_thread *t, uint64_t ts, enum tl_stop from,
                const struct tl_thread *waker, uint64_t waker_ts, const char *how,
                uint32_t stack);
    int (*thread_end)(void *ctx, const struct tl_thread *t, uint64_t ts);
    int (*cpu_sample)(void *ctx, const struct tl_thread *t, uint64_t ts, uint32_t stack);
    int (*task)(void *ctx, const struct tl_thread *t, uint64_t ts, uint64_t task, uint64_t parent,
                const char *type, bool end, uint32_t stack);
    int (*region)(void *ctx, const struct tl_thread *t, uint64_t ts, uint64_t task,
                  const char *type, bool end, uint32_t stack);
    int (*log)(void *ctx, const struct tl_thread *t, uint64_t ts, uint64_t task,
               const char *category, const char *message, uint32_t stack);
    int (*heap)(void *ctx, const struct tl_thread *t, uint64_t ts, uint64_t bytes);
    /* A fact about the recording, for the reader ("scheduling: ...", "the tracer lost ..."),
     * on thread t, which may not be running. */
    int (*note)(void *ctx, const struct tl_thread *t, uint64_t ts, const char *text);
    /* The trace ends at `end_ts`: close whatever is open and write the file. */
    int (*finish)(void *ctx, uint64_t end_ts, const struct tl_thread *const *live, size_t nlive);
    void (*destroy)(void *ctx);
};

/* Counters for the summary and for tests. */
struct tl_stats {
    uint64_t threads;        /* thread lifetimes */
    uint64_t switches;       /* context switches applied */
    uint64_t switches_stale; /* context switches older than their thread's last event */
    uint64_t switches_lost;  /* reported lost by the kernel */
    uint64_t waits;          /* recorded waits (sync) */
    uint64_t wakers_known;   /* ... whose waker was found */
    uint64_t calls;          /* blocking calls */
    uint64_t clamped;        /* event times raised to keep a thread's time monotonic */
    uint64_t regions_dropped;/* region ends that matched no open region */
    uint64_t after_exit;     /* events a thread emitted after its exit (dropped) */
    uint64_t losses_noted;   /* reports of lost events written as a note (at most 20) */
};

struct tl_timeline;

/* A timeline writing to `outputs` (borrowed: the caller destroys them after tl_destroy). */
struct tl_timeline *tl_create(struct cv_state *st, const struct tl_output *outputs,
                              size_t noutputs);
void tl_destroy(struct tl_timeline *tl);

/* Input events, in trace order. `ts` is the event's time (ns from the clock's origin); times
 * in payloads are converted by the caller. Each returns 0 or a negative ltprof_status.
 * tl_event_time() comes first for every event: the first one sets the trace's start (times in
 * payloads may be older, and are raised to it). */
int tl_event_time(struct tl_timeline *tl, uint64_t ts);
int tl_thread_start(struct tl_timeline *tl, uint64_t ts, int64_t pid, uint32_t tid,
                    uint64_t pthread, uint32_t creator_tid, uint64_t create_ts, uint64_t start_fn,
                    const char *name, uint32_t creator_stack);
int tl_thread_exit(struct tl_timeline *tl, uint64_t ts, int64_t pid, uint32_t tid);
int tl_thread_name(struct tl_timeline *tl, uint64_t ts, int64_t pid, uint32_t tid,
                   const char *name);
/* A snapshot: the thread exists, named `name`, in wait `wait` ("" when none known) since. */
int tl_thread_state(struct tl_timeline *tl, uint64_t ts, int64_t pid, uint32_t tid,
                    uint64_t pthread, const char *name, const char *wait, uint64_t since_ts);
/* One context switch: out (preempted or not) or in, on `cpu`. */
int tl_switch(struct tl_timeline *tl, int64_t pid, uint32_t tid, uint64_t ts, bool out,
              bool preempt, int cpu);
void tl_switches_lost(struct tl_timeline *tl, uint64_t lost);
int tl_wait_begin(struct tl_timeline *tl, uint64_t ts, int64_t pid, uint32_t tid,
                  const char *kind, uint64_t addr, uint64_t target, uint32_t stack);
int tl_wait_end(struct tl_timeline *tl, uint64_t ts, int64_t pid, uint32_t tid,
                const char *kind, uint64_t addr);
int tl_wake(struct tl_timeline *tl, uint64_t ts, int64_t pid, uint32_t tid, const char *kind,
            uint64_t addr, uint32_t stack);
int tl_call(struct tl_timeline *tl, int64_t pid, uint32_t tid, const char *call,
            uint64_t start_ts, uint64_t end_ts, uint32_t stack);
int tl_cpu_sample(struct tl_timeline *tl, uint64_t ts, int64_t pid, uint32_t tid,
                  uint32_t stack);
int tl_task(struct tl_timeline *tl, uint64_t ts, int64_t pid, uint32_t tid, uint64_t task,
            uint64_t parent, const char *type, bool end, uint32_t stack);
int tl_region(struct tl_timeline *tl, uint64_t ts, int64_t pid, uint32_t tid, uint64_t task,
              const char *type, bool end, uint32_t stack);
int tl_log(struct tl_timeline *tl, uint64_t ts, int64_t pid, uint32_t tid, uint64_t task,
           const char *category, const char *message, uint32_t stack);
int tl_heap(struct tl_timeline *tl, uint64_t ts, int64_t pid, uint32_t tid, uint64_t bytes);
/* What the process said about its recording (ltprof:trace_info). */
int tl_trace_info(struct tl_timeline *tl, uint64_t ts, int64_t pid, uint32_t tid,
                  const char *sched_source, const char *sched_note, uint64_t syscall_ns);
/* The tracer lost events of process `pid` from `ts` on: a note on one of its threads. */
int tl_events_lost(struct tl_timeline *tl, uint64_t ts, int64_t pid);
/* The end: closes every thread at `end_ts` and finishes the outputs. */
int tl_finish(struct tl_timeline *tl, uint64_t end_ts);
void tl_get_stats(const struct tl_timeline *tl, struct tl_stats *out);
/* Interns a short string for the timeline's lifetime (region and task types, kinds). */
const char *tl_intern(struct tl_timeline *tl, const char *s);

/* ---- outputs ------------------------------------------------------------------------------- */

/* The Go execution trace (trace_gotrace.c), written to `path`. 0, or a negative status with
 * `err` filled. The output is destroyed with out->ops->destroy(out->ctx). */
int tl_gotrace_output_create(struct cv_state *st, const char *path, struct tl_output *out,
                             struct ltprof_error *err);
/* Chrome/Perfetto JSON (trace_json.c), written to `path`; same contract. */
int tl_json_output_create(struct cv_state *st, const char *path, struct tl_output *out,
                          struct ltprof_error *err);

#endif
