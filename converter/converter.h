/* SPDX-License-Identifier: MIT */
/*
 * The converter's face: turns the babeltrace2 messages of an LTTng trace of libltprof.so into
 * pprof profiles (cpu.pb.gz), a Go execution trace (trace.out) and the same trace as
 * Chrome/Perfetto JSON (trace.json). Two ways in: the babeltrace2 sink component classes
 * (sink.ltprof.pprof and sink.ltprof.gotrace, in the plugin or created in-process by
 * cv_sink_class_create()) and cv_convert_dir(), which runs a whole graph in-process on a folder
 * of CTF traces. Single-threaded: one conversion per cv_state.
 */
#ifndef LTPROF_CONVERTER_H
#define LTPROF_CONVERTER_H

#include <stdint.h>

#include <babeltrace2/babeltrace.h>

#include "ltprof/ltprof.h"

/* What a conversion writes (flags). */
enum cv_outputs {
    CV_OUTPUT_PPROF = 1,   /* cpu, heap, allocs, mutex, block, threadcreate (.pb.gz) */
    CV_OUTPUT_GOTRACE = 2, /* trace.out */
    CV_OUTPUT_JSON = 4,    /* trace.json */
    CV_OUTPUT_ALL = 7,
    CV_OUTPUT_DEFAULT = 3, /* JSON is big (~330 bytes per event): written when asked for */
};

/* What a conversion saw and wrote. */
struct cv_summary {
    uint64_t events;            /* events read */
    uint64_t ltprof_events;     /* of which from the ltprof provider */
    uint64_t cpu_samples;       /* ltprof:cpu_sample events */
    uint64_t complete_stacks;   /* samples whose stack reached the outermost frame */
    uint64_t discarded_events;  /* events the tracer reported as lost */
    uint32_t processes;         /* processes with ltprof events */
    uint32_t traces;            /* CTF traces read (cv_convert_dir only) */
    char cpu_engine[32];        /* engine of the processes (ltprof:process_info), or "mixed" */
    char cpu_profile_path[4096];/* the file written, or "" */
    char other_profiles[128];   /* the other profiles written beside it, file names separated
                                   by spaces ("mutex.pb.gz block.pb.gz threadcreate.pb.gz") */
    char trace_path[4096];      /* trace.out written, or "" */
    char json_path[4096];       /* trace.json written, or "" */
    char sched_source[32];      /* where context switches came from: "perf_event", "none", "" */
    char sched_note[128];       /* why none */
    uint64_t threads;           /* thread lifetimes in the execution trace */
    uint64_t waits;             /* contended waits recorded */
    uint64_t wakers_known;      /* ... whose waker was found */
    uint64_t calls;             /* blocking calls recorded */
    uint64_t switches;          /* context switches used */
    uint64_t switches_lost;     /* context switches the kernel dropped (ring full) */
    uint64_t trace_clamped;     /* trace times raised to keep causality */
};

struct cv_state;

/* A conversion writing `outputs` (enum cv_outputs) into folder `output_dir` (created when the
 * first file is written). NULL when out of memory. */
struct cv_state *cv_state_create(const char *output_dir, unsigned outputs);

/* Handles one message. 0 or a negative ltprof_status with `err` filled (e.g. an unsupported
 * schema version). */
int cv_state_handle_message(struct cv_state *st, const bt_message *msg, struct ltprof_error *err);

/* Writes the profiles and finishes the traces. Fails with LTPROF_ERR_NOT_FOUND when the trace
 * held no ltprof events; a failed conversion removes the files it started. */
int cv_state_finish(struct cv_state *st, struct cv_summary *summary, struct ltprof_error *err);

/* Frees the state. Accepts NULL. */
void cv_state_destroy(struct cv_state *st);

/* What in-process graphs pass to the sink as initialization data. */
struct cv_sink_init {
    unsigned outputs;           /* enum cv_outputs */
    struct cv_summary *summary; /* filled at the end (and `events` as it goes), or NULL */
};

/* The sink component class "ltprof" for in-process graphs (parameter `path`, initialization
 * data a struct cv_sink_init *). Caller puts the reference. NULL when out of memory. */
bt_component_class_sink *cv_sink_class_create(void);

/* Called about once a second during a long conversion with the events read so far. */
typedef void (*cv_progress_fn)(void *ctx, uint64_t events_read, double seconds);

/*
 * Converts every CTF trace found under `trace_dir` (recursively) into `outputs` in `output_dir`.
 * Runs source.ctf.fs → filter.utils.muxer → the ltprof sink in this process. Fills `summary`.
 * `progress` may be NULL. 0 or a negative ltprof_status with a one-line message in `err`.
 */
int cv_convert_dir(const char *trace_dir, const char *output_dir, unsigned outputs,
                   struct cv_summary *summary, cv_progress_fn progress, void *progress_ctx,
                   struct ltprof_error *err);

#endif
