/* SPDX-License-Identifier: MIT */
/*
 * close, fclose, closefrom and close_range, kept away from LTTng-UST's own descriptors.
 * Daemons close every descriptor when they start; without this they close LTTng-UST's
 * shared-memory and socket descriptors under it, and lttng-ust aborts at exit (an assertion
 * in counter/shm.c; tests/programs/faults closeall). LTTng-UST's fd tracker
 * (liblttng-ust-common) knows which descriptors are its own: the calls go through it, as
 * liblttng-ust-fd.so, which users would otherwise have to preload, does it. A descriptor of
 * LTTng's gets EBADF, as if it were not open. Without the tracker (another lttng-ust), the
 * calls go straight to libc.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

#include "real.h"

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

typedef int (*close_fn)(int);
typedef int (*fclose_fn)(FILE *);

static struct {
    close_fn close;
    fclose_fn fclose;
    void (*closefrom)(int);
    int (*close_range)(unsigned int, unsigned int, int);
    int (*safe_close)(int, close_fn);
    int (*safe_fclose)(FILE *, fclose_fn);
    int (*safe_closefrom)(int, close_fn);
} fd_real;
static atomic_int fd_ready;

/* Looked up at load (our constructor), or at the first call when another library's
 * constructor closes a descriptor before that: dlsym is not async-signal-safe, close is. */
static void resolve(void)
{
    if (atomic_load_explicit(&fd_ready, memory_order_acquire))
        return;
    fd_real.close = (close_fn)dlsym(RTLD_NEXT, "close");
    fd_real.fclose = (fclose_fn)dlsym(RTLD_NEXT, "fclose");
    fd_real.closefrom = (void (*)(int))dlsym(RTLD_NEXT, "closefrom");
    fd_real.close_range = (int (*)(unsigned int, unsigned int, int))dlsym(RTLD_NEXT, "close_range");
    fd_real.safe_close = (int (*)(int, close_fn))dlsym(RTLD_DEFAULT, "lttng_ust_safe_close_fd");
    fd_real.safe_fclose =
        (int (*)(FILE *, fclose_fn))dlsym(RTLD_DEFAULT, "lttng_ust_safe_fclose_stream");
    fd_real.safe_closefrom =
        (int (*)(int, close_fn))dlsym(RTLD_DEFAULT, "lttng_ust_safe_closefrom_fd");
    atomic_store_explicit(&fd_ready, 1, memory_order_release);
}

__attribute__((constructor)) static void fds_init_at_load(void)
{
    resolve();
}

TR_EXPORT int close(int fd)
{
    resolve();
    return fd_real.safe_close ? fd_real.safe_close(fd, fd_real.close) : fd_real.close(fd);
}

TR_EXPORT int fclose(FILE *stream)
{
    resolve();
    return fd_real.safe_fclose ? fd_real.safe_fclose(stream, fd_real.fclose)
                               : fd_real.fclose(stream);
}

TR_EXPORT void closefrom(int lowfd)
{
    resolve();
    if (fd_real.safe_closefrom)
        fd_real.safe_closefrom(lowfd, fd_real.close);
    else if (fd_real.closefrom)
        fd_real.closefrom(lowfd);
}

TR_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
    resolve();
    /* Marking close-on-exec closes nothing now; lttng-ust 2.13 has no safe close_range. */
    if (!fd_real.safe_close || ((unsigned)flags & CLOSE_RANGE_CLOEXEC) || first > last) {
        if (fd_real.close_range)
            return fd_real.close_range(first, last, flags);
        errno = ENOSYS;
        return -1;
    }
    if (((unsigned)flags & CLOSE_RANGE_UNSHARE) && unshare(CLONE_FILES) != 0)
        return -1;
    if (((unsigned)flags & ~CLOSE_RANGE_UNSHARE) != 0) {
        errno = EINVAL;
        return -1;
    }
    /* Descriptors end below the limit (and Linux's nr_open, 2^20 by default). */
    struct rlimit rl;
    rlim_t limit = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : 1u << 20;
    if (limit > (1u << 20))
        limit = 1u << 20;
    unsigned int top = limit == 0 ? 0 : (rlim_t)last < limit ? last : (unsigned int)(limit - 1);
    int saved = errno;
    for (unsigned int fd = first; fd <= top; fd++)
        fd_real.safe_close((int)fd, fd_real.close);
    errno = saved;
    return 0;
}
