/* SPDX-License-Identifier: MIT */
/*
 * Thread dumps (tracer.h: tr_thread_dump), behind the goroutine-equivalent thread profile: the
 * current stack of every armed thread, taken without stopping anybody and without a signal
 * that could interrupt a sleep:
 *   - a thread blocked in an interposed call (a contended lock, a condition, read, poll,
 *     nanosleep...) published that call's frame (waits.h: TR_BLOCK_BEGIN); its stack is copied
 *     from there with process_vm_readv (which fails cleanly on unmapped memory, should the
 *     thread exit meanwhile) and unwound on the copy; the publication's sequence number, read
 *     again after, says whether the copy is still the thread's;
 *   - a running thread (state R in /proc) is asked with a queued SIGPROF; its handler unwinds
 *     its own stack (sampler_signal.c); a thread that does not answer within 100 ms (signals
 *     blocked) is listed without a stack;
 *   - a thread asleep in a call ltprof does not interpose is listed without a stack: a signal
 *     would end some sleeps early with EINTR.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "guard.h"
#include "sampler-internal.h"
#include "unwind.h"
#include "waits.h"

#define COPY_BYTES (256 * 1024) /* of a blocked thread's stack, from the published frame up */
#define ANSWER_NS (100 * 1000 * 1000)

static pthread_mutex_t dump_lock = PTHREAD_MUTEX_INITIALIZER;

/* fork() waits for a dump in progress, so the child never inherits the lock taken. */
TR_HOLD_ACROSS_FORK(dump_lock)

/* The thread's state letter in /proc (R, S, D, T...), or 0 when it is gone. */
static char proc_state(int32_t tid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the name may hold spaces and parentheses */
    return p && p[1] == ' ' ? p[2] : 0;
}

/* Drops the frames of ltprof's library (the profile writer's, for the calling thread) from the
 * top of a stack. */
static size_t drop_library(uint64_t *pcs, size_t n)
{
    Dl_info self, info;
    if (!dladdr((void *)(uintptr_t)tr_thread_dump, &self))
        return n;
    size_t k = 0;
    while (k < n && dladdr((void *)(uintptr_t)(pcs[k] - 1), &info) &&
           info.dli_fbase == self.dli_fbase)
        k++;
    memmove(pcs, pcs + k, (n - k) * sizeof(*pcs));
    return n - k;
}

/* Drops ltprof's own frames from the top of a stack. */
static size_t drop_own(uint64_t *pcs, size_t n)
{
    size_t k = 0;
    while (k < n && tr_in_ltprof_text(pcs[k] - 1))
        k++;
    memmove(pcs, pcs + k, (n - k) * sizeof(*pcs));
    return n - k;
}

/* The stack of a thread blocked in a published call: 1 when taken (and still valid). */
static int blocked_stack(struct tr_thread_slot *s, uint8_t *copy, struct tr_thread_dump_entry *e)
{
    uint32_t seq = atomic_load_explicit(&s->blk_seq, memory_order_acquire);
    if (!(seq & 1))
        return 0;
    uint64_t fp = atomic_load_explicit(&s->blk_fp, memory_order_relaxed);
    const char *what = atomic_load_explicit(&s->blk_what, memory_order_relaxed);
    struct iovec local = {copy, COPY_BYTES}, remote = {(void *)(uintptr_t)fp, COPY_BYTES};
    ssize_t got = syscall(SYS_process_vm_readv, getpid(), &local, 1, &remote, 1, 0);
    if (got < 16) {
        /* A read that crosses into an unmapped page fails whole: try the first 4 KiB. */
        local.iov_len = remote.iov_len = 4096 - (fp & 4095);
        got = syscall(SYS_process_vm_readv, getpid(), &local, 1, &remote, 1, 0);
        if (got < 16)
            return 0;
    }
    struct tr_regs regs = {0};
    uint64_t saved_fp, ret;
    memcpy(&saved_fp, copy, 8);
    memcpy(&ret, copy + 8, 8);
    regs.reg[TR_REG_RIP] = ret;
    regs.reg[TR_REG_RSP] = fp + 16;
    regs.reg[TR_REG_RBP] = saved_fp;
    regs.valid = 1u << TR_REG_RIP | 1u << TR_REG_RSP | 1u << TR_REG_RBP;
    struct tr_stack_range range = {fp, fp + (uint64_t)got, (intptr_t)copy - (intptr_t)fp};
    enum tr_unwind_status status;
    size_t n = tr_unwind(&regs, &range, e->pcs, TR_DUMP_FRAMES, &status);
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&s->blk_seq, memory_order_relaxed) != seq)
        return 0; /* it moved on while we copied */
    /* pcs[0] is the return address into the wrapper's caller, like every other frame. */
    e->n = (uint16_t)drop_own(e->pcs, n);
    e->exact_leaf = 0;
    snprintf(e->state, sizeof(e->state), "%s", what ? what : "blocked");
    const char *kind = atomic_load_explicit(&s->wait_kind, memory_order_acquire);
    uint64_t since = atomic_load_explicit(&s->wait_since_ns, memory_order_relaxed);
    if (kind && since) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        uint64_t t = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
        e->waiting_ns = t > since ? t - since : 0;
    }
    return 1;
}


/* The tid of the thread in slot s when a dump lists it (another live thread than `self`, not
 * one of LTTng-UST's; ltprof's are never armed), with its state letter; else 0. */
static int32_t listed_thread(const struct tr_thread_slot *s, int32_t self, char *state)
{
    int32_t tid = atomic_load_explicit(&s->tid, memory_order_acquire);
    if (tid <= 0 || tid == self || strncmp(s->name, "lttng-ust", 9) == 0)
        return 0;
    *state = proc_state(tid);
    return *state ? tid : 0; /* 0: gone */
}

int tr_thread_dump(struct tr_thread_dump *out)
{
    memset(out, 0, sizeof(*out));
    tr_guard_enter();
    pthread_mutex_lock(&dump_lock);
    uint32_t used = atomic_load_explicit(&tr_samp.slots_used, memory_order_acquire);
    int signals = atomic_load_explicit(&tr_samp.engine, memory_order_acquire) != TR_ENGINE_NONE;
    int32_t self = tr_tid_self();
    out->threads = calloc((size_t)used + 1, sizeof(*out->threads));
    uint32_t *asked = calloc((size_t)used + 1, sizeof(*asked));
    uint8_t *copy = malloc(COPY_BYTES);
    int rc = out->threads && asked && copy ? 0 : LTPROF_ERR_NOMEM;
    size_t n_asked = 0;

    /* The calling thread itself, unless it is ltprof's own (an HTTP server thread). */
    if (rc == 0 && !tr_own_thread) {
        struct tr_thread_dump_entry *e = &out->threads[out->n++];
        e->tid = (uint32_t)self;
        e->n = (uint16_t)drop_library(e->pcs, tr_stack_capture_caller(e->pcs, TR_DUMP_FRAMES));
        snprintf(e->state, sizeof(e->state), "running");
        struct tr_thread_slot *mine = tr_slot_self();
        if (mine)
            memcpy(e->name, mine->name, sizeof(e->name) - 1);
    }
    for (uint32_t i = 0; rc == 0 && i < used; i++) {
        struct tr_thread_slot *s = &tr_samp.slots[i];
        char state;
        int32_t tid = listed_thread(s, self, &state);
        if (!tid)
            continue;
        struct tr_thread_dump_entry *e = &out->threads[out->n++];
        e->tid = (uint32_t)tid;
        memcpy(e->name, s->name, sizeof(e->name) - 1);
        if (blocked_stack(s, copy, e))
            continue;
        if (state == 'R' && signals) {
            atomic_store_explicit(&s->dump_state, 1, memory_order_release);
            siginfo_t si;
            memset(&si, 0, sizeof(si));
            si.si_signo = SIGPROF;
            si.si_code = SI_QUEUE;
            si.si_pid = getpid();
            si.si_uid = getuid();
            si.si_value.sival_ptr = (void *)(uintptr_t)((uint64_t)TR_DUMP_MAGIC << 32 | i);
            if (syscall(SYS_rt_tgsigqueueinfo, getpid(), tid, SIGPROF, &si) == 0) {
                asked[n_asked++] = (uint32_t)(out->n - 1) << 12 | i; /* entry, slot */
                snprintf(e->state, sizeof(e->state), "running");
                continue;
            }
            atomic_store_explicit(&s->dump_state, 0, memory_order_relaxed);
        }
        snprintf(e->state, sizeof(e->state), state == 'R' ? "running" : "blocked");
    }
    /* The answers of the running threads. */
    uint64_t deadline = tr_now_ns() + ANSWER_NS;
    for (size_t k = 0; k < n_asked; k++) {
        struct tr_thread_dump_entry *e = &out->threads[asked[k] >> 12];
        struct tr_thread_slot *s = &tr_samp.slots[asked[k] & 0xfff];
        while (atomic_load_explicit(&s->dump_state, memory_order_acquire) != 2 &&
               tr_now_ns() < deadline) {
            struct timespec ts = {0, 100 * 1000};
            nanosleep(&ts, NULL);
        }
        int answered = 2;
        if (atomic_compare_exchange_strong(&s->dump_state, &answered, 0)) {
            e->n = (uint16_t)(s->dump_n < TR_DUMP_FRAMES ? s->dump_n : TR_DUMP_FRAMES);
            memcpy(e->pcs, s->dump_pcs, e->n * sizeof(*e->pcs));
            e->exact_leaf = 1;
        } else {
            int pending = 1;
            atomic_compare_exchange_strong(&s->dump_state, &pending, 0);
            snprintf(e->state, sizeof(e->state), "no answer");
        }
    }
    pthread_mutex_unlock(&dump_lock);
    tr_guard_leave();
    free(asked);
    free(copy);
    if (rc != 0)
        tr_thread_dump_free(out);
    return rc;
}

size_t tr_thread_count(void)
{
    size_t n = tr_own_thread ? 0 : 1;
    int32_t self = tr_tid_self();
    uint32_t used = atomic_load_explicit(&tr_samp.slots_used, memory_order_acquire);
    char state;
    for (uint32_t i = 0; i < used; i++)
        n += listed_thread(&tr_samp.slots[i], self, &state) != 0;
    return n;
}

void tr_thread_dump_free(struct tr_thread_dump *d)
{
    free(d->threads);
    memset(d, 0, sizeof(*d));
}
