/* SPDX-License-Identifier: MIT */
/*
 * Interposers of the pthread synchronisation functions (exported: they replace libc's). Locks
 * try first; only a contended lock takes the slow path that records the wait (waits.c), so an
 * uncontended lock and unlock cost one extra call each. Releases look at glibc's own waiter
 * state (the same fields glibc's fast paths test) and record a wake only when somebody waits.
 * Results and errno are those of the real functions.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>

#include "../waits.h"
#include "real.h"

/* ---- glibc's waiter state (glibc 2.34+ x86-64 layouts, public in <bits/struct_*.h>) ---------- */

#define FUTEX_WAITERS_BIT 0x80000000u
#define MUTEX_ROBUST_PI_PP (16 | 32 | 64) /* PTHREAD_MUTEX_{ROBUST_NORMAL,PRIO_INHERIT,PRIO_PROTECT}_NP */
#define MUTEX_RECURSIVE 1                 /* PTHREAD_MUTEX_RECURSIVE_NP */
#define RWLOCK_RWAITING 4u                /* readers waiting (pthread_rwlock_common.c) */

static inline int mutex_has_waiters(pthread_mutex_t *m)
{
    int kind = __atomic_load_n(&m->__data.__kind, __ATOMIC_RELAXED);
    unsigned lock = (unsigned)__atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED);
    if ((kind & 3) == MUTEX_RECURSIVE && m->__data.__count > 1)
        return 0; /* not the last unlock */
    if (kind & MUTEX_ROBUST_PI_PP)
        return (lock & FUTEX_WAITERS_BIT) != 0;
    return lock > 1; /* 2: locked, maybe waiters */
}

static inline int rwlock_has_waiters(pthread_rwlock_t *rw)
{
    unsigned readers = __atomic_load_n(&rw->__data.__readers, __ATOMIC_RELAXED);
    unsigned writers = __atomic_load_n(&rw->__data.__writers, __ATOMIC_RELAXED);
    return (readers & RWLOCK_RWAITING) || (writers & ~FUTEX_WAITERS_BIT) ||
           (__atomic_load_n(&rw->__data.__writers_futex, __ATOMIC_RELAXED) & FUTEX_WAITERS_BIT) ||
           (__atomic_load_n(&rw->__data.__wrphase_futex, __ATOMIC_RELAXED) & FUTEX_WAITERS_BIT);
}

static inline int cond_has_waiters(pthread_cond_t *c)
{
    return (__atomic_load_n(&c->__data.__wrefs, __ATOMIC_RELAXED) >> 3) != 0;
}

static inline int sem_has_waiters(sem_t *s)
{
    return (__atomic_load_n((uint64_t *)(void *)s, __ATOMIC_RELAXED) >> 32) != 0;
}

/* Whether this call is recorded: a session records waits and the caller is not LTTng-UST
 * itself (its own mutexes: tracing inside them deadlocks). `ret` is the wrapper's return
 * address. */
#define RECORDING(ret) (tr_waits_on() && !tr_called_by_lttng(ret))
/* Whether this call may go into the in-process mutex and block tables (contention.c). */
#define WATCHING(ret) (tr_contention_on() && !tr_called_by_lttng(ret))

/* Runs `call` as a recorded wait on `addr` when recording, else plainly; either way timed for
 * the in-process tables when they are on. `retry` is a try variant of the call, tried once
 * more after the stack is taken (EBUSY: still busy), or NO_RETRY. In a wrapper only (WAIT), or
 * with the wrapper's return address (WAIT_FROM). */
#define NO_RETRY EBUSY
#define WAIT(kind, addr, target, call) \
    WAIT_FROM(__builtin_return_address(0), kind, addr, target, NO_RETRY, call)
#define WAIT_FROM(ret, kind, addr, target, retry, call)                                           \
    do {                                                                                          \
        if (!RECORDING(ret)) {                                                                    \
            int watch_ = WATCHING(ret);                                                           \
            uint64_t t0_ = watch_ ? tr_now_ns() : 0;                                              \
            TR_BLOCK_BEGIN(kind);                                                                 \
            int rc_ = call;                                                                       \
            TR_BLOCK_END();                                                                       \
            if (watch_)                                                                           \
                tr_contention_record(kind, tr_now_ns() - t0_, NULL, 0);                           \
            if (RECORDING(ret)) /* a session began during the wait: its end is news */            \
                tr_wait_end_unseen(kind, addr, rc_);                                              \
            return rc_;                                                                           \
        }                                                                                         \
        int watch_ = WATCHING(ret);                                                               \
        uint64_t t0_ = watch_ ? tr_now_ns() : 0;                                                  \
        struct tr_wait w_;                                                                        \
        tr_wait_prepare(&w_);                                                                     \
        int again_ = retry;                                                                       \
        if (again_ != EBUSY) { /* free by now: too short a wait to record in the trace */         \
            if (watch_)                                                                           \
                tr_contention_record(kind, tr_now_ns() - t0_, w_.pcs, w_.npcs);                   \
            return again_;                                                                        \
        }                                                                                         \
        tr_wait_begin(&w_, kind, addr, target);                                                   \
        TR_BLOCK_BEGIN(kind);                                                                     \
        int rc_ = call;                                                                           \
        TR_BLOCK_END();                                                                           \
        tr_wait_end(kind, addr, rc_);                                                             \
        if (watch_)                                                                               \
            tr_contention_record(kind, tr_now_ns() - t0_, w_.pcs, w_.npcs);                       \
        return rc_;                                                                               \
    } while (0)

/* ---- mutexes ------------------------------------------------------------------------------ */

static TR_TEXT __attribute__((noinline)) int mutex_lock_slow(pthread_mutex_t *m, void *ret)
{
    WAIT_FROM(ret, "mutex", m, 0, tr_real.pthread_mutex_trylock(m), tr_real.pthread_mutex_lock(m));
}

TR_EXPORT TR_TEXT int pthread_mutex_lock(pthread_mutex_t *m)
{
    int rc = tr_real_fns()->pthread_mutex_trylock(m);
    if (__builtin_expect(rc != EBUSY, 1))
        return rc;
    return mutex_lock_slow(m, __builtin_return_address(0));
}

TR_EXPORT TR_TEXT int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *abstime)
{
    int rc = tr_real_fns()->pthread_mutex_trylock(m);
    if (rc != EBUSY)
        return rc;
    WAIT_FROM(__builtin_return_address(0), "mutex", m, 0, tr_real.pthread_mutex_trylock(m),
              tr_real.pthread_mutex_timedlock(m, abstime));
}

TR_EXPORT TR_TEXT int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clock,
                                              const struct timespec *abstime)
{
    int rc = tr_real_fns()->pthread_mutex_trylock(m);
    if (rc != EBUSY)
        return rc;
    WAIT_FROM(__builtin_return_address(0), "mutex", m, 0, tr_real.pthread_mutex_trylock(m),
              tr_real.pthread_mutex_clocklock(m, clock, abstime));
}

TR_EXPORT TR_TEXT int pthread_mutex_unlock(pthread_mutex_t *m)
{
    const struct tr_real_table *real = tr_real_fns();
    if (__builtin_expect(mutex_has_waiters(m), 0) && RECORDING(__builtin_return_address(0)))
        tr_wake("mutex", m);
    return real->pthread_mutex_unlock(m);
}

/* ---- read-write locks ----------------------------------------------------------------------- */

static TR_TEXT __attribute__((noinline)) int rdlock_slow(pthread_rwlock_t *rw, void *ret)
{
    WAIT_FROM(ret, "rwlock_read", rw, 0, tr_real.pthread_rwlock_tryrdlock(rw),
              tr_real.pthread_rwlock_rdlock(rw));
}

static TR_TEXT __attribute__((noinline)) int wrlock_slow(pthread_rwlock_t *rw, void *ret)
{
    WAIT_FROM(ret, "rwlock_write", rw, 0, tr_real.pthread_rwlock_trywrlock(rw),
              tr_real.pthread_rwlock_wrlock(rw));
}

TR_EXPORT TR_TEXT int pthread_rwlock_rdlock(pthread_rwlock_t *rw)
{
    int rc = tr_real_fns()->pthread_rwlock_tryrdlock(rw);
    if (__builtin_expect(rc != EBUSY, 1))
        return rc;
    return rdlock_slow(rw, __builtin_return_address(0));
}

TR_EXPORT TR_TEXT int pthread_rwlock_wrlock(pthread_rwlock_t *rw)
{
    int rc = tr_real_fns()->pthread_rwlock_trywrlock(rw);
    if (__builtin_expect(rc != EBUSY, 1))
        return rc;
    return wrlock_slow(rw, __builtin_return_address(0));
}

TR_EXPORT TR_TEXT int pthread_rwlock_timedrdlock(pthread_rwlock_t *rw,
                                                 const struct timespec *abstime)
{
    int rc = tr_real_fns()->pthread_rwlock_tryrdlock(rw);
    if (rc != EBUSY)
        return rc;
    WAIT_FROM(__builtin_return_address(0), "rwlock_read", rw, 0,
              tr_real.pthread_rwlock_tryrdlock(rw), tr_real.pthread_rwlock_timedrdlock(rw, abstime));
}

TR_EXPORT TR_TEXT int pthread_rwlock_timedwrlock(pthread_rwlock_t *rw,
                                                 const struct timespec *abstime)
{
    int rc = tr_real_fns()->pthread_rwlock_trywrlock(rw);
    if (rc != EBUSY)
        return rc;
    WAIT_FROM(__builtin_return_address(0), "rwlock_write", rw, 0,
              tr_real.pthread_rwlock_trywrlock(rw), tr_real.pthread_rwlock_timedwrlock(rw, abstime));
}

TR_EXPORT TR_TEXT int pthread_rwlock_clockrdlock(pthread_rwlock_t *rw, clockid_t clock,
                                                 const struct timespec *abstime)
{
    int rc = tr_real_fns()->pthread_rwlock_tryrdlock(rw);
    if (rc != EBUSY)
        return rc;
    WAIT_FROM(__builtin_return_address(0), "rwlock_read", rw, 0,
              tr_real.pthread_rwlock_tryrdlock(rw),
              tr_real.pthread_rwlock_clockrdlock(rw, clock, abstime));
}

TR_EXPORT TR_TEXT int pthread_rwlock_clockwrlock(pthread_rwlock_t *rw, clockid_t clock,
                                                 const struct timespec *abstime)
{
    int rc = tr_real_fns()->pthread_rwlock_trywrlock(rw);
    if (rc != EBUSY)
        return rc;
    WAIT_FROM(__builtin_return_address(0), "rwlock_write", rw, 0,
              tr_real.pthread_rwlock_trywrlock(rw),
              tr_real.pthread_rwlock_clockwrlock(rw, clock, abstime));
}

TR_EXPORT TR_TEXT int pthread_rwlock_unlock(pthread_rwlock_t *rw)
{
    const struct tr_real_table *real = tr_real_fns();
    if (__builtin_expect(rwlock_has_waiters(rw), 0) && RECORDING(__builtin_return_address(0)))
        tr_wake("rwlock", rw);
    return real->pthread_rwlock_unlock(rw);
}

/* ---- condition variables -------------------------------------------------------------------- */

/* Waiting on a condition releases the mutex inside glibc: that release can wake a thread
 * waiting for the mutex, so it is recorded like pthread_mutex_unlock's. */
static TR_TEXT void cond_releases(pthread_mutex_t *m)
{
    if (mutex_has_waiters(m))
        tr_wake("mutex", m);
}

TR_EXPORT TR_TEXT int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
    const struct tr_real_table *real = tr_real_fns();
    void *ret = __builtin_return_address(0);
    if (RECORDING(ret))
        cond_releases(m);
    WAIT_FROM(ret, "cond", c, 0, NO_RETRY, real->pthread_cond_wait(c, m));
}

TR_EXPORT TR_TEXT int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
                                             const struct timespec *abstime)
{
    const struct tr_real_table *real = tr_real_fns();
    void *ret = __builtin_return_address(0);
    if (RECORDING(ret))
        cond_releases(m);
    WAIT_FROM(ret, "cond", c, 0, NO_RETRY, real->pthread_cond_timedwait(c, m, abstime));
}

TR_EXPORT TR_TEXT int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m,
                                             clockid_t clock, const struct timespec *abstime)
{
    const struct tr_real_table *real = tr_real_fns();
    void *ret = __builtin_return_address(0);
    if (RECORDING(ret))
        cond_releases(m);
    WAIT_FROM(ret, "cond", c, 0, NO_RETRY, real->pthread_cond_clockwait(c, m, clock, abstime));
}

TR_EXPORT TR_TEXT int pthread_cond_signal(pthread_cond_t *c)
{
    const struct tr_real_table *real = tr_real_fns();
    if (__builtin_expect(cond_has_waiters(c), 0) && RECORDING(__builtin_return_address(0)))
        tr_wake("cond_signal", c);
    return real->pthread_cond_signal(c);
}

TR_EXPORT TR_TEXT int pthread_cond_broadcast(pthread_cond_t *c)
{
    const struct tr_real_table *real = tr_real_fns();
    if (__builtin_expect(cond_has_waiters(c), 0) && RECORDING(__builtin_return_address(0)))
        tr_wake("cond_broadcast", c);
    return real->pthread_cond_broadcast(c);
}

/* ---- joins, semaphores, barriers ------------------------------------------------------------- */

/* A join of a thread that has already ended does not wait: try first. Object and target are
 * the joined pthread_t, which the converter matches with ltprof:thread_exit. */
#define JOIN(thread, retval, call)                                                                \
    do {                                                                                          \
        if (!RECORDING(__builtin_return_address(0)) && !WATCHING(__builtin_return_address(0)))   \
            return call;                                                                          \
        int try_ = tr_real.pthread_tryjoin_np(thread, retval);                                    \
        if (try_ != EBUSY)                                                                        \
            return try_;                                                                          \
        WAIT("join", (void *)(thread), (uint64_t)(thread), call);                                 \
    } while (0)

TR_EXPORT TR_TEXT int pthread_join(pthread_t t, void **retval)
{
    tr_real_fns();
    JOIN(t, retval, tr_real.pthread_join(t, retval));
}

TR_EXPORT TR_TEXT int pthread_timedjoin_np(pthread_t t, void **retval,
                                           const struct timespec *abstime)
{
    tr_real_fns();
    JOIN(t, retval, tr_real.pthread_timedjoin_np(t, retval, abstime));
}

TR_EXPORT TR_TEXT int pthread_clockjoin_np(pthread_t t, void **retval, clockid_t clock,
                                           const struct timespec *abstime)
{
    tr_real_fns();
    JOIN(t, retval, tr_real.pthread_clockjoin_np(t, retval, clock, abstime));
}

/* sem_trywait fails with EAGAIN when it would wait; errno is put back before the real wait. */
#define SEM_WAIT(sem, call)                                                                       \
    do {                                                                                          \
        if (!RECORDING(__builtin_return_address(0)) && !WATCHING(__builtin_return_address(0)))   \
            return call;                                                                          \
        int errno_ = errno;                                                                       \
        if (tr_real.sem_trywait(sem) == 0)                                                        \
            return 0;                                                                             \
        if (errno != EAGAIN)                                                                      \
            return -1;                                                                            \
        errno = errno_;                                                                           \
        WAIT("sem", sem, 0, call);                                                                \
    } while (0)

TR_EXPORT TR_TEXT int sem_wait(sem_t *s)
{
    tr_real_fns();
    SEM_WAIT(s, tr_real.sem_wait(s));
}

TR_EXPORT TR_TEXT int sem_timedwait(sem_t *s, const struct timespec *abstime)
{
    tr_real_fns();
    SEM_WAIT(s, tr_real.sem_timedwait(s, abstime));
}

TR_EXPORT TR_TEXT int sem_clockwait(sem_t *s, clockid_t clock, const struct timespec *abstime)
{
    tr_real_fns();
    SEM_WAIT(s, tr_real.sem_clockwait(s, clock, abstime));
}

TR_EXPORT TR_TEXT int sem_post(sem_t *s)
{
    const struct tr_real_table *real = tr_real_fns();
    if (__builtin_expect(sem_has_waiters(s), 0) && RECORDING(__builtin_return_address(0)))
        tr_wake("sem", s);
    return real->sem_post(s);
}

/* Every arrival but the last waits; the converter names the last arrival as the waker. */
TR_EXPORT TR_TEXT int pthread_barrier_wait(pthread_barrier_t *b)
{
    tr_real_fns();
    WAIT("barrier", b, 0, tr_real.pthread_barrier_wait(b));
}
