/* SPDX-License-Identifier: MIT */
/*
 * Internal to tracer/: the thread-lifecycle events that the pthread_create interposer
 * (interpose/pthread.c) records through thread_events.c.
 */
#ifndef LTPROF_TRACER_THREAD_EVENTS_H
#define LTPROF_TRACER_THREAD_EVENTS_H

#include <stdint.h>

#include "tracer.h"

#define TR_BIRTH_FRAMES 32

/* The creator's side of a thread creation, handed to the new thread. */
struct tr_thread_birth {
    uint64_t start_fn;
    uint64_t create_ns; /* 0 when thread_start is not recorded */
    uint32_t creator_tid;
    uint16_t npcs;
    uint64_t pcs[TR_BIRTH_FRAMES];
};

/* In the creator, before the real pthread_create: tid and stack (always: the threadcreate
 * table counts it), time when recording. */
void tr_thread_birth_record(struct tr_thread_birth *b, void *(*start)(void *));

/* The in-process threadcreate table (threadcreate.c): one more thread created from this
 * stack; returns a handle for tr_threadcreate_undo (the creation failed after all). */
uint32_t tr_threadcreate_add(const uint64_t *pcs, size_t n);
void tr_threadcreate_undo(uint32_t id);
/* In the new thread, first thing: prepares its stack capture and exit hook, emits thread_start. */
void tr_thread_started(const struct tr_thread_birth *b);

#endif
