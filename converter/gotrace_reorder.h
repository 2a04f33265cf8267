/* SPDX-License-Identifier: MIT */
/*
 * Internal to converter/: a reorder window in front of the Go trace encoder (gotrace_writer.h),
 * used by trace_gotrace.c. Events are queued with their time and written in time order once
 * the trace has moved `window` nanoseconds past them, so an event learned late (who woke a
 * thread) can still be placed among the events of its P. Not thread-safe.
 */
#ifndef LTPROF_CONVERTER_GOTRACE_REORDER_H
#define LTPROF_CONVERTER_GOTRACE_REORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gotrace_writer.h"

/* One kind per gotrace_writer.h event function; arguments after (p, ts) in the same order. */
enum gt_ev {
    GT_PROC_START,     /* thread */
    GT_PROC_STOP,
    GT_GOMAXPROCS,     /* procs, stk */
    GT_GO_CREATE,      /* g, new_stk, stk */
    GT_GO_START,       /* g, seq */
    GT_GO_START_LABEL, /* g, seq, label */
    GT_GO_END,
    GT_GO_PREEMPT,     /* stk */
    GT_GO_SLEEP,       /* stk */
    GT_GO_BLOCK,       /* stk */
    GT_GO_BLOCK_SYNC,  /* stk */
    GT_GO_BLOCK_COND,  /* stk */
    GT_GO_UNBLOCK,     /* g, seq, stk */
    GT_GO_SYSCALL,     /* stk */
    GT_GO_SYS_BLOCK,
    GT_GO_SYS_EXIT,    /* g, seq, real_ts */
    GT_GO_WAITING,     /* g */
    GT_HEAP_ALLOC,     /* bytes */
    GT_CPU_SAMPLE,     /* g, stk (p is the sample's P) */
    GT_TASK_CREATE,    /* task, parent, name, stk */
    GT_TASK_END,       /* task, stk */
    GT_REGION,         /* task, mode, name, stk */
    GT_LOG,            /* task, key, stk; message apart */
    GT_FLUSH_PROC,     /* write P's open batch (a thread is gone) */
};

struct gt_reorder;

/* A window of `window_ns` in front of `w` (borrowed). NULL when out of memory. */
struct gt_reorder *gt_reorder_create(struct gotrace_writer *w, uint64_t window_ns);
/* Frees the queue; events still in it are dropped. Accepts NULL. */
void gt_reorder_destroy(struct gt_reorder *r);
/* Queues one event; `msg` (GT_LOG only, may be NULL) is copied. 0 or LTPROF_ERR_NOMEM. */
int gt_reorder_event(struct gt_reorder *r, enum gt_ev type, uint64_t p, uint64_t ts,
                     const uint64_t *args, size_t nargs, const char *msg);
/* The trace reached `now`: writes what is older than now - window. 0 or the encoder's error. */
int gt_reorder_advance(struct gt_reorder *r, uint64_t now);
/* Gives the latest queued GoStartLabel of goroutine `g` the string `label` (a thread renamed
 * itself while its slice is still in the window). Returns whether there was one. */
bool gt_reorder_relabel(struct gt_reorder *r, uint64_t g, uint64_t label);
/* Writes everything left, in time order. */
int gt_reorder_flush(struct gt_reorder *r);

#endif
