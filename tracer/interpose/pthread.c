/* SPDX-License-Identifier: MIT */
/*
 * Interposers of pthread_create and pthread_setname_np (exported: they replace libc's in the
 * traced program). A new thread starts in a trampoline that prepares LTTng-UST's TLS for
 * signal handlers, arms the CPU sampler and announces the thread before running the user's
 * function. No policy here: the work is in sampler.c (tracer.h). Results and errno are kept.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <lttng/ust-thread.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../guard.h"
#include "../tracer.h"

#define TR_EXPORT __attribute__((visibility("default")))

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
typedef int (*setname_fn)(pthread_t, const char *);

/* What the new thread needs; malloc'ed by the creator, freed by the new thread. */
struct start_block {
    void *(*start)(void *);
    void *arg;
};

/* The next definition of `name` (libc's); abort() when there is none: without it the program
 * cannot work at all. */
static void *resolve_real(const char *name)
{
    void *fn = dlsym(RTLD_NEXT, name);
    if (!fn) {
        static const char msg[] = "ltprof: cannot find the real pthread function\n";
        ssize_t ignored = write(STDERR_FILENO, msg, sizeof(msg) - 1);
        (void)ignored;
        abort();
    }
    return fn;
}

static create_fn real_create(void)
{
    static _Atomic(create_fn) fn;
    create_fn f = atomic_load_explicit(&fn, memory_order_acquire);
    if (!f) {
        f = (create_fn)resolve_real("pthread_create");
        atomic_store_explicit(&fn, f, memory_order_release);
    }
    return f;
}

static setname_fn real_setname(void)
{
    static _Atomic(setname_fn) fn;
    setname_fn f = atomic_load_explicit(&fn, memory_order_acquire);
    if (!f) {
        f = (setname_fn)resolve_real("pthread_setname_np");
        atomic_store_explicit(&fn, f, memory_order_release);
    }
    return f;
}

static void *trampoline(void *p)
{
    struct start_block block = *(struct start_block *)p;
    tr_guard_enter();
    free(p);
    lttng_ust_init_thread(); /* before any tracepoint from a signal handler on this thread */
    tr_sampler_arm_self();
    tr_emit_thread_info_self();
    tr_guard_leave();
    return block.start(block.arg);
}

TR_EXPORT int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                             void *(*start)(void *), void *arg)
{
    create_fn real = real_create();
    struct start_block *block;
    int rc, saved_errno;

    if (tr_guard_active()) /* ltprof's own thread: not sampled */
        return real(thread, attr, start, arg);
    tr_guard_enter();
    saved_errno = errno;
    block = malloc(sizeof(*block));
    errno = saved_errno;
    if (!block) {
        tr_guard_leave();
        return real(thread, attr, start, arg);
    }
    block->start = start;
    block->arg = arg;
    rc = real(thread, attr, trampoline, block);
    saved_errno = errno;
    if (rc != 0)
        free(block);
    tr_guard_leave();
    errno = saved_errno;
    return rc;
}

TR_EXPORT int pthread_setname_np(pthread_t thread, const char *name)
{
    int rc = real_setname()(thread, name);
    int saved_errno = errno;
    if (rc == 0 && !tr_guard_active())
        tr_thread_renamed(thread, name);
    errno = saved_errno;
    return rc;
}
