/* SPDX-License-Identifier: MIT */
/*
 * The tracer's face: everything other components (runtime/, tests) call in tracer/.
 * The CPU sampler arms a per-thread perf_event or POSIX CPU timer that sends SIGPROF; the
 * handler (sampler_signal.c) unwinds and emits ltprof:cpu_sample (schema: ltprof_tp.h).
 * All functions here run in normal context; none may be called from a signal handler.
 */
#ifndef LTPROF_TRACER_H
#define LTPROF_TRACER_H

#include <pthread.h>
#include <stdint.h>

#include "ltprof/ltprof.h"
#include "unwind.h" /* enum tr_unwind_status, recorded as cpu_sample.unwind_status */

/* ---- CPU sampler (sampler.c, sampler_signal.c) ---------------------------------------------- */

enum tr_cpu_engine {
    TR_ENGINE_NONE = 0,  /* not sampling */
    TR_ENGINE_AUTO = 1,  /* timer_create, else perf_event (see sampler.c) */
    TR_ENGINE_PERF = 2,  /* per-thread perf_event_open(PERF_COUNT_SW_TASK_CLOCK) */
    TR_ENGINE_TIMER = 3, /* per-thread timer_create(thread CPU clock, SIGEV_THREAD_ID) */
};

struct tr_sampler_config {
    uint32_t period_hz;        /* samples per CPU-second per thread; 0 = off, at most 10000 */
    enum tr_cpu_engine engine; /* TR_ENGINE_AUTO, TR_ENGINE_PERF or TR_ENGINE_TIMER */
    uint32_t max_frames;       /* stack depth of each sample, 1..TR_UNWIND_MAX_FRAMES */
    int sched_switches;        /* also record context switches (perf), when the kernel allows */
};

/*
 * Starts CPU sampling of every thread of the process: installs the SIGPROF handler (a handler
 * installed before keeps receiving the signals that are not ours), chooses the engine and arms
 * the calling thread and every existing thread that does not block SIGPROF. Threads created
 * later are armed by the pthread_create interposer. A forced TR_ENGINE_PERF that the kernel
 * refuses fails with LTPROF_ERR_UNSUPPORTED; TR_ENGINE_AUTO takes the timer engine (perf when
 * timers cannot be made).
 * Returns LTPROF_OK (also when period_hz is 0: nothing starts), LTPROF_ERR_BUSY when already
 * running, or another negative status with a message in `err` (may be NULL).
 */
int tr_sampler_start(const struct tr_sampler_config *cfg, struct ltprof_error *err);

/* The engine in use: TR_ENGINE_PERF, TR_ENGINE_TIMER, or TR_ENGINE_NONE when not sampling. */
enum tr_cpu_engine tr_sampler_engine(void);

/* Where context switches come from: "perf_event" or "none" (then tr_sched_note() says why). */
const char *tr_sched_source(void);
const char *tr_sched_note(void);

/* "perf_event", "timer_create" or "none" (also for AUTO). Static string. */
const char *tr_engine_name(enum tr_cpu_engine engine);

/*
 * Arms the calling thread (the pthread_create trampoline calls it in each new thread). Also
 * registers the thread-exit cleanup. Returns 0 when armed, already armed or not sampling;
 * a negative enum ltprof_status when the thread could not be armed.
 */
int tr_sampler_arm_self(void);
/* The same, for a caller that blocked SIGPROF for a moment: `unblocked` says whether the thread
 * takes SIGPROF otherwise (threads that block it for good are not armed). */
int tr_sampler_arm_self_unblocked(int unblocked);

/* Disarms every thread and stops sampling; the SIGPROF handler stays installed (it drops
 * late signals of ours and forwards the others). Safe to call when not running. */
void tr_sampler_stop(void);

/* Counters since the process started (relaxed atomics, updated by the signal handler). */
struct tr_sampler_stats {
    uint64_t samples;          /* our signals handled (with or without an active session) */
    uint64_t signals_foreign;  /* SIGPROF that were not ours: forwarded or dropped */
    uint64_t unwind_complete;  /* walks by status (only when a walk happened) */
    uint64_t unwind_truncated;
    uint64_t unwind_no_info;
    uint64_t unwind_bad_frame;
    uint64_t handler_ns_total; /* CLOCK_MONOTONIC time spent in the handler for our signals */
};

void tr_sampler_get_stats(struct tr_sampler_stats *stats);

/* Samples taken so far in the thread `tid` while it is armed; for tests and diagnostics.
 * Returns 0 and sets *samples, or LTPROF_ERR_NOT_FOUND when `tid` is not armed. */
int tr_sampler_thread_samples(uint32_t tid, uint64_t *samples);

/* When `on`, the handler unwinds even while ltprof:cpu_sample is disabled (the unwind_*
 * counters then measure it). For tests and benchmarks. */
void tr_sampler_set_force_unwind(int on);

/*
 * Emits ltprof:process_info and the calling thread's ltprof:thread_info when the events are
 * enabled (the runtime calls it at start), and makes every thread announce itself again before
 * its next sample (call it when a new session starts, so that session's trace holds them).
 */
void tr_emit_process_info(void);

/* ---- thread names (sampler.c; called by interpose/pthread.c) --------------------------------- */

/* Records a new name of thread `thread` (a pthread_t) after pthread_setname_np succeeded and
 * emits ltprof:thread_info when enabled. */
void tr_thread_renamed(pthread_t thread, const char *name);

/* Emits ltprof:thread_info for the calling thread (at thread start) when enabled. */
void tr_emit_thread_info_self(void);

/* ---- allocation sampling (allocs.c; the interposers are interpose/malloc.c) ------------------ */

/* Mean bytes between sampled allocations (LTPROF_MEMPROFILE_RATE): 1 samples every allocation,
 * 0 none. Until it is set, Go's default 524288. Safe to call at any time. */
void tr_allocs_configure(uint64_t rate);
uint64_t tr_allocs_rate(void);

/* 1 when the program's malloc calls reach ltprof's interposers; 0 when another malloc comes
 * first in the symbol search order (its file is written to `first`); -1 when this build has
 * no interposers. */
int tr_allocs_interposed(char *first, size_t size);

struct tr_alloc_stats {
    uint64_t sampled; /* allocations sampled since the process started */
    uint64_t freed;   /* ... of which freed */
    uint64_t live;    /* sampled blocks live now */
    uint64_t dropped; /* sampled but not kept: the live set could not grow (mmap failed) */
};
void tr_allocs_get_stats(struct tr_alloc_stats *stats);

/* One bucket of an always-on table (stack_buckets.h): the events of one stack and key.
 * Allocations: key = block size | label set << 48 (TR_ALLOC_SIZE), v = {allocations, bytes,
 * frees, bytes freed}, raw sampled counts. Contention: key 0, v = {count, delay in ns} (see tr_contention_snapshot). */
struct tr_bucket {
    uint64_t hash, key;
    uint64_t v[4];
    size_t pcs_offset; /* the stack: npcs return addresses, leaf first, in the frame pool */
    uint32_t npcs;
};

#define TR_ALLOC_SIZE(key) ((key) & ((1ull << 48) - 1))
#define TR_KEY_LABELS(key, shift) ((uint32_t)((key) >> (shift)))

/* A copy of a table, taken at once (malloc'ed; free with tr_bucket_snapshot_free). */
struct tr_bucket_snapshot {
    struct tr_bucket *buckets; /* [0]: events whose stack did not fit */
    size_t n_buckets;
    uint64_t *pcs;        /* the frame pool */
    uint64_t rate;        /* the sampling rate now (LTPROF_MEMPROFILE_RATE, ...) */
    uint64_t table_bytes; /* memory of the always-on table */
    uint64_t overflow;    /* events counted in bucket 0 */
};
void tr_bucket_snapshot_free(struct tr_bucket_snapshot *s);

/* The sampled allocations (with the live set's memory in table_bytes). 0, or
 * LTPROF_ERR_NOMEM. */
int tr_allocs_snapshot(struct tr_bucket_snapshot *s);

/* ---- contended waits for the in-process mutex and block profiles (contention.c) ----------- */

/* LTPROF_MUTEX_FRACTION (Go's SetMutexProfileFraction: 1 in `fraction` contended lock waits
 * kept, 0 = none) and LTPROF_BLOCK_RATE (Go's SetBlockProfileRate, in ns: 1 = every wait on
 * synchronisation, 0 = none). Safe to call at any time. */
void tr_contention_configure(uint64_t fraction, uint64_t rate_ns);
uint64_t tr_mutex_fraction(void);
uint64_t tr_block_rate(void);
/* Block counts are fixed-point: this much is one wait. */
#define TR_BLOCK_COUNT_ONE 65536u
/* The mutex (which = 0: v = {contentions, delay ns}, already scaled by the fraction) or block
 * (which = 1: v = {contentions x TR_BLOCK_COUNT_ONE, delay ns}) table; rate = the fraction or
 * the rate now. 0, or LTPROF_ERR_NOMEM. */
int tr_contention_snapshot(int which, struct tr_bucket_snapshot *s);

/* ---- thread labels (labels.c), like Go's pprof.Do ---- */

#define TR_MAX_LABEL_SETS 4096 /* distinct sets over the process's life (ids fit 16 bits) */
#define TR_MAX_LABELS 16       /* pairs in one set */
struct tr_label_set {
    uint32_t n;
    const char *keys[TR_MAX_LABELS]; /* sorted */
    const char *values[TR_MAX_LABELS];
};
/* The calling thread's set id (0: none). Readable from a signal handler. */
extern __thread uint32_t tr_tls_labels __attribute__((tls_model("initial-exec"), visibility("hidden")));
/* Adds key=value to the calling thread's labels (a key's value replaced) until the matching
 * pop. LTPROF_OK; LTPROF_ERR_INVALID (NULL or empty key, NULL value, more than 16 labels or 32
 * nested pushes); LTPROF_ERR_NOMEM (out of memory, or 4096 distinct sets made already). */
int tr_labels_push(const char *key, const char *value);
void tr_labels_pop(void);
/* The calling thread's value for key, or NULL. */
const char *tr_label_value(const char *key);
/* Set `id`, or NULL for 0 and unknown ids. Sets never change once made. */
const struct tr_label_set *tr_label_set_get(uint32_t id);
/* Emits ltprof:label_set for set `id` unless done since the threads last announced themselves
 * (or id is 0, or the event is off), before an event that names it. Async-signal-safe. */
void tr_labels_announce(uint32_t id);

/* Takes LTTng-UST's locks around fork() (fork.c). Call once, after tr_sampler_start. */
void tr_fork_hooks_install(void);

/* ---- thread dumps (thread_dump.c), for the thread profile ---- */

#define TR_DUMP_FRAMES 64
struct tr_thread_dump_entry {
    uint32_t tid;
    char name[16];
    char state[32];      /* "running", "blocked", "no answer", or the call or wait it is in */
    uint64_t waiting_ns; /* in a recorded wait: for how long; else 0 */
    uint16_t n;          /* frames; 0 when the stack could not be taken */
    int exact_leaf;      /* pcs[0] is the interrupted instruction (else a return address) */
    uint64_t pcs[TR_DUMP_FRAMES];
};
struct tr_thread_dump {
    struct tr_thread_dump_entry *threads; /* [0] is the calling thread, unless ltprof owns it */
    size_t n;
};
/* The stacks of the calling thread and of every armed thread but LTTng-UST's and ltprof's,
 * now. Normal context. 0, or LTPROF_ERR_NOMEM. Free with tr_thread_dump_free. */
int tr_thread_dump(struct tr_thread_dump *out);
void tr_thread_dump_free(struct tr_thread_dump *d);
/* How many threads tr_thread_dump() would list now (without stopping any). */
size_t tr_thread_count(void);

/* ---- the in-process CPU profile (cpu_profile.c) ---- */

/* Starts collecting CPU samples in-process (Go's pprof.StartCPUProfile). 0;
 * LTPROF_ERR_BUSY when one runs; LTPROF_ERR_UNSUPPORTED when CPU sampling is off;
 * LTPROF_ERR_NOMEM. */
int tr_cpu_profile_start(void);

struct tr_cpu_profile_result {
    struct tr_bucket_snapshot snap; /* per (stack, key = tid | label set << 32): v = {samples,
                                       cpu ns} */
    struct {
        uint32_t tid;
        char name[16];
    } *names; /* the threads' names when first sampled */
    size_t n_names;
    uint64_t samples, lost, period_ns;
};
/* Stops it and hands over what it collected. 0; LTPROF_ERR_NOT_FOUND when none runs;
 * LTPROF_ERR_NOMEM. Free the result with tr_cpu_profile_result_free. */
int tr_cpu_profile_stop(struct tr_cpu_profile_result *out);
void tr_cpu_profile_result_free(struct tr_cpu_profile_result *r);

/* The threadcreate table (threadcreate.c): v[0] = threads created from each stack. 0, or
 * LTPROF_ERR_NOMEM. */
int tr_threadcreate_snapshot(struct tr_bucket_snapshot *s);

/* ---- events from normal context (waits.c, thread_events.c, stack_capture.c) ------------------ */

/* ltprof's own code on a thread's stack: the interposers and the functions that record events
 * are placed in this section, so that tr_stack_capture_caller() can drop their frames. */
#define TR_TEXT __attribute__((section("ltprof_text")))

/* What the tracer records besides CPU samples (from the LTPROF_* variables, runtime/config.c). */
struct tr_trace_config {
    uint64_t syscall_ns;       /* record blocking calls that took at least this long; 0 = all */
    uint32_t heap_interval_ms; /* at most one heap counter event per interval; 0 = none */
};

/* Sets the configuration; call once at start, before threads are created. */
void tr_trace_configure(const struct tr_trace_config *cfg);

/*
 * Brackets an event emitted from normal context: tr_emit_enter() first writes out the context
 * switches the calling thread's ring holds and keeps the SIGPROF handler from writing out more
 * until the matching tr_emit_leave(), so the thread's events stay in time order even for events
 * that describe the past (a blocking call is recorded when it returns). Nests; async-signal-safe.
 */
int tr_emit_enter(void);
void tr_emit_leave(int token);

/*
 * The stack of the code that called into ltprof (the first frame outside TR_TEXT code, then
 * its callers), as return addresses, at most `max`. Returns the number written (0 if unknown).
 * Async-signal-safe once the thread's stack range is known (tr_stack_prepare_self).
 */
size_t tr_stack_capture_caller(uint64_t *pcs, size_t max);
/* Whether pc lies in ltprof's own code (the TR_TEXT section). */
int tr_in_ltprof_text(uint64_t pc);

/* Learns the calling thread's stack range (normal context; the pthread_create trampoline and
 * the constructor call it), so later captures need no allocation. */
void tr_stack_prepare_self(void);

/* How often the calling thread's captures reused a stack they had seen (for tests). */
struct tr_stack_cache_stats {
    uint64_t hits, misses;
};
void tr_stack_cache_stats_self(struct tr_stack_cache_stats *out);

/* Emits ltprof:thread_state for every thread ltprof knows (name, and the wait it is in) and
 * ltprof:trace_info; tr_emit_process_info() calls it. Async-signal-safe. */
void tr_emit_thread_states(void);

/* The main thread's (or any thread's) end, for threads not started through pthread_create:
 * emits ltprof:thread_exit when the event is enabled. */
void tr_thread_exited(void);

#endif
