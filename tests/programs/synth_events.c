/* SPDX-License-Identifier: MIT */
/*
 * synth_events [-t THREADS] [-s STACKS] [-l ROUNDS] EVENTS: writes exactly EVENTS ltprof:*
 * events with the real schema and a realistic mix, for converter measurements on big traces
 * (bench/convert_throughput.sh). Like synth_trace it creates its own probes from
 * tracer/ltprof_tp.h: never preload libltprof.so into it.
 * THREADS workers (default 4) loop over rounds: CPU samples with 21-41 real return addresses
 * (STACKS distinct call paths through the named functions below, default 4000, captured once
 * with backtrace()), regions, tasks and logs, real contention on four mutexes (wait_begin,
 * wait_end, wake), real sleeps and pipe reads (syscall), heap readings, and the thread's real
 * context switches from a perf_event ring (sched_switches, drained before each event as
 * tracer/sched.c does). Each worker exits after ROUNDS rounds (default 1000, about 13,000
 * events) and main, which joins it (a "join" wait), starts a new one: thread churn.
 * The event budget is shared: a round reserves its worst case and gives back what it did not
 * use; main emits the last few events as CPU samples, so the count is exact.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <execinfo.h>
#include <getopt.h>
#include <linux/perf_event.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#define LTTNG_UST_TRACEPOINT_DEFINE
#include "ltprof_tp.h"

#define NOINLINE __attribute__((noipa))
#define MAX_THREADS 64
#define MAX_FRAMES 64
#define NMUTEX 4
#define ROUND_EVENTS 20            /* most events a round plans (see worker_round) */
#define ROUND_RESERVE (2 * ROUND_EVENTS) /* each may be preceded by a sched_switches batch */
#define RING_PAGES 4               /* as tracer/sched.c */
#define BATCH_SWITCHES 64

/* ---- event budget ------------------------------------------------------------------------- */

static atomic_llong budget; /* events nobody has reserved yet */
static atomic_bool budget_low; /* a round could not be reserved: no new threads */

enum kind {
    K_PROCESS_INFO, K_THREAD_INFO, K_TRACE_INFO, K_THREAD_START, K_THREAD_EXIT, K_CPU_SAMPLE,
    K_SCHED_SWITCHES, K_WAIT_BEGIN, K_WAIT_END, K_WAKE, K_SYSCALL, K_HEAP, K_TASK_CREATE,
    K_TASK_END, K_REGION, K_LOG, K_COUNT
};
static const char *const kind_names[K_COUNT] = {
    "process_info", "thread_info", "trace_info", "thread_start", "thread_exit", "cpu_sample",
    "sched_switches", "wait_begin", "wait_end", "wake", "syscall", "heap", "task_create",
    "task_end", "region", "log",
};
static atomic_ullong emitted[K_COUNT];
static atomic_ullong switches_emitted;

/* What one thread may still emit: `allowance` for the current round, `owed` for the events it
 * must emit later whatever happens (an open task's end, its own exit). */
struct emitter {
    long long allowance;
    long long owed;
    uint32_t tid;
    uint64_t rng;
    struct perf_event_mmap_page *ring; /* its context switches, or NULL */
    int ring_fd;
};

static bool reserve(long long n, long long *into)
{
    long long cur = atomic_load(&budget);
    while (cur >= n)
        if (atomic_compare_exchange_weak(&budget, &cur, cur - n)) {
            *into += n;
            return true;
        }
    return false;
}

static void give_back(struct emitter *e)
{
    if (e->allowance > 0)
        atomic_fetch_add(&budget, e->allowance);
    e->allowance = 0;
}

/* Takes one event from the allowance (or from `owed` when `owed_event`). */
static void take(struct emitter *e, enum kind k, bool owed_event)
{
    long long *from = owed_event ? &e->owed : &e->allowance;
    if (*from <= 0) {
        fprintf(stderr, "synth_events: internal error: event %s beyond the budget\n",
                kind_names[k]);
        abort();
    }
    (*from)--;
    atomic_fetch_add_explicit(&emitted[k], 1, memory_order_relaxed);
}

static uint64_t rnd(struct emitter *e)
{
    e->rng ^= e->rng << 13;
    e->rng ^= e->rng >> 7;
    e->rng ^= e->rng << 17;
    return e->rng;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- context switches (as tracer/sched.c) -------------------------------------------------- */

static long page_bytes;

static void ring_open(struct emitter *e)
{
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.size = sizeof(attr);
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_DUMMY;
    attr.sample_type = PERF_SAMPLE_TIME | PERF_SAMPLE_CPU;
    attr.sample_id_all = 1;
    attr.context_switch = 1;
    attr.use_clockid = 1;
    attr.clockid = CLOCK_MONOTONIC;
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    attr.watermark = 1;
    attr.wakeup_watermark = (uint32_t)(RING_PAGES * page_bytes);
    e->ring = NULL;
    e->ring_fd = (int)syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
    if (e->ring_fd < 0)
        return;
    void *m = mmap(NULL, (size_t)(1 + RING_PAGES) * page_bytes, PROT_READ | PROT_WRITE,
                   MAP_SHARED, e->ring_fd, 0);
    if (m == MAP_FAILED) {
        close(e->ring_fd);
        e->ring_fd = -1;
        return;
    }
    e->ring = m;
}

static void ring_close(struct emitter *e)
{
    if (e->ring)
        munmap(e->ring, (size_t)(1 + RING_PAGES) * page_bytes);
    if (e->ring_fd >= 0)
        close(e->ring_fd);
    e->ring = NULL;
    e->ring_fd = -1;
}

static void ring_copy(const uint8_t *data, uint64_t mask, uint64_t pos, void *out, size_t len)
{
    size_t first = (size_t)(mask + 1 - (pos & mask));
    if (first > len)
        first = len;
    memcpy(out, data + (pos & mask), first);
    memcpy((uint8_t *)out + first, data, len - first);
}

/* Writes out up to one batch of the thread's pending switches, when the allowance has room. */
static void drain(struct emitter *e)
{
    struct perf_event_mmap_page *mp = e->ring;
    if (!mp || e->allowance <= 0)
        return;
    uint64_t head = __atomic_load_n(&mp->data_head, __ATOMIC_ACQUIRE), tail = mp->data_tail;
    const uint8_t *data = (const uint8_t *)mp + page_bytes;
    uint64_t mask = (uint64_t)RING_PAGES * page_bytes - 1;
    uint64_t recs[2 * BATCH_SWITCHES];
    size_t n = 0;
    uint32_t lost = 0;
    while (tail + sizeof(struct perf_event_header) <= head && n < BATCH_SWITCHES) {
        struct perf_event_header h;
        ring_copy(data, mask, tail, &h, sizeof(h));
        if (h.size < sizeof(h) || tail + h.size > head)
            break;
        if (h.type == PERF_RECORD_SWITCH && h.size >= sizeof(h) + 16) {
            struct { struct perf_event_header h; uint64_t time; uint32_t cpu, res; } r;
            ring_copy(data, mask, tail, &r, sizeof(r));
            uint64_t flags = (h.misc & PERF_RECORD_MISC_SWITCH_OUT) ? 1 : 0;
            if (h.misc & PERF_RECORD_MISC_SWITCH_OUT_PREEMPT)
                flags |= 2;
            recs[2 * n] = r.time;
            recs[2 * n + 1] = (uint64_t)r.cpu << 8 | flags;
            n++;
        } else if (h.type == PERF_RECORD_LOST && h.size >= sizeof(h) + 16) {
            struct { struct perf_event_header h; uint64_t id, lost; } r;
            ring_copy(data, mask, tail, &r, sizeof(r));
            lost += (uint32_t)r.lost;
        }
        tail += h.size;
    }
    __atomic_store_n(&mp->data_tail, tail, __ATOMIC_RELEASE);
    if (n == 0 && lost == 0)
        return;
    take(e, K_SCHED_SWITCHES, false);
    atomic_fetch_add_explicit(&switches_emitted, n, memory_order_relaxed);
    lttng_ust_tracepoint(ltprof, sched_switches, e->tid, lost, recs, (uint16_t)(2 * n));
}

/* ---- call paths: real return addresses through named functions ------------------------------ */

struct walk {
    const uint8_t *path;
    uint32_t depth, len, variant;
    void *buf[MAX_FRAMES];
    int n;
    volatile uint64_t sink;
};

typedef void (*walk_fn)(struct walk *w);
static const walk_fn walk_fns[16];

/* The leaf takes the stack at one of four call sites, so a path has up to four leaf PCs. */
#define WALK_FN(name, k)                                                                          \
    NOINLINE static void name(struct walk *w)                                                     \
    {                                                                                             \
        w->sink = w->sink * 31 + k;                                                               \
        if (w->depth < w->len) {                                                                  \
            walk_fns[w->path[w->depth++]](w);                                                     \
        } else {                                                                                  \
            switch (w->variant) {                                                                 \
            case 0: w->n = backtrace(w->buf, MAX_FRAMES); w->sink += 1; break;                    \
            case 1: w->sink *= 3; w->n = backtrace(w->buf, MAX_FRAMES); w->sink += 5; break;      \
            case 2: w->sink *= 7; w->n = backtrace(w->buf, MAX_FRAMES); w->sink += 11; break;     \
            default: w->sink *= 13; w->n = backtrace(w->buf, MAX_FRAMES); w->sink += 17; break;   \
            }                                                                                     \
        }                                                                                         \
        w->sink ^= k;                                                                             \
    }

WALK_FN(serve_request, 1)
WALK_FN(parse_headers, 2)
WALK_FN(decode_json, 3)
WALK_FN(lookup_cache, 4)
WALK_FN(hash_key, 5)
WALK_FN(compress_block, 6)
WALK_FN(checksum_page, 7)
WALK_FN(sort_records, 8)
WALK_FN(merge_runs, 9)
WALK_FN(render_template, 10)
WALK_FN(format_number, 11)
WALK_FN(encode_reply, 12)
WALK_FN(apply_filter, 13)
WALK_FN(walk_tree, 14)
WALK_FN(scan_index, 15)
WALK_FN(update_stats, 16)

static const walk_fn walk_fns[16] = {
    serve_request, parse_headers, decode_json,   lookup_cache, hash_key,        compress_block,
    checksum_page, sort_records,  merge_runs,    render_template, format_number, encode_reply,
    apply_filter,  walk_tree,     scan_index,    update_stats,
};

struct stack {
    uint16_t n;
    uint64_t pcs[MAX_FRAMES];
};

static struct stack *stacks;
static uint32_t nstacks;

NOINLINE static void capture_stacks(uint32_t n)
{
    uint8_t path[64];
    struct walk w;
    stacks = calloc(n, sizeof(*stacks));
    if (!stacks) {
        perror("synth_events: calloc");
        exit(1);
    }
    walk_fns[0](&(struct walk){0}); /* warm up backtrace() (it loads libgcc_s) */
    for (uint32_t s = 0; s < n; s++) {
        struct emitter seed = {.rng = 0x9e3779b97f4a7c15ULL ^ ((uint64_t)s * 0x2545f4914f6cdd1dULL)};
        for (int i = 0; i < 4; i++)
            rnd(&seed);
        memset(&w, 0, sizeof(w));
        w.len = 16 + (uint32_t)(rnd(&seed) % 21); /* 16-36 path frames, 21-41 in all */
        for (uint32_t i = 0; i < w.len; i++)
            path[i] = (uint8_t)(rnd(&seed) % 16);
        w.path = path;
        w.variant = (uint32_t)(rnd(&seed) % 4);
        w.depth = 1;
        walk_fns[path[0]](&w);
        stacks[s].n = (uint16_t)w.n;
        for (int i = 0; i < w.n; i++)
            stacks[s].pcs[i] = (uint64_t)(uintptr_t)w.buf[i];
    }
    nstacks = n;
}

/* A stack index, skewed: a few hot paths, a long tail. */
static uint32_t pick_stack(struct emitter *e)
{
    double u = (double)(rnd(e) >> 11) / (double)(1ULL << 53);
    return (uint32_t)(u * u * u * nstacks) % nstacks;
}

/* The outer `keep` frames of a stack: a caller-first stack for waits, calls and annotations. */
static const uint64_t *outer_frames(uint32_t s, uint16_t keep, uint16_t *n)
{
    const struct stack *st = &stacks[s];
    *n = keep < st->n ? keep : st->n;
    return st->pcs + (st->n - *n);
}

/* ---- events --------------------------------------------------------------------------------- */

static void ev_cpu_sample(struct emitter *e, bool drain_first)
{
    if (drain_first)
        drain(e);
    take(e, K_CPU_SAMPLE, false);
    const struct stack *st = &stacks[pick_stack(e)];
    lttng_ust_tracepoint(ltprof, cpu_sample, e->tid, 10000000, 0, st->pcs, st->n, 0);
}

static uint16_t wait_stack(struct emitter *e, const uint64_t **pcs)
{
    uint16_t n;
    *pcs = outer_frames(pick_stack(e), (uint16_t)(5 + rnd(e) % 11), &n);
    return n;
}

static pthread_mutex_t mutexes[NMUTEX] = {
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER,
};
static atomic_int waiters[NMUTEX];
static __thread volatile uint64_t work_sink; /* per thread: the workers must not race */

static void spin(unsigned iters)
{
    for (unsigned i = 0; i < iters; i++)
        work_sink = work_sink * 6364136223846793005ULL + i;
}

static void locked_section(struct emitter *e)
{
    uint64_t r = rnd(e);
    unsigned m = r % 4 ? 0 : (unsigned)(r >> 2) % NMUTEX; /* one hot lock, three cooler ones */
    const uint64_t *pcs;
    uint16_t n;
    if (pthread_mutex_trylock(&mutexes[m]) == EBUSY) {
        drain(e);
        take(e, K_WAIT_BEGIN, false);
        n = wait_stack(e, &pcs);
        lttng_ust_tracepoint(ltprof, wait_begin, e->tid, "mutex",
                             (uint64_t)(uintptr_t)&mutexes[m], 0, pcs, n);
        atomic_fetch_add(&waiters[m], 1);
        int rc = pthread_mutex_lock(&mutexes[m]);
        atomic_fetch_sub(&waiters[m], 1);
        drain(e);
        take(e, K_WAIT_END, false);
        lttng_ust_tracepoint(ltprof, wait_end, e->tid, "mutex", (uint64_t)(uintptr_t)&mutexes[m],
                             rc);
    }
    spin(3000 + (unsigned)(rnd(e) % 5000)); /* most of a round: contention is common */
    if (atomic_load(&waiters[m]) > 0) {
        drain(e);
        take(e, K_WAKE, false);
        n = wait_stack(e, &pcs);
        lttng_ust_tracepoint(ltprof, wake, e->tid, "mutex", (uint64_t)(uintptr_t)&mutexes[m],
                             pcs, n);
    }
    pthread_mutex_unlock(&mutexes[m]);
}

static void blocking_call(struct emitter *e, int pipe_fds[2])
{
    const uint64_t *pcs;
    uint16_t n;
    const char *call;
    int fd = -1;
    int64_t result;
    uint64_t start = now_ns();
    if (rnd(e) % 2) {
        struct timespec d = {0, 20000};
        call = "nanosleep";
        result = nanosleep(&d, NULL);
    } else {
        char c = 'x';
        call = "read";
        fd = pipe_fds[0];
        result = write(pipe_fds[1], &c, 1) == 1 ? read(fd, &c, 1) : -1;
    }
    uint64_t end = now_ns();
    drain(e);
    take(e, K_SYSCALL, false);
    n = wait_stack(e, &pcs);
    lttng_ust_tracepoint(ltprof, syscall, e->tid, call, fd, start, end, result, pcs, n);
}

static void region(struct emitter *e, uint64_t task, bool end, const char *type)
{
    const uint64_t *pcs;
    uint16_t n = wait_stack(e, &pcs);
    drain(e);
    take(e, K_REGION, false);
    lttng_ust_tracepoint(ltprof, region, task, end ? 1 : 0, type, e->tid, pcs, n);
}

/* ---- threads -------------------------------------------------------------------------------- */

static atomic_ullong next_task_id = 1;
static atomic_uint next_serial;

struct worker {
    pthread_t thread;
    uint32_t creator_tid;
    uint64_t create_ns;
    uint16_t npcs;
    uint64_t pcs[MAX_FRAMES];
    long long owed;   /* reserved by the creator: thread_start and thread_exit */
    uint32_t rounds;  /* lifetime */
    uint32_t serial;
};

static void thread_emit_exit(struct emitter *e)
{
    take(e, K_THREAD_EXIT, true);
    lttng_ust_tracepoint(ltprof, thread_exit, e->tid, (uint64_t)pthread_self());
}

/* One round: at most ROUND_EVENTS events (plus one switch batch before each). */
static void worker_round(struct emitter *e, uint32_t round, uint64_t *task, int pipe_fds[2])
{
    const uint64_t *pcs;
    uint16_t n;
    if (round % 8 == 0 && *task == 0 && reserve(1, &e->owed)) { /* 1 planned event */
        *task = atomic_fetch_add(&next_task_id, 1);
        n = wait_stack(e, &pcs);
        drain(e);
        take(e, K_TASK_CREATE, false);
        lttng_ust_tracepoint(ltprof, task_create, *task, 0, "request", e->tid, pcs, n);
    }
    bool handle = round % 2 == 0; /* every other round is an annotated request */
    if (handle)
        region(e, *task, false, "handle");                     /* 0-1 */
    for (unsigned i = 0, k = 2 + (unsigned)(rnd(e) % 5); i < k; i++) /* 2-6 */
        ev_cpu_sample(e, true);
    if (round % 4 == 2) {
        region(e, *task, false, "parse");                      /* 0-1 */
        ev_cpu_sample(e, true);                                /* 0-1 */
        spin(200);
        region(e, *task, true, "parse");                       /* 0-1 */
    }
    locked_section(e);                                         /* 0-3 */
    if (rnd(e) % 2 == 0)
        blocking_call(e, pipe_fds);                            /* 0-1 */
    if (rnd(e) % 4 == 0) {                                     /* 0-1 */
        char msg[96];
        snprintf(msg, sizeof(msg), "request %llu done after %u steps",
                 (unsigned long long)(*task ? *task : round), (unsigned)(rnd(e) % 1000));
        n = wait_stack(e, &pcs);
        drain(e);
        take(e, K_LOG, false);
        lttng_ust_tracepoint(ltprof, log, *task, "request", msg, e->tid, pcs, n);
    }
    if (round % 16 == 5) {                                     /* 0-1 */
        size_t size = 1000 + rnd(e) % 100000;
        void *p = malloc(size);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
        /* The sanitizer owns malloc: glibc's arenas are never set up, and its mallinfo2 from
         * several threads at once crashed setting them up (ASan, int_mallinfo). */
        uint64_t in_use = size;
#else
        struct mallinfo2 mi = mallinfo2();
        uint64_t in_use = (uint64_t)(mi.uordblks + mi.hblkhd);
#endif
        free(p);
        drain(e);
        take(e, K_HEAP, false);
        lttng_ust_tracepoint(ltprof, heap, e->tid, in_use);
    }
    if (handle)
        region(e, *task, true, "handle");                      /* 0-1 */
    if (round % 8 == 7 && *task) {                             /* the owed task end */
        n = wait_stack(e, &pcs);
        drain(e);
        take(e, K_TASK_END, true);
        lttng_ust_tracepoint(ltprof, task_end, *task, e->tid, pcs, n);
        *task = 0;
    }
}

static void *worker_main(void *arg)
{
    struct worker *wk = arg;
    struct emitter e = {.owed = wk->owed, .tid = (uint32_t)gettid()};
    char name[16] = "";
    int pipe_fds[2];
    uint64_t task = 0;
    e.rng = 0x243f6a8885a308d3ULL ^ ((uint64_t)wk->serial << 32 | e.tid);
    ring_open(&e);
    if (pipe(pipe_fds) != 0) {
        perror("synth_events: pipe");
        exit(1);
    }
    prctl(PR_GET_NAME, name);
    take(&e, K_THREAD_START, true);
    lttng_ust_tracepoint(ltprof, thread_start, e.tid, (uint64_t)pthread_self(), wk->creator_tid,
                         wk->create_ns, (uint64_t)(uintptr_t)worker_main, name, wk->pcs, wk->npcs);
    for (uint32_t r = 0; r < wk->rounds; r++) {
        if (!reserve(ROUND_RESERVE + (r == 0 ? 4 : 0), &e.allowance)) {
            atomic_store(&budget_low, true);
            break;
        }
        if (r == 0) { /* as libltprof.so: a name, then the facts before the first sample */
            snprintf(name, sizeof(name), "worker-%u", wk->serial);
            pthread_setname_np(pthread_self(), name);
            drain(&e);
            take(&e, K_THREAD_INFO, false);
            lttng_ust_tracepoint(ltprof, thread_info, e.tid, name);
            drain(&e);
            take(&e, K_PROCESS_INFO, false);
            lttng_ust_tracepoint(ltprof, process_info, LTPROF_SCHEMA_VERSION, (uint32_t)getpid(),
                                 "perf_event", 10000000, 128);
        }
        worker_round(&e, r, &task, pipe_fds);
        give_back(&e);
    }
    if (task) {
        const uint64_t *pcs;
        uint16_t n = wait_stack(&e, &pcs);
        take(&e, K_TASK_END, true);
        lttng_ust_tracepoint(ltprof, task_end, task, e.tid, pcs, n);
    }
    thread_emit_exit(&e);
    if (e.owed != 0 || e.allowance != 0) {
        fprintf(stderr, "synth_events: internal error: worker left %lld owed, %lld allowed\n",
                e.owed, e.allowance);
        abort();
    }
    ring_close(&e);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    return NULL;
}

/* Starts a worker (its start and exit reserved); false when the budget is too low. */
NOINLINE static bool spawn_worker(struct worker *wk, uint32_t rounds)
{
    void *buf[MAX_FRAMES];
    memset(wk, 0, sizeof(*wk));
    /* Only when a round fits too: a thread that does nothing is not a realistic lifetime. */
    if (atomic_load(&budget_low) || atomic_load(&budget) < 2 + ROUND_RESERVE ||
        !reserve(2, &wk->owed))
        return false;
    wk->rounds = rounds;
    wk->serial = atomic_fetch_add(&next_serial, 1);
    wk->creator_tid = (uint32_t)gettid();
    wk->create_ns = now_ns();
    int n = backtrace(buf, MAX_FRAMES);
    for (int i = 1; i < n; i++) /* caller first, as tracer/thread_events.c */
        wk->pcs[i - 1] = (uint64_t)(uintptr_t)buf[i];
    wk->npcs = (uint16_t)(n - 1);
    int rc = pthread_create(&wk->thread, NULL, worker_main, wk);
    if (rc != 0) {
        fprintf(stderr, "synth_events: pthread_create: %s\n", strerror(rc));
        exit(1);
    }
    return true;
}

/* Joins a worker, as a recorded "join" wait when the budget allows. */
NOINLINE static void join_worker(struct emitter *e, struct worker *wk)
{
    void *buf[MAX_FRAMES];
    uint64_t pcs[MAX_FRAMES];
    uint64_t th = (uint64_t)wk->thread;
    bool record = reserve(4, &e->allowance);
    if (record) {
        int n = backtrace(buf, MAX_FRAMES);
        for (int i = 1; i < n; i++)
            pcs[i - 1] = (uint64_t)(uintptr_t)buf[i];
        drain(e);
        take(e, K_WAIT_BEGIN, false);
        lttng_ust_tracepoint(ltprof, wait_begin, e->tid, "join", th, th, pcs, (uint16_t)(n - 1));
    }
    int rc = pthread_join(wk->thread, NULL);
    if (record) {
        drain(e);
        take(e, K_WAIT_END, false);
        lttng_ust_tracepoint(ltprof, wait_end, e->tid, "join", th, rc);
        give_back(e);
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: synth_events [-t THREADS 1..%d] [-s STACKS] [-l ROUNDS] EVENTS\n",
            MAX_THREADS);
    exit(2);
}

int main(int argc, char **argv)
{
    unsigned nthreads = 4, nstack = 4000, lifetime = 1000;
    int opt;
    while ((opt = getopt(argc, argv, "t:s:l:")) != -1) {
        switch (opt) {
        case 't': nthreads = (unsigned)strtoul(optarg, NULL, 10); break;
        case 's': nstack = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'l': lifetime = (unsigned)strtoul(optarg, NULL, 10); break;
        default: usage();
        }
    }
    if (optind != argc - 1 || nthreads < 1 || nthreads > MAX_THREADS || nstack < 1 ||
        lifetime < 1)
        usage();
    long long total = strtoll(argv[optind], NULL, 10);
    if (total < 8)
        usage();
    page_bytes = sysconf(_SC_PAGESIZE);
    capture_stacks(nstack);

    struct emitter e = {.tid = (uint32_t)gettid(), .rng = 88172645463325252ULL};
    double t0 = (double)now_ns() / 1e9;
    atomic_store(&budget, total);
    ring_open(&e);
    reserve(4, &e.allowance); /* the process facts and main's name (4: room for a batch) */
    reserve(1, &e.owed);      /* main's exit */
    take(&e, K_PROCESS_INFO, false);
    lttng_ust_tracepoint(ltprof, process_info, LTPROF_SCHEMA_VERSION, (uint32_t)getpid(),
                         "perf_event", 10000000, 128);
    take(&e, K_THREAD_INFO, false);
    lttng_ust_tracepoint(ltprof, thread_info, e.tid, "synth_events");
    take(&e, K_TRACE_INFO, false);
    lttng_ust_tracepoint(ltprof, trace_info, e.ring ? "perf_event" : "none",
                         e.ring ? "" : "perf_event_open refused", 10000, "mallinfo2");
    give_back(&e);

    static struct worker workers[MAX_THREADS];
    bool alive[MAX_THREADS] = {0};
    unsigned lifetimes = 0;
    for (unsigned i = 0; i < nthreads; i++)
        if ((alive[i] = spawn_worker(&workers[i], lifetime)))
            lifetimes++;
    for (bool any = true; any;) { /* join the workers in turn, replace each until the end */
        any = false;
        for (unsigned i = 0; i < nthreads; i++) {
            if (!alive[i])
                continue;
            join_worker(&e, &workers[i]);
            if ((alive[i] = spawn_worker(&workers[i], lifetime)))
                lifetimes++;
            any = any || alive[i];
        }
    }
    /* What is left (less than a round per thread): CPU samples of main, then its exit. */
    while (reserve(1, &e.allowance))
        ev_cpu_sample(&e, false); /* no switch batch: the unit is the sample's */
    take(&e, K_THREAD_EXIT, true);
    lttng_ust_tracepoint(ltprof, thread_exit, e.tid, (uint64_t)pthread_self());
    ring_close(&e);

    unsigned long long sum = 0;
    for (int k = 0; k < K_COUNT; k++)
        sum += emitted[k];
    printf("synth_events: %llu events in %.1f s from %u worker lifetimes (%u at a time), "
           "%u call paths, %llu context switches:",
           sum, (double)now_ns() / 1e9 - t0, lifetimes, nthreads, nstacks,
           (unsigned long long)switches_emitted);
    for (int k = 0; k < K_COUNT; k++)
        printf(" %s=%llu", kind_names[k], (unsigned long long)emitted[k]);
    printf("\n");
    if (sum != (unsigned long long)total) {
        fprintf(stderr, "synth_events: internal error: %llu events emitted, %lld asked\n", sum,
                total);
        return 1;
    }
    return 0;
}
