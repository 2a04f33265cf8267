/* SPDX-License-Identifier: MIT */
/*
 * The tracer's recursion guard: a thread-local depth (initial-exec TLS, so reading it is safe
 * anywhere, signal handlers included). Depth > 0 means "ltprof's own work": interposers then
 * pass straight through, and threads created at depth > 0 are ltprof's: never sampled, never
 * counted, and inside the guard for their whole life (so nothing they do is traced).
 * Defined in sampler.c.
 */
#ifndef LTPROF_TRACER_GUARD_H
#define LTPROF_TRACER_GUARD_H

extern __thread unsigned int tr_guard
    __attribute__((tls_model("initial-exec"), visibility("hidden")));

static inline void tr_guard_enter(void)
{
    tr_guard++;
}

static inline void tr_guard_leave(void)
{
    tr_guard--;
}

/* Non-zero on a thread that is ltprof's for its whole life: one created at depth > 0 (the HTTP
 * server's, for example). It runs with the guard held from its first instruction. */
extern __thread unsigned int tr_own_thread
    __attribute__((tls_model("initial-exec"), visibility("hidden")));

/* Non-zero while the calling thread is inside ltprof. */
static inline int tr_guard_active(void)
{
    return tr_guard > 0;
}

/*
 * Makes fork() hold `mutex` (taken inside the guard before the fork, released after it in
 * parent and child), so a child never inherits it taken: defines the handlers and registers
 * them when the library loads. Once per file, at file scope; needs <pthread.h>.
 */
#define TR_HOLD_ACROSS_FORK(mutex)                                                                \
    static void tr_fork_hold(void)                                                                \
    {                                                                                             \
        tr_guard_enter();                                                                         \
        pthread_mutex_lock(&(mutex));                                                             \
    }                                                                                             \
    static void tr_fork_release(void)                                                             \
    {                                                                                             \
        pthread_mutex_unlock(&(mutex));                                                           \
        tr_guard_leave();                                                                         \
    }                                                                                             \
    __attribute__((constructor)) static void tr_fork_register(void)                               \
    {                                                                                             \
        pthread_atfork(tr_fork_hold, tr_fork_release, tr_fork_release);                           \
    }

#endif
