/* SPDX-License-Identifier: MIT */
/*
 * User annotations, modelled on Go's runtime/trace: tasks, regions and log messages
 * (ltprof/ltprof.h), recorded as ltprof:task_create, task_end, region and log events with the
 * caller's stack. Each call costs a few nanoseconds when no session records these events; task
 * ids are handed out all the same, so a program behaves the same traced or not. Any thread.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ltprof/ltprof.h"
#include "ltprof_tp.h"
#include "guard.h"
#include "tracer.h"

#define ANNOTATION_FRAMES 64

static atomic_uint_least64_t next_task_id = 1;

static uint32_t current_tid(void)
{
    static __thread uint32_t tid __attribute__((tls_model("initial-exec")));
    if (!tid)
        tid = (uint32_t)syscall(SYS_gettid);
    return tid;
}

/* The stack of the user's code that called one of the functions below (they are TR_TEXT). */
#define CAPTURE(pcs) tr_stack_capture_caller(pcs, ANNOTATION_FRAMES)

/* Emits one annotation event: after the thread's pending context switches, as ltprof's work. */
#define EMIT(...)                                                                                 \
    do {                                                                                          \
        tr_guard_enter();                                                                         \
        int token_ = tr_emit_enter();                                                             \
        lttng_ust_do_tracepoint(__VA_ARGS__);                                                     \
        tr_emit_leave(token_);                                                                    \
        tr_guard_leave();                                                                         \
    } while (0)

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

LTPROF_API int ltprof_trace_is_enabled(void)
{
    return lttng_ust_tracepoint_enabled(ltprof, task_create) ||
           lttng_ust_tracepoint_enabled(ltprof, region) ||
           lttng_ust_tracepoint_enabled(ltprof, log);
}

LTPROF_API TR_TEXT __attribute__((noinline)) uint64_t ltprof_task_create(uint64_t parent_id,
                                                                  const char *type)
{
    uint64_t id = atomic_fetch_add_explicit(&next_task_id, 1, memory_order_relaxed);
    if (lttng_ust_tracepoint_enabled(ltprof, task_create)) {
        uint64_t pcs[ANNOTATION_FRAMES];
        size_t n = CAPTURE(pcs);
        EMIT(ltprof, task_create, id, parent_id, or_empty(type),
                                current_tid(), pcs, (uint16_t)n);
    }
    return id;
}

LTPROF_API TR_TEXT __attribute__((noinline)) void ltprof_task_end(uint64_t task_id)
{
    if (lttng_ust_tracepoint_enabled(ltprof, task_end)) {
        uint64_t pcs[ANNOTATION_FRAMES];
        size_t n = CAPTURE(pcs);
        EMIT(ltprof, task_end, task_id, current_tid(), pcs, (uint16_t)n);
    }
}

static TR_TEXT __attribute__((always_inline)) inline void region(uint64_t task_id, uint8_t mode,
                                                         const char *type)
{
    if (lttng_ust_tracepoint_enabled(ltprof, region)) {
        uint64_t pcs[ANNOTATION_FRAMES];
        size_t n = CAPTURE(pcs);
        EMIT(ltprof, region, task_id, mode, or_empty(type), current_tid(),
                                pcs, (uint16_t)n);
    }
}

LTPROF_API TR_TEXT __attribute__((noinline)) void ltprof_region_begin(uint64_t task_id, const char *type)
{
    region(task_id, 0, type);
}

LTPROF_API TR_TEXT __attribute__((noinline)) void ltprof_region_end(uint64_t task_id, const char *type)
{
    region(task_id, 1, type);
}

LTPROF_API TR_TEXT __attribute__((noinline)) void ltprof_log(uint64_t task_id, const char *category,
                                                     const char *message)
{
    if (lttng_ust_tracepoint_enabled(ltprof, log)) {
        uint64_t pcs[ANNOTATION_FRAMES];
        size_t n = CAPTURE(pcs);
        EMIT(ltprof, log, task_id, or_empty(category), or_empty(message),
                                current_tid(), pcs, (uint16_t)n);
    }
}
