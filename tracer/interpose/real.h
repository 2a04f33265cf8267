/* SPDX-License-Identifier: MIT */
/*
 * Internal to tracer/interpose/: the libc functions the interposers call through. One table,
 * filled once by tr_real_init() (dlsym(RTLD_NEXT), or dlvsym for symbols with several versions)
 * the first time any wrapper runs, so wrappers called from other libraries' constructors, before
 * ours, work too. A symbol libc lacks makes tr_real_init() abort: the program cannot run
 * without it.
 */
#ifndef LTPROF_TRACER_INTERPOSE_REAL_H
#define LTPROF_TRACER_INTERPOSE_REAL_H

#include <poll.h>
#include <stdint.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#define TR_EXPORT __attribute__((visibility("default")))

/* X(return type, name, parameter list): every wrapped function. */
#define TR_REAL_FUNCTIONS(X)                                                                      \
    X(int, pthread_mutex_lock, (pthread_mutex_t *))                                               \
    X(int, pthread_mutex_trylock, (pthread_mutex_t *))                                            \
    X(int, pthread_mutex_timedlock, (pthread_mutex_t *, const struct timespec *))                 \
    X(int, pthread_mutex_clocklock, (pthread_mutex_t *, clockid_t, const struct timespec *))      \
    X(int, pthread_mutex_unlock, (pthread_mutex_t *))                                             \
    X(int, pthread_rwlock_rdlock, (pthread_rwlock_t *))                                           \
    X(int, pthread_rwlock_tryrdlock, (pthread_rwlock_t *))                                        \
    X(int, pthread_rwlock_timedrdlock, (pthread_rwlock_t *, const struct timespec *))             \
    X(int, pthread_rwlock_clockrdlock, (pthread_rwlock_t *, clockid_t, const struct timespec *))  \
    X(int, pthread_rwlock_wrlock, (pthread_rwlock_t *))                                           \
    X(int, pthread_rwlock_trywrlock, (pthread_rwlock_t *))                                        \
    X(int, pthread_rwlock_timedwrlock, (pthread_rwlock_t *, const struct timespec *))             \
    X(int, pthread_rwlock_clockwrlock, (pthread_rwlock_t *, clockid_t, const struct timespec *))  \
    X(int, pthread_rwlock_unlock, (pthread_rwlock_t *))                                           \
    X(int, pthread_cond_wait, (pthread_cond_t *, pthread_mutex_t *))                              \
    X(int, pthread_cond_timedwait, (pthread_cond_t *, pthread_mutex_t *, const struct timespec *))\
    X(int, pthread_cond_clockwait,                                                                \
      (pthread_cond_t *, pthread_mutex_t *, clockid_t, const struct timespec *))                  \
    X(int, pthread_cond_signal, (pthread_cond_t *))                                               \
    X(int, pthread_cond_broadcast, (pthread_cond_t *))                                            \
    X(int, pthread_join, (pthread_t, void **))                                                    \
    X(int, pthread_tryjoin_np, (pthread_t, void **))                                              \
    X(int, pthread_timedjoin_np, (pthread_t, void **, const struct timespec *))                   \
    X(int, pthread_clockjoin_np, (pthread_t, void **, clockid_t, const struct timespec *))        \
    X(int, pthread_barrier_wait, (pthread_barrier_t *))                                           \
    X(int, sem_wait, (sem_t *))                                                                   \
    X(int, sem_trywait, (sem_t *))                                                                \
    X(int, sem_timedwait, (sem_t *, const struct timespec *))                                     \
    X(int, sem_clockwait, (sem_t *, clockid_t, const struct timespec *))                          \
    X(int, sem_post, (sem_t *))                                                                   \
    X(ssize_t, read, (int, void *, size_t))                                                       \
    X(ssize_t, write, (int, const void *, size_t))                                                \
    X(ssize_t, readv, (int, const struct iovec *, int))                                           \
    X(ssize_t, writev, (int, const struct iovec *, int))                                          \
    X(ssize_t, pread, (int, void *, size_t, off_t))                                               \
    X(ssize_t, pwrite, (int, const void *, size_t, off_t))                                        \
    X(ssize_t, recv, (int, void *, size_t, int))                                                  \
    X(ssize_t, recvfrom, (int, void *, size_t, int, struct sockaddr *, socklen_t *))              \
    X(ssize_t, recvmsg, (int, struct msghdr *, int))                                              \
    X(ssize_t, send, (int, const void *, size_t, int))                                            \
    X(ssize_t, sendto, (int, const void *, size_t, int, const struct sockaddr *, socklen_t))      \
    X(ssize_t, sendmsg, (int, const struct msghdr *, int))                                        \
    X(int, accept, (int, struct sockaddr *, socklen_t *))                                         \
    X(int, accept4, (int, struct sockaddr *, socklen_t *, int))                                   \
    X(int, connect, (int, const struct sockaddr *, socklen_t))                                    \
    X(int, poll, (struct pollfd *, nfds_t, int))                                                  \
    X(int, ppoll, (struct pollfd *, nfds_t, const struct timespec *, const sigset_t *))           \
    X(int, select, (int, fd_set *, fd_set *, fd_set *, struct timeval *))                         \
    X(int, pselect,                                                                               \
      (int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *))             \
    X(int, epoll_wait, (int, struct epoll_event *, int, int))                                     \
    X(int, epoll_pwait, (int, struct epoll_event *, int, int, const sigset_t *))                  \
    X(int, nanosleep, (const struct timespec *, struct timespec *))                               \
    X(int, clock_nanosleep, (clockid_t, int, const struct timespec *, struct timespec *))         \
    X(int, usleep, (useconds_t))                                                                  \
    X(unsigned int, sleep, (unsigned int))

struct tr_real_table {
#define TR_REAL_FIELD(ret, name, params) ret(*name) params;
    TR_REAL_FUNCTIONS(TR_REAL_FIELD)
#undef TR_REAL_FIELD
};

extern struct tr_real_table tr_real __attribute__((visibility("hidden")));
extern _Atomic int tr_real_ready __attribute__((visibility("hidden")));

void tr_real_init(void) __attribute__((visibility("hidden")));

/* The code of LTTng-UST's libraries: calls they make (on their own mutexes, their pipes) must
 * never be traced, or a tracepoint would run inside LTTng's critical sections. Filled by
 * tr_real_init(), before any event can be enabled. */
#define TR_MAX_FOREIGN 8
struct tr_code_range {
    uintptr_t lo, hi;
};
extern struct tr_code_range tr_lttng_code[TR_MAX_FOREIGN] __attribute__((visibility("hidden")));
extern int tr_lttng_code_n __attribute__((visibility("hidden")));

/* Whether `ret` (a wrapper's __builtin_return_address(0)) is in LTTng-UST's code. */
static inline int tr_called_by_lttng(const void *ret)
{
    uintptr_t pc = (uintptr_t)ret;
    for (int i = 0; i < tr_lttng_code_n; i++)
        if (pc - tr_lttng_code[i].lo < tr_lttng_code[i].hi - tr_lttng_code[i].lo)
            return 1;
    return 0;
}

/* The table, filled on first use. */
static inline const struct tr_real_table *tr_real_fns(void)
{
    if (__builtin_expect(!atomic_load_explicit(&tr_real_ready, memory_order_acquire), 0))
        tr_real_init();
    return &tr_real;
}

#endif
