/* SPDX-License-Identifier: MIT */
/*
 * Interposers of pthread_create and pthread_setname_np (exported: they replace libc's in the
 * traced program). A new thread starts in a trampoline that prepares LTTng-UST's TLS for
 * signal handlers, arms the CPU sampler and emits ltprof:thread_start (with what the creator
 * recorded: its stack and the time of the call) before running the user's function. No policy here: the work is in sampler.c (tracer.h). Results and errno are kept.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <lttng/ust-thread.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../guard.h"
#include "../thread_events.h"
#include "../tracer.h"
#include "real.h"

#define TR_EXPORT __attribute__((visibility("default")))

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
typedef int (*setname_fn)(pthread_t, const char *);

/* What the new thread needs; malloc'ed by the creator, freed by the new thread. */
struct start_block {
    void *(*start)(void *);
    void *arg;
    struct tr_thread_birth birth;
};

/* A thread created inside ltprof's guard (by ltprof, or by a library ltprof calls, such as
 * libmicrohttpd's threads): ltprof's for its whole life. */
struct own_block {
    void *(*start)(void *);
    void *arg;
};

static void *ltprof_own_thread_trampoline(void *p)
{
    tr_guard_enter();
    tr_own_thread = 1;
    struct own_block block = *(struct own_block *)p;
    free(p);
    return block.start(block.arg); /* the guard stays held for the thread's life */
}

/* LTTng-UST's own threads (its listeners) are not the program's: they run as ltprof's work. */
static int is_lttng_thread(void *(*start)(void *))
{
    Dl_info info;
    return dladdr((void *)(uintptr_t)start, &info) && info.dli_fname &&
           strstr(info.dli_fname, "liblttng-ust");
}

/* The next definition of `name` (libc's); abort() when there is none: without it the program
 * cannot work at all. */
static void *resolve_real(const char *name)
{
    void *fn = dlsym(RTLD_NEXT, name);
    if (!fn) {
        static const char msg[] = "ltprof: cannot find the real pthread function\n";
        syscall(SYS_write, STDERR_FILENO, msg, sizeof(msg) - 1); /* write() is interposed */
        abort();
    }
    return fn;
}

/* resolve_real(name), looked up once and kept in *slot (any thread may be first). */
static void *resolve_once(void *_Atomic *slot, const char *name)
{
    void *f = atomic_load_explicit(slot, memory_order_acquire);
    if (!f) {
        f = resolve_real(name);
        atomic_store_explicit(slot, f, memory_order_release);
    }
    return f;
}

static create_fn real_create(void)
{
    static void *_Atomic fn;
    return (create_fn)resolve_once(&fn, "pthread_create");
}

static setname_fn real_setname(void)
{
    static void *_Atomic fn;
    return (setname_fn)resolve_once(&fn, "pthread_setname_np");
}

static void exited_by_unwinding(void *unused)
{
    (void)unused;
    tr_thread_exited();
}

/* Set on a program thread started in the trampoline, whose cleanup handler writes its exit. */
static __thread int started_in_trampoline __attribute__((tls_model("initial-exec")));

/* Named for the stacks it appears in: every thread started through ltprof starts here. */
static void *ltprof_thread_trampoline(void *p)
{
    struct start_block block = *(struct start_block *)p;
    started_in_trampoline = 1;
    tr_guard_enter();
    free(p);
    lttng_ust_init_thread(); /* before any tracepoint from a signal handler on this thread */
    if (is_lttng_thread(block.start))
        return block.start(block.arg); /* the guard stays held for the thread's life */
    /* No sample before the thread has announced itself: its first event is thread_start. */
    sigset_t prof, old;
    sigemptyset(&prof);
    sigaddset(&prof, SIGPROF);
    pthread_sigmask(SIG_BLOCK, &prof, &old);
    tr_sampler_arm_self_unblocked(!sigismember(&old, SIGPROF));
    tr_thread_started(&block.birth);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    tr_guard_leave();
    /* The exit is written here rather than by the exit key's destructor, which runs after
     * LTTng-UST's own thread teardown: on return, and from a cleanup handler when the thread
     * ends in pthread_exit or is cancelled (handlers run before any destructor). */
    void *ret;
    pthread_cleanup_push(exited_by_unwinding, NULL);
    ret = block.start(block.arg);
    pthread_cleanup_pop(0);
    tr_thread_exited();
    return ret;
}

TR_EXPORT TR_TEXT int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                                     void *(*start)(void *), void *arg)
{
    create_fn real = real_create();
    struct start_block *block;
    int rc, saved_errno;

    if (tr_guard_active()) { /* ltprof's own thread: not sampled, not counted, not traced */
        struct own_block *own = malloc(sizeof(*own));
        if (!own)
            return EAGAIN;
        own->start = start;
        own->arg = arg;
        rc = real(thread, attr, ltprof_own_thread_trampoline, own);
        if (rc != 0)
            free(own);
        return rc;
    }
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
    tr_thread_birth_record(&block->birth, start);
    /* Counted before the thread exists: once it runs, it owns (and frees) the block. The
     * threads LTTng-UST starts for itself are not the program's. */
    tr_real_fns();
    int count = !tr_called_by_lttng(__builtin_return_address(0));
    uint32_t counted = count ? tr_threadcreate_add(block->birth.pcs, block->birth.npcs) : 0;
    rc = real(thread, attr, ltprof_thread_trampoline, block);
    saved_errno = errno;
    if (rc != 0) {
        if (count)
            tr_threadcreate_undo(counted);
        free(block);
    }
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

/* noreturn, so that ASan unpoisons the frames left behind before the call (sanitized builds) */
typedef __attribute__((noreturn)) void (*exit_fn)(void *);

/* The main thread, and threads started before ltprof was loaded, have no trampoline: when they
 * end in pthread_exit their exit is written here, before the program's cleanup handlers and
 * destructors (LTTng-UST's teardown is one). Trampoline threads write it from their handler,
 * after the program's own; ltprof's and LTTng-UST's threads (guard held) write nothing. */
TR_EXPORT TR_TEXT void pthread_exit(void *ret)
{
    static void *_Atomic fn;
    exit_fn real = (exit_fn)resolve_once(&fn, "pthread_exit");
    if (!started_in_trampoline && !tr_guard_active())
        tr_thread_exited();
    real(ret);
}
