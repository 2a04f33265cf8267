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
#define LTPROF_SCHEMA_VERSION 2 /* 2: cpu_sample and alloc carry `labels`; label_set */

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

/*
 * A thread created through pthread_create starts: emitted by the new thread before it runs its
 * start routine. `pthread` is its pthread_t (as a number: pthread_join names threads by it),
 * `creator_tid` the thread that called pthread_create at `create_ns` (CLOCK_MONOTONIC, the clock
 * of LTTng's timestamps; 0 when unknown), `stack` the creator's stack at the call (caller first),
 * `start_fn` the address of the start routine.
 * Emitted by tracer/thread_events.c; read by converter/events.c (the Go trace's GoCreate).
 */
LTTNG_UST_TRACEPOINT_EVENT(ltprof, thread_start,
    LTTNG_UST_TP_ARGS(uint32_t, tid, uint64_t, pthread, uint32_t, creator_tid, uint64_t, create_ns,
                      uint64_t, start_fn, const char *, name, const uint64_t *, pcs,
                      uint16_t, npcs),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint32_t, tid, tid)
        lttng_ust_field_integer_hex(uint64_t, pthread, pthread)
        lttng_ust_field_integer(uint32_t, creator_tid, creator_tid)
        lttng_ust_field_integer(uint64_t, create_ns, create_ns)
        lttng_ust_field_integer_hex(uint64_t, start_fn, start_fn)
        lttng_ust_field_string(name, name)
        lttng_ust_field_sequence_hex(uint64_t, stack, pcs, uint16_t, npcs)))

/* A thread ends (returns from its start routine, pthread_exit or cancellation), or the process
 * exits (its main thread). Emitted by tracer/thread_events.c; read by converter/events.c. */
LTTNG_UST_TRACEPOINT_EVENT(ltprof, thread_exit,
    LTTNG_UST_TP_ARGS(uint32_t, tid, uint64_t, pthread),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint32_t, tid, tid)
        lttng_ust_field_integer_hex(uint64_t, pthread, pthread)))

/*
 * A thread that already exists when a session starts (and again when the process exits): its
 * name and, when it is inside a wait that ltprof saw begin, what it waits on (`wait`: a
 * wait_begin kind, or "" when running or unknown) since `since_ns` (CLOCK_MONOTONIC).
 * Emitted by tracer/thread_events.c for every registered thread; read by converter/events.c.
 */
LTTNG_UST_TRACEPOINT_EVENT(ltprof, thread_state,
    LTTNG_UST_TP_ARGS(uint32_t, tid, uint64_t, pthread, const char *, name, const char *, wait,
                      uint64_t, since_ns),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint32_t, tid, tid)
        lttng_ust_field_integer_hex(uint64_t, pthread, pthread)
        lttng_ust_field_string(name, name)
        lttng_ust_field_string(wait, wait)
        lttng_ust_field_integer(uint64_t, since_ns, since_ns)))

/*
 * Once per process and session, with process_info: where scheduling information comes from.
 * `sched_source` is "perf_event" (context-switch records) or "none", `sched_note` says why
 * when none; `syscall_ns` is the LTPROF_SYSCALL_NS threshold; `heap_source` "mallinfo2" or
 * "none". Emitted by tracer/thread_events.c; read by converter/events.c.
 */
LTTNG_UST_TRACEPOINT_EVENT(ltprof, trace_info,
    LTTNG_UST_TP_ARGS(const char *, sched_source, const char *, sched_note, uint64_t, syscall_ns,
                      const char *, heap_source),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_string(sched_source, sched_source)
        lttng_ust_field_string(sched_note, sched_note)
        lttng_ust_field_integer(uint64_t, syscall_ns, syscall_ns)
        lttng_ust_field_string(heap_source, heap_source)))

/* ---- scheduling and waits ----------------------------------------------------------------- */

/*
 * Context switches of thread `tid` from its perf_event ring (PERF_RECORD_SWITCH), written out
 * in batches by the thread itself. `records` holds pairs: the time (CLOCK_MONOTONIC ns), then
 * (cpu << 8) | flags with flag 1 = switched out (else in) and 2 = preempted (out while
 * runnable). `lost` counts records the kernel dropped since the previous batch.
 * Emitted by tracer/sched.c (also from the SIGPROF handler); read by converter/events.c.
 */
LTTNG_UST_TRACEPOINT_EVENT(ltprof, sched_switches,
    LTTNG_UST_TP_ARGS(uint32_t, tid, uint32_t, lost, const uint64_t *, recs, uint16_t, nrecs),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint32_t, tid, tid)
        lttng_ust_field_integer(uint32_t, lost, lost)
        lttng_ust_field_sequence(uint64_t, records, recs, uint16_t, nrecs)))

/*
 * Thread `tid` starts waiting on a contended synchronisation object at `addr`: `kind` is
 * "mutex", "rwlock_read", "rwlock_write", "cond", "sem", "barrier" or "join" (then `target` is
 * the pthread_t joined). `stack`: the caller of the pthread function first.
 * Emitted by tracer/waits.c; read by converter/events.c.
 */
LTTNG_UST_TRACEPOINT_EVENT(ltprof, wait_begin,
    LTTNG_UST_TP_ARGS(uint32_t, tid, const char *, kind, uint64_t, addr, uint64_t, target,
                      const uint64_t *, pcs, uint16_t, npcs),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint32_t, tid, tid)
        lttng_ust_field_string(kind, kind)
        lttng_ust_field_integer_hex(uint64_t, addr, addr)
        lttng_ust_field_integer_hex(uint64_t, target, target)
        lttng_ust_field_sequence_hex(uint64_t, stack, pcs, uint16_t, npcs)))

/* The wait that began with wait_begin ends; `result` is the pthread function's return value.
 * Emitted by tracer/waits.c; read by converter/events.c. */
LTTNG_UST_TRACEPOINT_EVENT(ltprof, wait_end,
    LTTNG_UST_TP_ARGS(uint32_t, tid, const char *, kind, uint64_t, addr, int32_t, result),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint32_t, tid, tid)
        lttng_ust_field_string(kind, kind)
        lttng_ust_field_integer_hex(uint64_t, addr, addr)
        lttng_ust_field_integer(int32_t, result, result)))

/*
 * Thread `tid` releases an object that has waiters, so one of them can go on: `kind` is
 * "mutex", "rwlock", "cond_signal", "cond_broadcast" or "sem". The converter names it as the
 * waker of the wait on `addr` that ends next. Emitted by tracer/waits.c.
 */
LTTNG_UST_TRACEPOINT_EVENT(ltprof, wake,
    LTTNG_UST_TP_ARGS(uint32_t, tid, const char *, kind, uint64_t, addr, const uint64_t *, pcs,
                      uint16_t, npcs),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint32_t, tid, tid)
        lttng_ust_field_string(kind, kind)
        lttng_ust_field_integer_hex(uint64_t, addr, addr)
        lttng_ust_field_sequence_hex(uint64_t, stack, pcs, uint16_t, npcs)))

/*
 * A blocking call of thread `tid` that took at least LTPROF_SYSCALL_NS: `call` is the libc
 * function ("read", "recvfrom", "poll", "nanosleep", "usleep", ...), `fd` its descriptor or -1,
 * from `start_ns` to `end_ns` (CLOCK_MONOTONIC), `result` its return value. Emitted when the call
 * returns, so it comes after the call in the trace; the thread emitted nothing in between.
 * Emitted by tracer/waits.c; read by converter/events.c.
 */
LTTNG_UST_TRACEPOINT_EVENT(ltprof, syscall,
    LTTNG_UST_TP_ARGS(uint32_t, tid, const char *, call, int32_t, fd, uint64_t, start_ns,
                      uint64_t, end_ns, int64_t, result, const uint64_t *, pcs, uint16_t, npcs),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint32_t, tid, tid)
        lttng_ust_field_string(call, call)
        lttng_ust_field_integer(int32_t, fd, fd)
        lttng_ust_field_integer(uint64_t, start_ns, start_ns)
        lttng_ust_field_integer(uint64_t, end_ns, end_ns)
        lttng_ust_field_integer(int64_t, result, result)
        lttng_ust_field_sequence_hex(uint64_t, stack, pcs, uint16_t, npcs)))

/* ---- memory ------------------------------------------------------------------------------- */

/* Bytes of heap in use (mallinfo2's uordblks + hblkhd), at most every LTPROF_HEAP_INTERVAL_MS.
 * Emitted by tracer/heap_counter.c; read by converter/events.c (the Go trace's HeapAlloc). */
LTTNG_UST_TRACEPOINT_EVENT(ltprof, heap,
    LTTNG_UST_TP_ARGS(uint32_t, tid, uint64_t, in_use_bytes),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint32_t, tid, tid)
        lttng_ust_field_integer(uint64_t, in_use_bytes, in_use_bytes)))

/*
 * A sampled allocation of thread `tid`: `size` bytes at `addr`, picked by Poisson sampling by
 * bytes with mean `rate` (LTPROF_MEMPROFILE_RATE; 1 = every allocation), made by the code whose
 * return addresses are `stack` (leaf first). Emitted by tracer/allocs.c; converter/ pairs it
 * with the ltprof:free of the same address.
 */
LTTNG_UST_TRACEPOINT_EVENT(ltprof, alloc,
    LTTNG_UST_TP_ARGS(uint32_t, tid, uint64_t, addr, uint64_t, size, uint64_t, rate,
                      const uint64_t *, pcs, uint16_t, npcs, uint32_t, labels),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint32_t, tid, tid)
        lttng_ust_field_integer_hex(uint64_t, addr, addr)
        lttng_ust_field_integer(uint64_t, size, size)
        lttng_ust_field_integer(uint64_t, rate, rate)
        lttng_ust_field_sequence_hex(uint64_t, stack, pcs, uint16_t, npcs)
        lttng_ust_field_integer(uint32_t, labels, labels)))

/* The free (or move by realloc) of the sampled block of `size` bytes at `addr`, by thread
 * `tid`. Emitted by tracer/allocs.c. */
LTTNG_UST_TRACEPOINT_EVENT(ltprof, free,
    LTTNG_UST_TP_ARGS(uint32_t, tid, uint64_t, addr, uint64_t, size),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint32_t, tid, tid)
        lttng_ust_field_integer_hex(uint64_t, addr, addr)
        lttng_ust_field_integer(uint64_t, size, size)))

/* ---- CPU samples -------------------------------------------------------------------------- */

/*
 * One CPU profiling tick of thread `tid`, worth `weight_ns` of CPU time. `stack` holds the
 * interrupted PC first, then return addresses (leaf first, at most 128). `unwind_status` is
 * enum tr_unwind_status (tracer/tracer.h): 0 complete, 1 truncated at the depth limit,
 * 2 a PC without unwind information, 3 an invalid frame. `labels`: the thread's label set
 * (ltprof:label_set; 0 = none), as for ltprof:alloc.
 * Emitted by tracer/sampler_signal.c (in a signal handler); read by converter/events.c.
 */
LTTNG_UST_TRACEPOINT_EVENT(ltprof, cpu_sample,
    LTTNG_UST_TP_ARGS(uint32_t, tid, uint64_t, weight_ns, uint8_t, unwind_status,
                      const uint64_t *, pcs, uint16_t, npcs, uint32_t, labels),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint32_t, tid, tid)
        lttng_ust_field_integer(uint64_t, weight_ns, weight_ns)
        lttng_ust_field_integer(uint8_t, unwind_status, unwind_status)
        lttng_ust_field_sequence_hex(uint64_t, stack, pcs, uint16_t, npcs)
        lttng_ust_field_integer(uint32_t, labels, labels)))

/*
 * Label set `id` (ltprof_labels_push, like Go's pprof.Do): `pairs` is key 0x1f value, pairs
 * separated by 0x1e, sorted by key. Emitted before the first cpu_sample or alloc that names it
 * in a session (again when a thread announces itself again), from tracer/labels.c; the
 * converter puts the pairs on those samples as pprof labels.
 */
LTTNG_UST_TRACEPOINT_EVENT(ltprof, label_set,
    LTTNG_UST_TP_ARGS(uint32_t, id, const char *, pairs),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint32_t, id, id)
        lttng_ust_field_string(pairs, pairs)))

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
