/* SPDX-License-Identifier: MIT */
/*
 * Internal to converter/: the conversion state that events.c fills from events (which
 * event_reader.c decodes from babeltrace2 messages) and the profile and trace writers turn into
 * files. Nothing here crosses the folder.
 */
#ifndef LTPROF_CONVERTER_INTERNAL_H
#define LTPROF_CONVERTER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "converter.h"

struct pprof_label;

#define CV_MAX_FRAMES 128

/* A loaded object of one process, from lttng_ust_statedump:bin_info or lttng_ust_lib:load. */
struct cv_module {
    uint64_t baddr;
    uint64_t memsz;
    char *path;
    uint8_t build_id[64];
    size_t build_id_len;
};

struct sym_session;
struct sym_module;

/* One traced process (key: vpid). */
struct cv_process {
    int64_t pid;
    char cpu_engine[32]; /* from its latest ltprof:process_info (an exec replaces it) */
    struct cv_module *modules;
    size_t n_modules, cap_modules;
    /* Its symbolizer (proc_sym.c): modules[0..sym_synced) are in `sym`, sym_mods parallel. */
    struct sym_session *sym;
    struct sym_module **sym_mods;
    size_t sym_synced;
    bool sym_stale;     /* a module was replaced: start a new session */
    uint32_t sym_epoch; /* counts the sessions replaced, so caches know theirs is gone */
    struct cv_label_set *label_sets; /* from ltprof:label_set, by id as they came */
    size_t n_label_sets, cap_label_sets;
};

/* One label set of a process (ltprof_labels_push): `text` holds the pairs NUL-terminated. */
#define CV_MAX_LABELS 16
struct cv_label_set {
    uint32_t id, n;
    char *text;
    const char *keys[CV_MAX_LABELS], *values[CV_MAX_LABELS];
};

/* CPU samples of one thread, counted per stack (cpu_profile.c). */
struct cv_cpu_count {
    uint32_t stack;  /* cv_stacks id; 0 = empty stack */
    uint32_t labels; /* the thread's label set (ltprof:label_set id), 0 = none */
    uint64_t count;
    uint64_t weight_ns;
};
struct cv_cpu_counts {
    struct cv_cpu_count *items;
    uint32_t *slots; /* open addressing by (stack, labels): position + 1, 0 = empty */
    size_t n, cap_slots;
};

/* A thread (key: vpid, vtid; a reused tid is the same entry): its latest name, its CPU
 * samples not yet in the profile, and the wait it is in (event_profiles.c). */
struct cv_thread {
    int64_t pid;
    uint32_t tid;
    char *name;
    struct cv_cpu_counts cpu;
    uint8_t wait_class; /* 0: not in a wait that a profile counts */
    uint32_t wait_stack;
    uint64_t wait_ts;
};

/* A growable array of `elem`-byte items. */
struct cv_vec {
    void *items;
    size_t len, cap, elem;
};

/* Open-addressing index of positions into a cv_vec: each slot holds a 32-bit hash tag and the
 * position + 1 (0 = empty slot). */
struct cv_index {
    uint64_t *slots;
    size_t cap; /* power of two */
    size_t used;
};

struct cv_event_reader; /* event_reader.c */
struct cv_profile;     /* profile_out.c */
struct live_block;     /* event_profiles.c */

/* The pprof files of a conversion. */
enum cv_profile_kind {
    CV_PROFILE_CPU,
    CV_PROFILE_MUTEX,
    CV_PROFILE_BLOCK,
    CV_PROFILE_THREADCREATE,
    CV_PROFILE_HEAP,
    CV_PROFILE_ALLOCS,
    CV_PROFILE_COUNT,
};
struct tl_timeline;    /* timeline.h */

/* Stacks of the execution trace (stacks.c; the functions are in timeline.h). */
struct cv_stacks {
    struct cv_vec stacks; /* struct cv_stack */
    struct cv_vec pcs;    /* uint64_t */
    struct cv_index index;
};

/* An output of the timeline: its methods and state (timeline.h). */
struct tl_output {
    const struct tl_ops *ops;
    void *ctx;
};

struct cv_state {
    char *output_dir;
    unsigned outputs; /* enum cv_outputs */
    bool output_dir_made;
    struct cv_vec processes; /* struct cv_process */
    struct cv_vec threads;   /* struct cv_thread */
    struct cv_index thread_index;
    struct cv_profile *profiles[CV_PROFILE_COUNT]; /* made when first written */
    bool cpu_failed;           /* cpu.pb.gz could not be created (reported then) */
    uint32_t sample_stack;     /* the stack id of the CPU sample being read */
    struct cv_vec event_counts; /* per-stack counts of every profile but cpu */
    struct cv_index event_index;
    struct live_block *live;    /* sampled blocks not freed yet (event_profiles.c) */
    size_t live_cap, live_n;
    uint64_t memprofile_rate;   /* of the first ltprof:alloc */
    struct cv_event_reader *reader; /* made with the first message */

    bool seen_process_info;
    uint32_t schema_version;
    uint64_t cpu_period_ns;
    int64_t first_ns, last_ns; /* event time range, ns from the Unix epoch */
    bool have_time;
    struct cv_summary summary;

    /* The execution trace (timeline.c and its outputs), made with the first event it needs. */
    struct cv_stacks stacks;
    struct tl_timeline *timeline;
    struct tl_output outs[2];
    size_t nouts;
    bool timeline_failed;
    bool trace_finished; /* trace.out and trace.json are complete */
};

/* ---- events (events.c; event_reader.c decodes them from babeltrace2 messages) ------------ */

/* The events the converter reads: the ltprof provider's (tracer/ltprof_tp.h) and LTTng-UST's
 * statedump and library events (for symbols). */
enum cv_event_kind {
    CV_EV_OTHER, /* any other event: counted and timed only */
    CV_EV_PROCESS_INFO,
    CV_EV_THREAD_INFO,
    CV_EV_CPU_SAMPLE,
    CV_EV_BIN_INFO, /* lttng_ust_statedump:bin_info and lttng_ust_lib:load */
    CV_EV_BUILD_ID, /* lttng_ust_statedump:build_id and lttng_ust_lib:build_id */
    CV_EV_THREAD_START,
    CV_EV_THREAD_EXIT,
    CV_EV_THREAD_STATE,
    CV_EV_TRACE_INFO,
    CV_EV_SCHED_SWITCHES,
    CV_EV_WAIT_BEGIN,
    CV_EV_WAIT_END,
    CV_EV_WAKE,
    CV_EV_SYSCALL,
    CV_EV_HEAP,
    CV_EV_ALLOC,
    CV_EV_FREE,
    CV_EV_TASK_CREATE,
    CV_EV_TASK_END,
    CV_EV_REGION,
    CV_EV_LOG,
    CV_EV_LABEL_SET,
    CV_EV_LOST, /* events the tracer lost (babeltrace2's discarded-events message, not an event
                 * class): f[0].u how many, pid the process of the stream, time where the loss
                 * began; not counted as an event */
};

#define CV_EVENT_FIELDS 8

/* An event class the converter knows: its name and its payload fields, in the order of
 * struct cv_event's `f`. A name starting with '?' is a field older schemas lack (read as 0). */
struct cv_event_schema {
    const char *name;
    enum cv_event_kind kind;
    const char *fields[CV_EVENT_FIELDS];
};
extern const struct cv_event_schema cv_event_schemas[];
extern const size_t cv_event_schema_count;

/* A payload field as read: an integer in `u`, a string in `s`, an array of integers in
 * `a`/`n`. A field of another type reads as 0, "" and no elements. */
struct cv_field {
    uint64_t u;
    const char *s;
    const uint64_t *a;
    uint64_t n;
};

/* One event, whatever it was read from. Strings and arrays stay valid for the call. */
struct cv_event {
    enum cv_event_kind kind;
    int64_t pid; /* vpid context, else the trace's vpid, else 0 */
    int64_t tid; /* vtid context, else 0 */
    bool has_time;
    int64_t ns; /* the event's time, ns from its clock's origin (when has_time) */
    /* Payload times are CLOCK_MONOTONIC (what LTTng-UST's clock counts); this is what turns
     * one into the event's scale (when has_time). */
    int64_t mono_to_ns;
    struct cv_field f[CV_EVENT_FIELDS];
};

/* Handles one event. 0 or a negative ltprof_status with `err` filled. */
int cv_state_handle_event(struct cv_state *st, const struct cv_event *ev, struct ltprof_error *err);

/* Frees the class cache of the babeltrace2 reader. Accepts NULL. */
void cv_event_reader_destroy(struct cv_event_reader *r);

/* Creates the output folder once. 0 or LTPROF_ERR_IO with a message. */
int cv_output_dir_make(struct cv_state *st, struct ltprof_error *err);

/* ---- allocation (containers.c) -------------------------------------------------------------- */
/* Every allocation of the converter goes through these, so a test can fail the Nth one. */
void *cv_malloc(size_t size);
void *cv_calloc(size_t n, size_t size);
void *cv_realloc(void *p, size_t size);
char *cv_strdup(const char *s);
char *cv_strndup(const char *s, size_t n);
/* Test hook: when positive, counts down at each allocation and fails the one that reaches 0. */
extern long cv_alloc_fail_countdown;
/* Test hook: allocations made so far (to know how many failure points to try). */
extern long cv_alloc_count;

/* ---- small containers (containers.c) ------------------------------------------------------- */
void cv_vec_init(struct cv_vec *v, size_t elem);
void cv_vec_fini(struct cv_vec *v);
/* Appends one zeroed item and returns it, or NULL when out of memory. */
void *cv_vec_push(struct cv_vec *v);
/* Appends n items left uninitialized and returns the first, or NULL when out of memory. */
void *cv_vec_grow(struct cv_vec *v, size_t n);
/* Appends n items copied from src; returns the offset of the first, or SIZE_MAX on failure. */
size_t cv_vec_append(struct cv_vec *v, const void *src, size_t n);
#define CV_VEC_AT(v, type, i) (&((type *)(v)->items)[i])

void cv_index_fini(struct cv_index *ix);
/* Finds the position whose item `eq` says matches, starting from `hash`; SIZE_MAX if absent. */
size_t cv_index_find(const struct cv_index *ix, uint64_t hash,
                     bool (*eq)(const void *ctx, size_t pos), const void *ctx);
/* Records position `pos` under `hash`; `hash_of` rehashes existing positions when growing.
 * 0 or LTPROF_ERR_NOMEM. */
int cv_index_insert(struct cv_index *ix, uint64_t hash, size_t pos,
                    uint64_t (*hash_of)(const void *ctx, size_t pos), const void *ctx);
uint64_t cv_hash_bytes(const void *data, size_t len, uint64_t seed);
/* The hash of a pair of words (a process and a thread, object or stack id). */
uint64_t cv_hash_pair(uint64_t a, uint64_t b, uint64_t seed);

/* ---- processes and threads (events.c) ------------------------------------------------------ */
uint64_t cv_state_events_read(const struct cv_state *st);
struct cv_process *cv_state_process(struct cv_state *st, int64_t pid);
const char *cv_state_thread_name(const struct cv_state *st, int64_t pid, uint32_t tid);
/* The thread's entry, made on first use; NULL when out of memory. */
struct cv_thread *cv_state_thread(struct cv_state *st, int64_t pid, uint32_t tid);
/* Appends the pairs of label set `id` of process `pid` to out as string labels; returns how
 * many (at most max; 0 for id 0 or a set the trace did not define). */
size_t cv_state_labels(struct cv_state *st, int64_t pid, uint32_t id, struct pprof_label *out,
                       size_t max);

/* ---- per-process symbolizer (proc_sym.c) ---------------------------------------------------- */
/* Brings the process's symbolizer up to date with its modules. 0 or LTPROF_ERR_NOMEM. */
int cv_proc_sym_sync(struct cv_process *p);
/* The symbolizer module holding `addr` (after a sync), its index in p->modules in *index. */
struct sym_module *cv_proc_sym_module(const struct cv_process *p, uint64_t addr, size_t *index);
void cv_proc_sym_fini(struct cv_process *p);

/* ---- pprof files (profile_out.c) ---------------------------------------------------------- */
struct pprof_label;
struct pprof_builder;
/* Creates <output_dir>/<kind>.pb.gz for pprof kind `kind` ("cpu", "mutex"...), its samples
 * streamed into the file as they come. 0 or negative status + err. */
int cv_profile_open(struct cv_state *st, const char *kind, int64_t period,
                    struct cv_profile **out, struct ltprof_error *err);
/* Adds a final sample (never merged) on stack id `stack` (0: empty). 0 or negative + err. */
int cv_profile_sample(struct cv_state *st, struct cv_profile *pr, uint32_t stack,
                      const int64_t *values, const struct pprof_label *labels, size_t n_labels,
                      struct ltprof_error *err);
/* Its builder, for the time and comments before the profile ends. */
struct pprof_builder *cv_profile_builder(struct cv_profile *pr);
/* Writes the tables and closes the file; a trace with lost events says so in a comment. 0 or
 * negative status + err (the file is removed). */
int cv_profile_finish(const struct cv_state *st, struct cv_profile *pr, struct ltprof_error *err);
/* The path of the finished file, or NULL. */
const char *cv_profile_path(const struct cv_profile *pr);
/* Removes the file, finished or not (a failed conversion). */
void cv_profile_remove(struct cv_profile *pr);
/* Frees; a file not finished is removed. Accepts NULL. */
void cv_profile_destroy(struct cv_profile *pr);

/* ---- the CPU profile (cpu_profile.c) ------------------------------------------------------- */
/* Counts one CPU sample of thread t on stack `stack`. 0 or LTPROF_ERR_NOMEM. */
int cv_cpu_count(struct cv_thread *t, uint32_t stack, uint32_t labels, uint64_t weight_ns);
/* The thread ended: its counts go into cpu.pb.gz (created then) and are freed. 0 or negative
 * status + err. */
int cv_cpu_thread_done(struct cv_state *st, struct cv_thread *t, struct ltprof_error *err);
/* Adds the live threads' counts and ends <output_dir>/cpu.pb.gz. 0 or negative status + err. */
int cv_cpu_profile_write(struct cv_state *st, struct ltprof_error *err);
void cv_cpu_counts_fini(struct cv_cpu_counts *c);

/* ---- mutex, block and threadcreate profiles (event_profiles.c) ----------------------------- */
/* Thread t begins a wait of `kind` (a wait_begin kind) at `ts`, on stack id `stack`. */
void cv_event_profiles_wait_begin(struct cv_thread *t, const char *kind, uint32_t stack,
                                  uint64_t ts);
/* Thread t's wait ended at `ts`: counted if it began in the trace. 0 or LTPROF_ERR_NOMEM. */
int cv_event_profiles_wait_end(struct cv_state *st, struct cv_thread *t, uint64_t ts);
/* A thread was created from stack id `creator_stack`. 0 or LTPROF_ERR_NOMEM. */
int cv_event_profiles_thread_created(struct cv_state *st, uint32_t creator_stack);
/* A sampled allocation of `size` bytes at `addr` in process `pid`, from stack id `stack`, with
 * label set `labels` (0: none), and the free of one. 0 or LTPROF_ERR_NOMEM. */
int cv_event_profiles_alloc(struct cv_state *st, int64_t pid, uint64_t addr, uint64_t size,
                            uint64_t rate, uint32_t stack, uint32_t labels);
int cv_event_profiles_free(struct cv_state *st, int64_t pid, uint64_t addr);
/* Writes mutex.pb.gz, block.pb.gz, threadcreate.pb.gz, heap.pb.gz and allocs.pb.gz. 0 or
 * negative status + err. */
int cv_event_profiles_write(struct cv_state *st, struct ltprof_error *err);

/* ---- trace files (ctf_check.c) ------------------------------------------------------------- */
/* Checks that the packets of a packetized CTF metadata file are whole (babeltrace2 2.0.4 hangs on
 * a cut one). 0, or a negative status with a one-line message. Text metadata passes as is. */
int cv_check_metadata(const char *path, struct ltprof_error *err);

/* A short text for an ltprof_status (the converter does not link libltprof.so). */
const char *cv_status_text(int status);

/* Formats err->message (printf style). Returns `status` for one-line error returns. */
int cv_error(struct ltprof_error *err, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
