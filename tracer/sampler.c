/* SPDX-License-Identifier: MIT */
/*
 * The CPU sampler (face: tracer.h): chooses the engine (perf_event or timer_create), arms a
 * per-thread sampling source for every thread, keeps the thread table and handles fork and
 * thread exit. Normal context only; the SIGPROF handler is in sampler_signal.c. Slot
 * allocation and release take `table_lock` (never taken by the handler; held across fork).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "guard.h"
#include "ltprof_tp.h"
#include "sampler-internal.h"
#include "unwind.h"

struct tr_sampler_state tr_samp = {.engine = TR_ENGINE_NONE};
__thread int32_t tr_tls_slot TR_TLS;
__thread int32_t tr_tls_tid TR_TLS;
__thread int32_t tr_tls_seen_enabled TR_TLS;
__thread uint32_t tr_tls_epoch TR_TLS;
__thread int tr_tls_draining TR_TLS;
__thread int tr_tls_sw_open TR_TLS;
__thread int tr_tls_emitting TR_TLS;
__thread unsigned int tr_guard __attribute__((tls_model("initial-exec")));
__thread unsigned int tr_own_thread __attribute__((tls_model("initial-exec")));

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t setup_once = PTHREAD_ONCE_INIT;
static pthread_key_t exit_key;      /* its destructor disarms a thread that armed itself */
static int setup_failed;
static __thread sigset_t fork_saved_mask;

static void set_error(struct ltprof_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_error(struct ltprof_error *err, const char *fmt, ...)
{
    va_list ap;
    if (!err)
        return;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
}

/* Reads a small /proc file into buf (NUL-terminated). Returns the length or -errno. */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
    size_t len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    while (len + 1 < cap) {
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    return (ssize_t)len;
}

/* Copies a thread name (at most 15 characters); dst[15] is never written with anything but
 * NUL, so a handler reading a name while it changes still finds a terminator. */
static void copy_name(char dst[16], const char *src)
{
    size_t n = strnlen(src, 15);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* The name of another thread of this process, from /proc/self/task/<tid>/comm. */
static void read_thread_name(int32_t tid, char name[16])
{
    char path[64], buf[64];
    snprintf(path, sizeof(path), "/proc/self/task/%d/comm", (int)tid);
    name[0] = '\0';
    if (read_small(path, buf, sizeof(buf)) <= 0)
        return;
    buf[strcspn(buf, "\n")] = '\0';
    copy_name(name, buf);
}

/* Non-zero when thread `tid` blocks SIGPROF (SigBlk of /proc/self/task/<tid>/status). */
static int thread_blocks_sigprof(int32_t tid)
{
    char path[64], buf[4096];
    snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)tid);
    if (read_small(path, buf, sizeof(buf)) <= 0)
        return 1; /* gone, or unreadable: do not arm */
    const char *line = strstr(buf, "\nSigBlk:");
    if (!line)
        return 0;
    unsigned long long mask = strtoull(line + strlen("\nSigBlk:"), NULL, 16);
    return (mask >> (SIGPROF - 1)) & 1;
}

/* Snapshot of the writable mappings, for the stacks of threads armed from outside. */
static void snapshot_writable_maps(void)
{
    FILE *f = fopen("/proc/self/maps", "re");
    char *line = NULL;
    size_t cap = 0;
    uint32_t n = 0;
    if (!f)
        return;
    atomic_store_explicit(&tr_samp.nwmaps, 0, memory_order_release);
    while (n < TR_MAX_WMAPS && getline(&line, &cap, f) > 0) {
        unsigned long lo, hi;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || perms[1] != 'w')
            continue;
        if (n > 0 && tr_samp.wmaps[n - 1].hi == lo) {
            tr_samp.wmaps[n - 1].hi = hi; /* merge adjacent writable mappings */
            continue;
        }
        tr_samp.wmaps[n].lo = lo;
        tr_samp.wmaps[n].hi = hi;
        n++;
    }
    free(line);
    fclose(f);
    atomic_store_explicit(&tr_samp.nwmaps, n, memory_order_release);
}

/* ---- engines ----------------------------------------------------------------------------- */

/*
 * A perf task-clock event for `tid` that signals SIGPROF to that thread at each overflow.
 * Preferred: a 1+1 page ring; the kernel then signals POLL_IN at each sample record and the
 * handler only moves data_tail (about 0.3 us). Without a ring (mmap refused: perf_event_mlock_kb
 * and RLIMIT_MEMLOCK exhausted), the event disables itself at each overflow with POLL_HUP and
 * the handler re-arms it with PERF_EVENT_IOC_REFRESH, which costs about 12 us in this VM.
 * Sets s->fd and s->ring (the event is still disabled; perf_start starts it) or returns -errno.
 */
static int perf_open(struct tr_thread_slot *s, int32_t tid)
{
    struct perf_event_attr attr;
    struct f_owner_ex owner = {.type = F_OWNER_TID, .pid = tid};
    memset(&attr, 0, sizeof(attr));
    attr.size = sizeof(attr);
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_TASK_CLOCK;
    attr.sample_period = tr_samp.period_ns;
    attr.sample_type = 0; /* records are bare headers: we only want the wakeup */
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    attr.disabled = 1;
    attr.wakeup_events = 1;
    int fd = (int)syscall(SYS_perf_event_open, &attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fcntl(fd, F_SETFL, O_ASYNC | O_NONBLOCK) < 0 || fcntl(fd, F_SETSIG, SIGPROF) < 0 ||
        fcntl(fd, F_SETOWN_EX, &owner) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    void *ring = mmap(NULL, tr_samp.ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    s->ring = ring == MAP_FAILED ? NULL : ring;
    s->fd = fd;
    return 0;
}

static int perf_start(const struct tr_thread_slot *s)
{
    int rc = s->ring ? ioctl(s->fd, PERF_EVENT_IOC_ENABLE, 0)
                     : ioctl(s->fd, PERF_EVENT_IOC_REFRESH, 1);
    return rc < 0 ? -errno : 0;
}

static void perf_close(struct tr_thread_slot *s)
{
    if (s->ring)
        munmap(s->ring, tr_samp.ring_bytes);
    close(s->fd);
    s->ring = NULL;
    s->fd = -1;
}

/* The CPU clock of thread `tid`: the kernel's encoding, as glibc's pthread_getcpuclockid. */
static clockid_t thread_cpu_clock(int32_t tid)
{
    if (tid == tr_tid_self())
        return CLOCK_THREAD_CPUTIME_ID;
    return (clockid_t)((~(uint32_t)tid << 3) | 6u);
}

/* A CPU-time timer of `tid` that sends SIGPROF to that thread; si_value names `idx`. */
static int timer_open(int32_t tid, uint32_t idx, timer_t *timer)
{
    struct sigevent sev;
    memset(&sev, 0, sizeof(sev));
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = SIGPROF;
    sev._sigev_un._tid = tid;
    sev.sigev_value.sival_ptr = (void *)(uintptr_t)(((uint64_t)TR_TIMER_MAGIC << 32) | idx);
    if (timer_create(thread_cpu_clock(tid), &sev, timer) < 0)
        return -errno;
    return 0;
}

static int timer_start(timer_t timer)
{
    struct itimerspec its;
    its.it_interval.tv_sec = (time_t)(tr_samp.period_ns / 1000000000u);
    its.it_interval.tv_nsec = (long)(tr_samp.period_ns % 1000000000u);
    its.it_value = its.it_interval;
    return timer_settime(timer, 0, &its, NULL) < 0 ? -errno : 0;
}

/* ---- thread table (table_lock held) -------------------------------------------------------- */

static void slot_disarm(struct tr_thread_slot *s)
{
    atomic_store_explicit(&s->tid, 0, memory_order_release);
    if (s->fd >= 0) {
        ioctl(s->fd, PERF_EVENT_IOC_DISABLE, 0);
        perf_close(s);
    }
    if (s->has_timer)
        timer_delete(s->timer);
    s->has_timer = 0;
    tr_sched_close(s);
}

static int slot_find(int32_t tid)
{
    uint32_t used = atomic_load_explicit(&tr_samp.slots_used, memory_order_relaxed);
    for (uint32_t i = 0; i < used; i++)
        if (atomic_load_explicit(&tr_samp.slots[i].tid, memory_order_relaxed) == tid)
            return (int)i;
    return -1;
}

/* A free slot; when the table is full, first frees the slots of threads that have exited
 * (threads armed from outside have no exit hook). Returns -1 when none is left. */
static int slot_alloc(void)
{
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t i = 0; i < TR_MAX_THREADS; i++)
            if (atomic_load_explicit(&tr_samp.slots[i].tid, memory_order_relaxed) == 0)
                return (int)i;
        for (uint32_t i = 0; i < TR_MAX_THREADS; i++) {
            int32_t tid = atomic_load_explicit(&tr_samp.slots[i].tid, memory_order_relaxed);
            if (syscall(SYS_tgkill, getpid(), tid, 0) < 0 && errno == ESRCH)
                slot_disarm(&tr_samp.slots[i]);
        }
    }
    return -1;
}

/* Fills slot `idx` for `tid` (self: the calling thread) before it is published. */
static void slot_fill(struct tr_thread_slot *s, int32_t tid, int self)
{
    s->fd = -1;
    s->ring = NULL;
    s->has_timer = 0;
    s->sw_fd = -1;
    s->sw_ring = NULL;
    atomic_store_explicit(&s->wait_kind, NULL, memory_order_relaxed);
    s->thread = self ? pthread_self() : 0;
    s->stack.lo = s->stack.hi = 0;
    atomic_store_explicit(&s->samples, 0, memory_order_relaxed);
    if (self) {
        struct tr_stack_range r;
        if (tr_stack_range_self(&r) == 0)
            s->stack = r;
        s->name[0] = '\0';
        prctl(PR_GET_NAME, s->name);
        s->name[15] = '\0';
    } else {
        read_thread_name(tid, s->name);
    }
}

static void block_sigprof(sigset_t *old);

/* The calling thread, armed from outside at start, arms itself (pthread_create trampoline
 * racing with start): learn its pthread_t and exact stack. SIGPROF is blocked meanwhile: only
 * this thread's handler reads the slot. */
static void slot_adopt(struct tr_thread_slot *s, int idx)
{
    sigset_t old;
    struct tr_stack_range r;
    block_sigprof(&old);
    tr_tls_slot = idx + 1;
    if (s->thread == 0 && tr_stack_range_self(&r) == 0) {
        s->thread = pthread_self();
        s->stack = r;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Arms `tid` with `engine`. Returns 0, 1 when it already was, or -errno. */
static int arm_locked(int32_t tid, int self, enum tr_cpu_engine engine)
{
    int idx = slot_find(tid);
    if (idx >= 0) {
        if (self)
            slot_adopt(&tr_samp.slots[idx], idx);
        return 1;
    }
    idx = slot_alloc();
    if (idx < 0)
        return -ENOSPC;
    struct tr_thread_slot *s = &tr_samp.slots[idx];
    slot_fill(s, tid, self);
    int rc = 0;
    if (engine == TR_ENGINE_PERF) {
        rc = perf_open(s, tid);
    } else if (engine == TR_ENGINE_TIMER) {
        rc = timer_open(tid, (uint32_t)idx, &s->timer);
        s->has_timer = rc == 0;
    }
    if (rc < 0)
        return rc;
    s->sw_failed = 0; /* its switch ring opens when a session records (sched.c) */
    if ((uint32_t)idx + 1 > atomic_load_explicit(&tr_samp.slots_used, memory_order_relaxed))
        atomic_store_explicit(&tr_samp.slots_used, (uint32_t)idx + 1, memory_order_release);
    if (self)
        tr_tls_slot = idx + 1;
    atomic_store_explicit(&s->tid, tid, memory_order_release);
    if (engine == TR_ENGINE_PERF)
        rc = perf_start(s);
    else if (engine == TR_ENGINE_TIMER)
        rc = timer_start(s->timer);
    if (rc < 0)
        slot_disarm(s);
    return rc;
}

static void disarm_all_locked(void)
{
    uint32_t used = atomic_load_explicit(&tr_samp.slots_used, memory_order_relaxed);
    for (uint32_t i = 0; i < used; i++)
        if (atomic_load_explicit(&tr_samp.slots[i].tid, memory_order_relaxed) != 0)
            slot_disarm(&tr_samp.slots[i]);
    atomic_store_explicit(&tr_samp.slots_used, 0, memory_order_release);
}

/* ---- thread exit and fork ------------------------------------------------------------------- */

static void block_sigprof(sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPROF);
    pthread_sigmask(SIG_BLOCK, &set, old);
}

/* pthread key destructor: the thread exits, free its slot (SIGPROF stays blocked: the thread
 * has no use for it any more and a late signal could find a half-released slot). */
static void on_thread_exit(void *value)
{
    int idx = (int)(uintptr_t)value - 1;
    block_sigprof(NULL);
    tr_guard_enter();
    pthread_mutex_lock(&table_lock);
    if (idx >= 0 && idx < TR_MAX_THREADS &&
        atomic_load_explicit(&tr_samp.slots[idx].tid, memory_order_relaxed) == tr_tid_self()) {
        tr_sched_drain(&tr_samp.slots[idx], tr_tid_self()); /* its last switches */
        slot_disarm(&tr_samp.slots[idx]);
        tr_tls_sw_open = 0;
    }
    pthread_mutex_unlock(&table_lock);
    tr_tls_slot = 0;
    tr_guard_leave();
}

static void fork_prepare(void)
{
    block_sigprof(&fork_saved_mask);
    pthread_mutex_lock(&table_lock);
}

static void fork_parent(void)
{
    pthread_mutex_unlock(&table_lock);
    pthread_sigmask(SIG_SETMASK, &fork_saved_mask, NULL);
}

/* The child has one thread and inherited the parent's perf fds (timers are not inherited):
 * close the fds, forget every slot and arm the child's thread. */
static void fork_child(void)
{
    pthread_mutex_init(&table_lock, NULL);
    tr_tls_tid = 0;
    tr_tls_slot = 0;
    tr_tls_seen_enabled = 0;
    tr_tls_sw_open = 0;
    atomic_store_explicit(&tr_samp.pid, (uint32_t)getpid(), memory_order_relaxed);
    uint32_t used = atomic_load_explicit(&tr_samp.slots_used, memory_order_relaxed);
    for (uint32_t i = 0; i < used; i++) {
        struct tr_thread_slot *s = &tr_samp.slots[i];
        atomic_store_explicit(&s->tid, 0, memory_order_relaxed);
        if (s->fd >= 0)
            perf_close(s); /* the parent's event and ring; the parent keeps its own */
        tr_sched_close(s);
        s->has_timer = 0;
    }
    atomic_store_explicit(&tr_samp.slots_used, 0, memory_order_relaxed);
    /* Nothing can send us SIGPROF yet; arming checks the thread's own mask. */
    pthread_sigmask(SIG_SETMASK, &fork_saved_mask, NULL);
    tr_sampler_arm_self();
}

/* Once per process: the exit key, the atfork handlers and our SIGPROF handler (the previous
 * disposition is kept for chaining; installing twice would chain to ourselves). */
static void setup(void)
{
    struct sigaction sa;
    if (pthread_key_create(&exit_key, on_thread_exit) != 0 ||
        pthread_atfork(fork_prepare, fork_parent, fork_child) != 0) {
        setup_failed = 1;
        return;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = tr_sigprof_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGPROF, NULL, &tr_samp.prev_action) != 0 ||
        sigaction(SIGPROF, &sa, NULL) != 0)
        setup_failed = 1;
}

/* ---- public functions ------------------------------------------------------------------------ */

const char *tr_engine_name(enum tr_cpu_engine engine)
{
    switch (engine) {
    case TR_ENGINE_PERF: return "perf_event";
    case TR_ENGINE_TIMER: return "timer_create";
    default: return "none";
    }
}

const char *tr_sched_source(void)
{
    return atomic_load_explicit(&tr_samp.sched_on, memory_order_relaxed) ? "perf_event" : "none";
}

const char *tr_sched_note(void)
{
    return tr_samp.sched_note;
}

enum tr_cpu_engine tr_sampler_engine(void)
{
    return (enum tr_cpu_engine)atomic_load_explicit(&tr_samp.engine, memory_order_relaxed);
}

static int calling_thread_blocks_sigprof(void)
{
    sigset_t cur;
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    return sigismember(&cur, SIGPROF) == 1;
}

int tr_sampler_arm_self(void)
{
    return tr_sampler_arm_self_unblocked(!calling_thread_blocks_sigprof());
}

int tr_sampler_arm_self_unblocked(int unblocked)
{
    enum tr_cpu_engine engine = tr_sampler_engine();
    int rc;
    if (!atomic_load_explicit(&tr_samp.armed, memory_order_acquire) || !unblocked)
        return LTPROF_OK;
    tr_guard_enter();
    pthread_mutex_lock(&table_lock);
    rc = arm_locked(tr_tid_self(), 1, engine);
    pthread_mutex_unlock(&table_lock);
    if (rc >= 0 && tr_tls_slot > 0)
        pthread_setspecific(exit_key, (void *)(uintptr_t)tr_tls_slot);
    tr_guard_leave();
    if (rc == -ENOSPC)
        return LTPROF_ERR_BUSY;
    return rc < 0 ? LTPROF_ERR_IO : LTPROF_OK;
}

/* Arms every thread listed in /proc/self/task except the caller and those blocking SIGPROF.
 * A thread that fails to arm is skipped (it may have exited meanwhile). */
static void arm_existing_threads(enum tr_cpu_engine engine)
{
    DIR *dir = opendir("/proc/self/task");
    struct dirent *de;
    if (!dir)
        return;
    while ((de = readdir(dir)) != NULL) {
        int32_t tid = (int32_t)strtol(de->d_name, NULL, 10);
        if (tid <= 0 || tid == tr_tid_self() || thread_blocks_sigprof(tid))
            continue;
        pthread_mutex_lock(&table_lock);
        arm_locked(tid, 0, engine);
        pthread_mutex_unlock(&table_lock);
    }
    closedir(dir);
}

/*
 * Arms the calling thread with the configured engine. AUTO takes the timer engine: an enabled
 * per-thread perf event costs the kernel about 1.3 us at every context switch of the thread on
 * the VMs we measured (docs/performance.md), while a thread CPU-time timer costs nothing there,
 * and it counts kernel time as Go's profiler does (the perf event samples user mode only).
 * AUTO falls back to perf when timers cannot be made. Returns the engine or TR_ENGINE_NONE.
 */
static enum tr_cpu_engine arm_first_thread(enum tr_cpu_engine want, struct ltprof_error *err)
{
    enum tr_cpu_engine engine = want == TR_ENGINE_PERF ? TR_ENGINE_PERF : TR_ENGINE_TIMER;
    pthread_mutex_lock(&table_lock);
    int rc = arm_locked(tr_tid_self(), 1, engine);
    if (rc < 0 && want == TR_ENGINE_AUTO) {
        engine = TR_ENGINE_PERF;
        rc = arm_locked(tr_tid_self(), 1, engine);
    }
    pthread_mutex_unlock(&table_lock);
    if (rc < 0) {
        set_error(err, "Failed to arm CPU sampling: engine=%s: %s", tr_engine_name(engine),
                  strerror(-rc));
        return TR_ENGINE_NONE;
    }
    pthread_setspecific(exit_key, (void *)(uintptr_t)tr_tls_slot);
    return engine;
}

static int check_config(const struct tr_sampler_config *cfg, struct ltprof_error *err)
{
    if (!cfg || cfg->period_hz > 10000 || cfg->max_frames < 1 ||
        cfg->max_frames > TR_UNWIND_MAX_FRAMES ||
        (cfg->engine != TR_ENGINE_AUTO && cfg->engine != TR_ENGINE_PERF &&
         cfg->engine != TR_ENGINE_TIMER)) {
        set_error(err, "Invalid CPU sampler configuration: period_hz must be 0..10000, "
                       "max_frames 1..%d, engine auto, perf or timer", TR_UNWIND_MAX_FRAMES);
        return LTPROF_ERR_INVALID;
    }
    return LTPROF_OK;
}

/* Whether the kernel gives this thread context-switch records; the reason goes to sched_note
 * when it does not. */
static int probe_sched(void)
{
    struct tr_thread_slot probe;
    memset(&probe, 0, sizeof(probe));
    probe.sw_fd = -1;
    int rc = tr_sched_open(&probe, tr_tid_self());
    if (rc == 0) {
        tr_sched_close(&probe);
        tr_samp.sched_note[0] = '\0';
        return 1;
    }
    snprintf(tr_samp.sched_note, sizeof(tr_samp.sched_note),
             "perf_event_open refused context-switch records: %s", strerror(-rc));
    return 0;
}

int tr_sampler_start(const struct tr_sampler_config *cfg, struct ltprof_error *err)
{
    int rc = check_config(cfg, err);
    if (rc == LTPROF_OK && !cfg->sched_switches)
        snprintf(tr_samp.sched_note, sizeof(tr_samp.sched_note), "turned off (LTPROF_SCHED=off)");
    if (rc != LTPROF_OK || (cfg->period_hz == 0 && !cfg->sched_switches))
        return rc;
    if (atomic_load_explicit(&tr_samp.armed, memory_order_acquire)) {
        set_error(err, "CPU sampler already running: engine=%s",
                  tr_engine_name(tr_sampler_engine()));
        return LTPROF_ERR_BUSY;
    }
    tr_guard_enter();
    pthread_once(&setup_once, setup);
    if (setup_failed) {
        set_error(err, "Failed to install the SIGPROF handler or the fork handlers");
        rc = LTPROF_ERR_IO;
        goto end;
    }
    int urc = tr_modules_refresh();
    if (urc < 0) {
        set_error(err, "Failed to read the loaded modules for unwinding: %s", strerror(-urc));
        rc = LTPROF_ERR_IO;
        goto end;
    }
    snapshot_writable_maps();
    tr_samp.page_bytes = (size_t)sysconf(_SC_PAGESIZE);
    tr_samp.period_ns = cfg->period_hz ? 1000000000u / cfg->period_hz : 0;
    tr_samp.ring_bytes = 2 * tr_samp.page_bytes;
    tr_samp.max_frames = cfg->max_frames;
    atomic_store_explicit(&tr_samp.pid, (uint32_t)getpid(), memory_order_relaxed);
    atomic_store_explicit(&tr_samp.sched_on, cfg->sched_switches && probe_sched(),
                          memory_order_relaxed);

    enum tr_cpu_engine engine = TR_ENGINE_NONE;
    if (cfg->period_hz > 0) {
        engine = arm_first_thread(cfg->engine, err);
        if (engine == TR_ENGINE_NONE) {
            rc = cfg->engine == TR_ENGINE_PERF ? LTPROF_ERR_UNSUPPORTED : LTPROF_ERR_IO;
            if (!atomic_load_explicit(&tr_samp.sched_on, memory_order_relaxed))
                goto end;
        }
    }
    if (engine == TR_ENGINE_NONE) { /* context switches only */
        pthread_mutex_lock(&table_lock);
        int arc = arm_locked(tr_tid_self(), 1, TR_ENGINE_NONE);
        pthread_mutex_unlock(&table_lock);
        if (arc >= 0 && tr_tls_slot > 0)
            pthread_setspecific(exit_key, (void *)(uintptr_t)tr_tls_slot);
    }
    atomic_store_explicit(&tr_samp.engine, engine, memory_order_release);
    atomic_store_explicit(&tr_samp.armed, 1, memory_order_release);
    arm_existing_threads(engine);
end:
    tr_guard_leave();
    return rc;
}

void tr_sampler_stop(void)
{
    tr_guard_enter();
    pthread_mutex_lock(&table_lock);
    atomic_store_explicit(&tr_samp.engine, TR_ENGINE_NONE, memory_order_release);
    atomic_store_explicit(&tr_samp.armed, 0, memory_order_release);
    disarm_all_locked();
    pthread_mutex_unlock(&table_lock);
    tr_guard_leave();
}

void tr_sampler_get_stats(struct tr_sampler_stats *st)
{
    st->samples = atomic_load_explicit(&tr_samp.samples, memory_order_relaxed);
    st->signals_foreign = atomic_load_explicit(&tr_samp.signals_foreign, memory_order_relaxed);
    st->unwind_complete = atomic_load_explicit(&tr_samp.unwind[0], memory_order_relaxed);
    st->unwind_truncated = atomic_load_explicit(&tr_samp.unwind[1], memory_order_relaxed);
    st->unwind_no_info = atomic_load_explicit(&tr_samp.unwind[2], memory_order_relaxed);
    st->unwind_bad_frame = atomic_load_explicit(&tr_samp.unwind[3], memory_order_relaxed);
    st->handler_ns_total = atomic_load_explicit(&tr_samp.handler_ns_total, memory_order_relaxed);
}

int tr_sampler_thread_samples(uint32_t tid, uint64_t *samples)
{
    int rc = LTPROF_ERR_NOT_FOUND;
    pthread_mutex_lock(&table_lock);
    int idx = slot_find((int32_t)tid);
    if (idx >= 0) {
        *samples = atomic_load_explicit(&tr_samp.slots[idx].samples, memory_order_relaxed);
        rc = LTPROF_OK;
    }
    pthread_mutex_unlock(&table_lock);
    return rc;
}

void tr_sampler_set_force_unwind(int on)
{
    atomic_store_explicit(&tr_samp.force_unwind, on != 0, memory_order_relaxed);
}

/* ---- announcements and thread names ---------------------------------------------------------- */

void tr_emit_process_info(void)
{
    atomic_fetch_add_explicit(&tr_samp.epoch, 1, memory_order_relaxed);
    lttng_ust_tracepoint(ltprof, process_info, LTPROF_SCHEMA_VERSION, (uint32_t)getpid(),
                         tr_engine_name(tr_sampler_engine()), tr_samp.period_ns,
                         tr_samp.max_frames);
    tr_emit_thread_info_self();
    if (lttng_ust_tracepoint_enabled(ltprof, thread_state)) {
        atomic_store_explicit(&tr_samp.states_announced, 1, memory_order_relaxed);
        tr_emit_thread_states();
    }
}

void tr_emit_thread_info_self(void)
{
    char name[16] = "";
    if (!lttng_ust_tracepoint_enabled(ltprof, thread_info) || tr_own_thread)
        return; /* ltprof's own threads (the HTTP server's) are not the program's */
    prctl(PR_GET_NAME, name);
    name[15] = '\0';
    lttng_ust_tracepoint(ltprof, thread_info, (uint32_t)tr_tid_self(), name);
}

/* Copies a name into a slot; SIGPROF is blocked so this thread's handler never sees it half
 * written (other threads' handlers read only their own slot). */
static void slot_set_name(struct tr_thread_slot *s, const char *name)
{
    sigset_t old;
    block_sigprof(&old);
    copy_name(s->name, name);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void tr_thread_renamed(pthread_t thread, const char *name)
{
    int found = 0;
    tr_guard_enter();
    pthread_mutex_lock(&table_lock);
    uint32_t used = atomic_load_explicit(&tr_samp.slots_used, memory_order_relaxed);
    for (uint32_t i = 0; i < used; i++) {
        struct tr_thread_slot *s = &tr_samp.slots[i];
        int32_t tid = atomic_load_explicit(&s->tid, memory_order_relaxed);
        if (tid == 0 || (s->thread != 0 && !pthread_equal(s->thread, thread)))
            continue;
        char fresh[16];
        if (s->thread != 0) {
            copy_name(fresh, name);
            found = 1;
        } else {
            read_thread_name(tid, fresh); /* armed from outside: pthread_t unknown */
            if (strcmp(fresh, s->name) == 0)
                continue;
        }
        slot_set_name(s, fresh);
        lttng_ust_tracepoint(ltprof, thread_info, (uint32_t)tid, fresh);
        if (found)
            break;
    }
    pthread_mutex_unlock(&table_lock);
    if (!found && pthread_equal(thread, pthread_self()) && tr_tls_slot == 0)
        lttng_ust_tracepoint(ltprof, thread_info, (uint32_t)tr_tid_self(), name);
    tr_guard_leave();
}
