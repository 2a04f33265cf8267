/* SPDX-License-Identifier: MIT */
/*
 * Interposers of the blocking calls (exported: they replace libc's): reads and writes, socket
 * calls, polling and sleeps. While a session records ltprof:syscall, each call is timed and
 * recorded when it took at least LTPROF_SYSCALL_NS (waits.c); otherwise it costs a load and a
 * branch. Calls LTTng-UST makes itself are not recorded. These functions are async-signal-safe
 * in libc, so a program's signal handler may call them: the recording path is
 * async-signal-safe too. Results and errno are the real ones.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "../waits.h"
#include "real.h"

/* Returns `call` (of type `type`) as the timed call `name` on descriptor `fd`. */
#define TIMED(type, name, fd, call)                                                               \
    do {                                                                                          \
        tr_real_fns();                                                                            \
        struct tr_call c_;                                                                        \
        TR_BLOCK_BEGIN(name);                                                                     \
        if (__builtin_expect(!tr_calls_on(), 1) ||                                                \
            tr_called_by_lttng(__builtin_return_address(0))) {                                    \
            type r_ = call;                                                                       \
            TR_BLOCK_END();                                                                       \
            if (__builtin_expect(tr_tls_sw_open, 0))                                              \
                tr_sched_stop_following(); /* the session is over: close the switch ring */       \
            if (__builtin_expect(tr_calls_on(), 0) &&                                             \
                !tr_called_by_lttng(__builtin_return_address(0))) {                               \
                tr_call_begun_unseen(&c_); /* a session began during the call */                  \
                tr_call_end(&c_, name, fd, (int64_t)r_);                                          \
            }                                                                                     \
            return r_;                                                                            \
        }                                                                                         \
        tr_call_begin(&c_, name);                                                                 \
        type r_ = call;                                                                           \
        TR_BLOCK_END();                                                                           \
        tr_call_end(&c_, name, fd, (int64_t)r_);                                                  \
        return r_;                                                                                \
    } while (0)

TR_EXPORT TR_TEXT ssize_t read(int fd, void *buf, size_t n)
{
    TIMED(ssize_t, "read", fd, tr_real.read(fd, buf, n));
}

TR_EXPORT TR_TEXT ssize_t write(int fd, const void *buf, size_t n)
{
    TIMED(ssize_t, "write", fd, tr_real.write(fd, buf, n));
}

TR_EXPORT TR_TEXT ssize_t readv(int fd, const struct iovec *iov, int n)
{
    TIMED(ssize_t, "readv", fd, tr_real.readv(fd, iov, n));
}

TR_EXPORT TR_TEXT ssize_t writev(int fd, const struct iovec *iov, int n)
{
    TIMED(ssize_t, "writev", fd, tr_real.writev(fd, iov, n));
}

TR_EXPORT TR_TEXT ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
    TIMED(ssize_t, "pread", fd, tr_real.pread(fd, buf, n, off));
}

TR_EXPORT TR_TEXT ssize_t pread64(int fd, void *buf, size_t n, off_t off)
{
    TIMED(ssize_t, "pread", fd, tr_real.pread(fd, buf, n, off));
}

TR_EXPORT TR_TEXT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    TIMED(ssize_t, "pwrite", fd, tr_real.pwrite(fd, buf, n, off));
}

TR_EXPORT TR_TEXT ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    TIMED(ssize_t, "pwrite", fd, tr_real.pwrite(fd, buf, n, off));
}

TR_EXPORT TR_TEXT ssize_t recv(int fd, void *buf, size_t n, int flags)
{
    TIMED(ssize_t, "recv", fd, tr_real.recv(fd, buf, n, flags));
}

TR_EXPORT TR_TEXT ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *from,
                                   socklen_t *len)
{
    TIMED(ssize_t, "recvfrom", fd, tr_real.recvfrom(fd, buf, n, flags, from, len));
}

TR_EXPORT TR_TEXT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    TIMED(ssize_t, "recvmsg", fd, tr_real.recvmsg(fd, msg, flags));
}

TR_EXPORT TR_TEXT ssize_t send(int fd, const void *buf, size_t n, int flags)
{
    TIMED(ssize_t, "send", fd, tr_real.send(fd, buf, n, flags));
}

TR_EXPORT TR_TEXT ssize_t sendto(int fd, const void *buf, size_t n, int flags,
                                 const struct sockaddr *to, socklen_t len)
{
    TIMED(ssize_t, "sendto", fd, tr_real.sendto(fd, buf, n, flags, to, len));
}

TR_EXPORT TR_TEXT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    TIMED(ssize_t, "sendmsg", fd, tr_real.sendmsg(fd, msg, flags));
}

TR_EXPORT TR_TEXT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    TIMED(int, "accept", fd, tr_real.accept(fd, addr, len));
}

TR_EXPORT TR_TEXT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
    TIMED(int, "accept4", fd, tr_real.accept4(fd, addr, len, flags));
}

TR_EXPORT TR_TEXT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    TIMED(int, "connect", fd, tr_real.connect(fd, addr, len));
}

TR_EXPORT TR_TEXT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    TIMED(int, "poll", -1, tr_real.poll(fds, n, timeout));
}

TR_EXPORT TR_TEXT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *timeout,
                            const sigset_t *mask)
{
    TIMED(int, "ppoll", -1, tr_real.ppoll(fds, n, timeout, mask));
}

TR_EXPORT TR_TEXT int select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *timeout)
{
    TIMED(int, "select", -1, tr_real.select(n, r, w, e, timeout));
}

TR_EXPORT TR_TEXT int pselect(int n, fd_set *r, fd_set *w, fd_set *e,
                              const struct timespec *timeout, const sigset_t *mask)
{
    TIMED(int, "pselect", -1, tr_real.pselect(n, r, w, e, timeout, mask));
}

TR_EXPORT TR_TEXT int epoll_wait(int epfd, struct epoll_event *events, int max, int timeout)
{
    TIMED(int, "epoll_wait", epfd, tr_real.epoll_wait(epfd, events, max, timeout));
}

TR_EXPORT TR_TEXT int epoll_pwait(int epfd, struct epoll_event *events, int max, int timeout,
                                  const sigset_t *mask)
{
    TIMED(int, "epoll_pwait", epfd, tr_real.epoll_pwait(epfd, events, max, timeout, mask));
}

/* Sleeps: the converter shows these calls as sleeping, not as system calls. */
TR_EXPORT TR_TEXT int nanosleep(const struct timespec *req, struct timespec *rem)
{
    TIMED(int, "nanosleep", -1, tr_real.nanosleep(req, rem));
}

TR_EXPORT TR_TEXT int clock_nanosleep(clockid_t clock, int flags, const struct timespec *req,
                                      struct timespec *rem)
{
    TIMED(int, "clock_nanosleep", -1, tr_real.clock_nanosleep(clock, flags, req, rem));
}

TR_EXPORT TR_TEXT int usleep(useconds_t usec)
{
    TIMED(int, "usleep", -1, tr_real.usleep(usec));
}

TR_EXPORT TR_TEXT unsigned int sleep(unsigned int seconds)
{
    TIMED(unsigned int, "sleep", -1, tr_real.sleep(seconds));
}
