/* SPDX-License-Identifier: MIT */
/*
 * The ltprof event schema: every LTTng-UST event that libltprof.so emits (provider "ltprof").
 * This header is the contract between the recording side (tracer/, runtime/) and the
 * converting side (converter/). Changing an event changes the schema: bump
 * LTPROF_SCHEMA_VERSION, update converter/events.c and the test traces in the same commit.
 * Holds only events, in LTTng's fixed provider shape; ltprof_tp.c creates the probes.
 */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER ltprof

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "ltprof_tp.h"

#if !defined(LTPROF_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define LTPROF_TP_H

#include <stdint.h>
#include <lttng/tracepoint.h>

/* Version of the event schema below; recorded by ltprof:process_info in every trace. New
 * events alone do not change it (older converters skip events they do not know); a change to
 * an existing event's fields or meaning does. */
#define LTPROF_SCHEMA_VERSION 1

/* ---- process and threads ------------------------------------------------------------------ */

/*
 * Once per process when tracing becomes active for it, and again by each thread's first CPU
 * sample of a session, so every trace holds it.
 * Emitted by runtime/runtime.c and tracer/sampler_signal.c; read by converter/events.c.
 * cpu_engine: "perf_event", "timer_create" or "none"; cpu_period_ns: CPU time per sample.
 */
LTTNG_UST_TRACEPOINT_EVENT(ltprof, process_info,
    LTTNG_UST_TP_ARGS(uint32_t, schema_version, uint32_t, pid, const char *, cpu_engine,
                      uint64_t, cpu_period_ns, uint32_t, max_frames),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint32_t, schema_version, schema_version)
        lttng_ust_field_integer(uint32_t, pid, pid)
        lttng_ust_field_string(cpu_engine, cpu_engine)
        lttng_ust_field_integer(uint64_t, cpu_period_ns, cpu_period_ns)
        lttng_ust_field_integer(uint32_t, max_frames, max_frames)))

/*
 * A thread's id and current name: at thread start, on pthread_setname_np, and before a
 * thread's first CPU sample of a session.
 * Emitted by tracer/sampler_signal.c and tracer/interpose/pthread.c; read by converter/events.c.
 */
LTTNG_UST_TRACEPOINT_EVENT(ltprof, thread_info,
    LTTNG_UST_TP_ARGS(uint32_t, tid, const char *, name),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint32_t, tid, tid)
        lttng_ust_field_string(name, name)))

/* ---- CPU samples -------------------------------------------------------------------------- */

/*
 * One CPU profiling tick of thread `tid`, worth `weight_ns` of CPU time. `stack` holds the
 * interrupted PC first, then return addresses (leaf first, at most 128). `unwind_status` is
 * enum tr_unwind_status (tracer/tracer.h): 0 complete, 1 truncated at the depth limit,
 * 2 a PC without unwind information, 3 an invalid frame.
 * Emitted by tracer/sampler_signal.c (in a signal handler); read by converter/events.c.
 */
LTTNG_UST_TRACEPOINT_EVENT(ltprof, cpu_sample,
    LTTNG_UST_TP_ARGS(uint32_t, tid, uint64_t, weight_ns, uint8_t, unwind_status,
                      const uint64_t *, pcs, uint16_t, npcs),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint32_t, tid, tid)
        lttng_ust_field_integer(uint64_t, weight_ns, weight_ns)
        lttng_ust_field_integer(uint8_t, unwind_status, unwind_status)
        lttng_ust_field_sequence_hex(uint64_t, stack, pcs, uint16_t, npcs)))

/* ---- user annotations (Go's runtime/trace: tasks, regions, logs) ------------------------ */

/*
 * ltprof_task_create(): a new task `task_id` of kind `type`, inside task `parent_id` (0: none),
 * created by thread `tid` at `stack` (the caller of ltprof_task_create first).
 * Emitted by runtime/annotations.c; read by the Go trace converter.
 */
LTTNG_UST_TRACEPOINT_EVENT(ltprof, task_create,
    LTTNG_UST_TP_ARGS(uint64_t, task_id, uint64_t, parent_id, const char *, type, uint32_t, tid,
                      const uint64_t *, pcs, uint16_t, npcs),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint64_t, task_id, task_id)
        lttng_ust_field_integer(uint64_t, parent_id, parent_id)
        lttng_ust_field_string(type, type)
        lttng_ust_field_integer(uint32_t, tid, tid)
        lttng_ust_field_sequence_hex(uint64_t, stack, pcs, uint16_t, npcs)))

/* ltprof_task_end(). Emitted by runtime/annotations.c. */
LTTNG_UST_TRACEPOINT_EVENT(ltprof, task_end,
    LTTNG_UST_TP_ARGS(uint64_t, task_id, uint32_t, tid, const uint64_t *, pcs, uint16_t, npcs),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint64_t, task_id, task_id)
        lttng_ust_field_integer(uint32_t, tid, tid)
        lttng_ust_field_sequence_hex(uint64_t, stack, pcs, uint16_t, npcs)))

/* ltprof_region_begin() (mode 0) and ltprof_region_end() (mode 1) of a region of kind `type`
 * in task `task_id` (0: none). Emitted by runtime/annotations.c. */
LTTNG_UST_TRACEPOINT_EVENT(ltprof, region,
    LTTNG_UST_TP_ARGS(uint64_t, task_id, uint8_t, mode, const char *, type, uint32_t, tid,
                      const uint64_t *, pcs, uint16_t, npcs),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint64_t, task_id, task_id)
        lttng_ust_field_integer(uint8_t, mode, mode)
        lttng_ust_field_string(type, type)
        lttng_ust_field_integer(uint32_t, tid, tid)
        lttng_ust_field_sequence_hex(uint64_t, stack, pcs, uint16_t, npcs)))

/* ltprof_log(): a message under `category` in task `task_id` (0: none).
 * Emitted by runtime/annotations.c. */
LTTNG_UST_TRACEPOINT_EVENT(ltprof, log,
    LTTNG_UST_TP_ARGS(uint64_t, task_id, const char *, category, const char *, message,
                      uint32_t, tid, const uint64_t *, pcs, uint16_t, npcs),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint64_t, task_id, task_id)
        lttng_ust_field_string(category, category)
        lttng_ust_field_string(message, message)
        lttng_ust_field_integer(uint32_t, tid, tid)
        lttng_ust_field_sequence_hex(uint64_t, stack, pcs, uint16_t, npcs)))

#endif /* LTPROF_TP_H */

#include <lttng/tracepoint-event.h>
