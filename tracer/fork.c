/* SPDX-License-Identifier: MIT */
/*
 * LTTng-UST's own state around fork(), as liblttng-ust-fork.so would handle it: its locks (the
 * RCU registry's among them) are taken before the fork and released, or rebuilt in the child,
 * after it. Without this, a child forked while another thread was registering with LTTng-UST
 * (every thread ltprof starts does, lttng_ust_init_thread) hung at its first thread creation.
 * Skipped when liblttng-ust-fork.so is loaded: it does the same around its fork() wrapper,
 * and taking those locks twice would deadlock.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>

/* liblttng-ust's fork hooks (lttng/ust-fork.h, not installed by Debian's liblttng-ust-dev). */
void lttng_ust_before_fork(sigset_t *save_sigset);
void lttng_ust_after_fork_parent(sigset_t *restore_sigset);
void lttng_ust_after_fork_child(sigset_t *restore_sigset);

static __thread sigset_t saved __attribute__((tls_model("initial-exec")));

static void prepare(void)
{
    lttng_ust_before_fork(&saved);
}

static void parent(void)
{
    lttng_ust_after_fork_parent(&saved);
}

static void child(void)
{
    lttng_ust_after_fork_child(&saved);
}

static void install(void)
{
    Dl_info info;
    void *fork_fn = dlsym(RTLD_DEFAULT, "fork");
    if (fork_fn && dladdr(fork_fn, &info) && info.dli_fname &&
        strstr(info.dli_fname, "liblttng-ust-fork"))
        return;
    pthread_atfork(prepare, parent, child);
}

/* Registered after the sampler's handlers (runtime.c calls this once the sampler started):
 * the child handler then runs last, once the sampler's thread table is free again, since
 * LTTng-UST's rebuild starts threads in the child and waits for them to register, and those
 * threads take that table (their names); the prepare handler runs first. */
void tr_fork_hooks_install(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install);
}
