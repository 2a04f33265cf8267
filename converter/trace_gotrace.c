/* SPDX-License-Identifier: MIT */
/*
 * The Go execution trace output of the timeline (timeline.h, struct tl_ops): maps thread
 * transitions onto Go's model through the encoder (gotrace_writer.h). One goroutine per thread
 * lifetime with a fresh id, one P per live thread (ids reused after a thread exits, so rows
 * stay few with thread churn) started with the thread's real tid, per-goroutine sequence
 * numbers, threads that existed before the trace created in the start-up block (P -1).
 * Rules: shared reference go-trace-format.md and docs/go-trace.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gotrace_reorder.h"
#include "gotrace_writer.h"
#include "timeline.h"

/* Start-up block events sit 1 us before every event on a P (see begin). */
#define STARTUP_TICK 1000
#define EVENTS_TICK 2000
/* How long events wait for a late unblock to be placed among them (gotrace_reorder.h). */
#define REORDER_WINDOW_NS (100 * 1000 * 1000ull)

struct go_thread {
    uint64_t g;
    uint64_t p;
    uint64_t seq;      /* per-G counter of §2.10 */
    uint64_t created;  /* tick of its GoCreate */
    bool proc_started; /* ProcStart written for this lifetime */
    bool running;      /* a GoStart is open */
    uint64_t label;    /* string id of its name, for GoStartLabel */
    bool process_told; /* its ltprof.process log is written (see go_run) */
};

/* A stack id of the writer for (cv_stack id, leaf frame added). */
struct go_stack_key_rec {
    uint64_t hash;
    uint32_t stack;
    const char *leaf;
    uint64_t go_id;
};

/* A writer stack whose frames are symbolized at the end, when every module is known: a
 * session started while the program runs can see its first events before LTTng-UST's module
 * dump. */
struct go_pending {
    uint64_t go_id;
    uint32_t stack;
    const char *leaf;
};

/* The P of an exited thread, free since its end. */
struct free_p {
    uint64_t p;
    uint64_t since; /* timeline ns */
};

struct go_out {
    struct cv_state *st;
    FILE *file;
    char *path;
    int io_errno;
    struct gotrace_writer *w;
    struct gt_reorder *rq; /* every event goes through it, in time order */
    uint64_t now;          /* latest tick seen */
    uint64_t t0;
    struct cv_vec threads;   /* struct go_thread, by tl_thread index */
    uint64_t next_g;
    struct cv_vec free_ps;   /* struct free_p: the Ps of exited threads */
    uint64_t nps;            /* P ids handed out so far */
    uint64_t procs_announced;/* last Gomaxprocs value */
    struct cv_vec stacks;    /* struct go_stack_key_rec: stacks with a leaf frame added */
    struct cv_index stack_index;
    struct cv_vec tasks;     /* uint64_t: Go ids of the tasks created, to refuse a second */
    struct cv_index task_index;
    struct cv_vec plain_ids; /* uint64_t writer ids of the plain stacks, by cv stack id - 1 */
    struct cv_vec pending;   /* struct go_pending: stacks named at the end */
    struct cv_symbolized sym;
    struct gotrace_frame frames[CV_MAX_SYM_FRAMES + 1];
};

static int file_write(void *ctx, const void *data, size_t size)
{
    struct go_out *o = ctx;
    if (fwrite(data, 1, size, o->file) != size) {
        o->io_errno = errno ? errno : EIO;
        return LTPROF_ERR_IO;
    }
    return 0;
}

/* Go reads times as int64: a time from a broken clock (before the trace, or centuries after
 * it) is held at the nearest end of that range. The mapping never decreases, so any order of
 * events that was valid stays valid. */
#define MAX_TICK (1ull << 62)

static uint64_t tick(const struct go_out *o, uint64_t ts)
{
    if (ts < o->t0)
        return EVENTS_TICK;
    return ts - o->t0 < MAX_TICK ? ts - o->t0 + EVENTS_TICK : MAX_TICK + EVENTS_TICK;
}

/* Queues one event (at most 4 arguments). */
static int ev(struct go_out *o, enum gt_ev type, uint64_t p, uint64_t at, size_t n, uint64_t a0,
              uint64_t a1, uint64_t a2, uint64_t a3)
{
    uint64_t a[4] = {a0, a1, a2, a3};
    if (at > o->now)
        o->now = at;
    int rc = gt_reorder_event(o->rq, type, p, at, a, n, NULL);
    return rc ? rc : gt_reorder_advance(o->rq, o->now);
}

#define EV0(type, p, at) ev(o, type, p, at, 0, 0, 0, 0, 0)
#define EV1(type, p, at, a) ev(o, type, p, at, 1, a, 0, 0, 0)
#define EV2(type, p, at, a, b) ev(o, type, p, at, 2, a, b, 0, 0)
#define EV3(type, p, at, a, b, c) ev(o, type, p, at, 3, a, b, c, 0)
#define EV4(type, p, at, a, b, c, d) ev(o, type, p, at, 4, a, b, c, d)

static struct go_thread *gt(struct go_out *o, const struct tl_thread *t)
{
    return t->index < o->threads.len ? CV_VEC_AT(&o->threads, struct go_thread, t->index) : NULL;
}

/* ---- stacks ---------------------------------------------------------------------------------- */

struct skey {
    const struct go_out *o;
    uint32_t stack;
    const char *leaf;
};

static uint64_t skey_hash(uint32_t stack, const char *leaf)
{
    return cv_hash_pair(stack, (uint64_t)(uintptr_t)leaf, 3);
}

static bool skey_eq(const void *ctx, size_t pos)
{
    const struct skey *k = ctx;
    const struct go_stack_key_rec *r = CV_VEC_AT(&k->o->stacks, struct go_stack_key_rec, pos);
    return r->stack == k->stack && r->leaf == k->leaf;
}

static uint64_t skey_rehash(const void *ctx, size_t pos)
{
    return CV_VEC_AT(&((const struct go_out *)ctx)->stacks, struct go_stack_key_rec, pos)->hash;
}

/* The frames of writer stack `id`: `leaf` (when not NULL) on top of cv_stack `stack`,
 * symbolized with the modules known now. */
static int fill_stack(struct go_out *o, uint64_t id, uint32_t stack, const char *leaf)
{
    size_t n = 0;
    if (leaf)
        o->frames[n++] = (struct gotrace_frame){0, leaf, NULL, 0};
    const struct cv_stack *s = cv_stack_get(&o->st->stacks, stack);
    if (s && cv_stack_symbolize(o->st, s, &o->sym) == 0)
        for (size_t i = 0; i < o->sym.n; i++)
            o->frames[n++] = (struct gotrace_frame){o->sym.frames[i].pc, o->sym.frames[i].function,
                                                    o->sym.frames[i].file,
                                                    (uint64_t)o->sym.frames[i].line};
    return gotrace_stack_fill(o->w, id, o->frames, n);
}

/* The writer's id for cv_stack `stack`, with a leaf frame named `leaf` (a static or interned
 * string: the libc function, as Go's own traces end in syscall.Syscall) when not NULL. */
static uint64_t go_stack(struct go_out *o, uint32_t stack, const char *leaf)
{
    if (!stack && !leaf)
        return 0;
    if (!leaf && stack <= o->plain_ids.len && *CV_VEC_AT(&o->plain_ids, uint64_t, stack - 1))
        return *CV_VEC_AT(&o->plain_ids, uint64_t, stack - 1);
    struct skey k = {o, stack, leaf};
    uint64_t h = skey_hash(stack, leaf);
    size_t pos = leaf ? cv_index_find(&o->stack_index, h, skey_eq, &k) : SIZE_MAX;
    if (pos != SIZE_MAX)
        return CV_VEC_AT(&o->stacks, struct go_stack_key_rec, pos)->go_id;
    const struct cv_stack *s = cv_stack_get(&o->st->stacks, stack);
    if (!leaf && (!s || s->n == 0))
        return 0; /* no frames: no stack */
    uint64_t id = gotrace_stack_reserve(o->w);
    struct go_pending *later = id ? cv_vec_push(&o->pending) : NULL;
    if (later)
        *later = (struct go_pending){id, stack, leaf};
    else if (id && fill_stack(o, id, stack, leaf) != 0)
        id = 0;
    if (!leaf) { /* a cache: when it cannot grow, the writer's own table still answers */
        while (id && o->plain_ids.len < stack && cv_vec_push(&o->plain_ids))
            ;
        if (id && stack <= o->plain_ids.len)
            *CV_VEC_AT(&o->plain_ids, uint64_t, stack - 1) = id;
        return id;
    }
    struct go_stack_key_rec *r = cv_vec_push(&o->stacks);
    if (!r)
        return id;
    *r = (struct go_stack_key_rec){h, stack, leaf, id};
    if (cv_index_insert(&o->stack_index, h, o->stacks.len - 1, skey_rehash, o) != 0)
        o->stacks.len--;
    return id;
}

/* The stack that names a goroutine: its start function, else its thread's name. */
static uint64_t entry_stack(struct go_out *o, const struct tl_thread *t, uint64_t start_fn)
{
    struct gotrace_frame f = {0, t->name, NULL, 0};
    uint32_t id = 0;
    if (start_fn && cv_stack_intern(&o->st->stacks, t->pid, &start_fn, 1, true, &id) == 0 && id) {
        const struct cv_stack *s = cv_stack_get(&o->st->stacks, id);
        if (cv_stack_symbolize(o->st, s, &o->sym) == 0 && o->sym.n > 0) {
            /* The outermost frame at that address: the function itself, not what it inlines. */
            const struct cv_frame *fr = &o->sym.frames[o->sym.n - 1];
            f = (struct gotrace_frame){start_fn, fr->function, fr->file, (uint64_t)fr->line};
        }
    }
    return gotrace_stack(o->w, &f, 1);
}

/* The pthread function a wait is in, as the leaf frame of its stack. */
static const char *wait_function(enum tl_stop why, const char *detail)
{
    if (why == TL_STOP_SYSCALL || why == TL_STOP_SLEEP)
        return detail;
    if (!detail)
        return NULL;
    static const struct {
        const char *kind, *fn;
    } map[] = {
        {"mutex", "pthread_mutex_lock"}, {"rwlock_read", "pthread_rwlock_rdlock"},
        {"rwlock_write", "pthread_rwlock_wrlock"}, {"cond", "pthread_cond_wait"},
        {"sem", "sem_wait"}, {"barrier", "pthread_barrier_wait"}, {"join", "pthread_join"},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(map[i].kind, detail) == 0)
            return map[i].fn;
    return NULL;
}

/* The function a thread waited in, when nobody is known to have woken it. */
static const char *wait_function_of(enum tl_stop from)
{
    switch (from) {
    case TL_STOP_SLEEP: return "nanosleep";
    default: return NULL;
    }
}

/* ---- Ps ------------------------------------------------------------------------------------- */

static int proc_ensure(struct go_out *o, const struct tl_thread *t, uint64_t ts)
{
    struct go_thread *g = gt(o, t);
    int rc;
    if (g->proc_started)
        return 0;
    g->proc_started = true;
    if ((rc = EV1(GT_PROC_START, g->p, tick(o, ts), t->tid)))
        return rc;
    if (g->p + 1 > o->procs_announced) { /* Gomaxprocs first, and whenever the rows grow */
        o->procs_announced = g->p + 1;
        return EV2(GT_GOMAXPROCS, g->p, tick(o, ts), o->procs_announced, 0);
    }
    return 0;
}

/* A P for a thread starting at `ts`: the lowest free id keeps rows dense, but only a P whose
 * thread ended by then (clocks of two CPUs can put a new thread's start before the end of the
 * one it replaces, and a P's events must stay in time order). */
static uint64_t proc_alloc(struct go_out *o, uint64_t ts)
{
    struct free_p *ps = o->free_ps.items;
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < o->free_ps.len; i++)
        if (ps[i].since <= ts && (best == SIZE_MAX || ps[i].p < ps[best].p))
            best = i;
    if (best == SIZE_MAX)
        return o->nps++;
    uint64_t p = ps[best].p;
    ps[best] = ps[--o->free_ps.len];
    return p;
}

/* ---- tl_ops ----------------------------------------------------------------------------------- */

static int go_begin(void *ctx, uint64_t t0)
{
    struct go_out *o = ctx;
    o->t0 = t0;
    return 0;
}

static int go_thread_new(void *ctx, const struct tl_thread *t, uint64_t ts,
                         const struct tl_thread *creator, uint64_t create_ts, uint32_t create_stack,
                         uint64_t start_fn, bool waiting)
{
    struct go_out *o = ctx;
    int rc;
    while (o->threads.len <= t->index)
        if (!cv_vec_push(&o->threads))
            return LTPROF_ERR_NOMEM;
    struct go_thread *g = gt(o, t);
    g->g = o->next_g++;
    g->p = proc_alloc(o, ts);
    g->label = gotrace_string(o->w, t->name);
    uint64_t newstk = entry_stack(o, t, start_fn);
    if (waiting) { /* the start-up block: it existed, blocked, when the trace began */
        uint64_t at = tick(o, ts) - (EVENTS_TICK - STARTUP_TICK);
        g->created = at;
        if ((rc = EV3(GT_GO_CREATE, GOTRACE_NO_P, at, g->g, newstk, 0)))
            return rc;
        g->seq = 1; /* GoWaiting counts */
        return EV1(GT_GO_WAITING, GOTRACE_NO_P, at, g->g);
    }
    if (creator) {
        struct go_thread *c = gt(o, creator);
        g->created = tick(o, create_ts);
        if ((rc = proc_ensure(o, creator, create_ts)) ||
            (rc = EV3(GT_GO_CREATE, c->p, tick(o, create_ts), g->g, newstk,
                      go_stack(o, create_stack, "pthread_create"))))
            return rc;
        return proc_ensure(o, t, ts);
    }
    if ((rc = proc_ensure(o, t, ts)))
        return rc;
    g->created = tick(o, ts);
    return EV3(GT_GO_CREATE, g->p, tick(o, ts), g->g, newstk, 0);
}

static int go_thread_renamed(void *ctx, const struct tl_thread *t)
{
    struct go_out *o = ctx;
    struct go_thread *g = gt(o, t);
    g->label = gotrace_string(o->w, t->name);
    /* Threads usually name themselves first thing: the slice they run in gets the name too. */
    if (g->running)
        gt_reorder_relabel(o->rq, g->g, g->label);
    return gotrace_writer_error(o->w);
}

static int go_log(void *ctx, const struct tl_thread *t, uint64_t ts, uint64_t task,
                  const char *category, const char *message, uint32_t stack);

static int go_run(void *ctx, const struct tl_thread *t, uint64_t ts, int cpu)
{
    struct go_out *o = ctx;
    struct go_thread *g = gt(o, t);
    int rc;
    (void)cpu;
    if ((rc = proc_ensure(o, t, ts)))
        return rc;
    g->running = true;
    g->seq++;
    rc = g->label ? EV3(GT_GO_START_LABEL, g->p, tick(o, ts), g->g, g->seq, g->label)
                  : EV2(GT_GO_START, g->p, tick(o, ts), g->g, g->seq);
    /* Go's format has no processes. Threads created in the trace belong to their creator's,
     * a main thread's tid is its pid; the others, there before the trace, say it once (the
     * viewer groups its rows by process). */
    if (rc == 0 && !g->process_told && t->preexisting && (int64_t)t->tid != t->pid) {
        char pid[24];
        snprintf(pid, sizeof(pid), "%lld", (long long)t->pid);
        g->process_told = true;
        rc = go_log(ctx, t, ts, 0, "ltprof.process", pid, 0);
    }
    return rc;
}

static int go_stop(void *ctx, const struct tl_thread *t, uint64_t ts, enum tl_stop why,
                   uint32_t stack, const char *detail, uint64_t addr)
{
    struct go_out *o = ctx;
    struct go_thread *g = gt(o, t);
    uint64_t p = g->p, at = tick(o, ts);
    (void)addr;
    uint64_t stk = go_stack(o, stack, wait_function(why, detail));
    g->running = false;
    switch (why) {
    case TL_STOP_PREEMPT: return EV1(GT_GO_PREEMPT, p, at, stk);
    case TL_STOP_OFFCPU: return EV1(GT_GO_BLOCK, p, at, stk);
    case TL_STOP_SYNC: return EV1(GT_GO_BLOCK_SYNC, p, at, stk);
    case TL_STOP_COND: return EV1(GT_GO_BLOCK_COND, p, at, stk);
    case TL_STOP_JOIN: return EV1(GT_GO_BLOCK, p, at, stk);
    case TL_STOP_SLEEP: return EV1(GT_GO_SLEEP, p, at, stk);
    case TL_STOP_SYSCALL: {
        /* As the Go runtime does for a blocking syscall: the thread leaves its P, which stops
         * until the call returns (newer readers require it). */
        int rc;
        if ((rc = EV1(GT_GO_SYSCALL, p, at, stk)) || (rc = EV0(GT_GO_SYS_BLOCK, p, at)))
            return rc;
        g->proc_started = false;
        return EV0(GT_PROC_STOP, p, at);
    }
    }
    return LTPROF_ERR_INVALID;
}

/* The pthread function of a release, as the leaf frame of an unblock's stack. */
static const char *release_function(const char *how)
{
    static const struct {
        const char *kind, *fn;
    } map[] = {
        {"mutex", "pthread_mutex_unlock"}, {"rwlock", "pthread_rwlock_unlock"},
        {"cond_signal", "pthread_cond_signal"}, {"cond_broadcast", "pthread_cond_broadcast"},
        {"sem", "sem_post"}, {"barrier", "pthread_barrier_wait"}, {"exit", "pthread_exit"},
    };
    for (size_t i = 0; how && i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(map[i].kind, how) == 0)
            return map[i].fn;
    return NULL;
}

static int go_wake(void *ctx, const struct tl_thread *t, uint64_t ts, enum tl_stop from,
                   const struct tl_thread *waker, uint64_t waker_ts, const char *how,
                   uint32_t stack)
{
    struct go_out *o = ctx;
    struct go_thread *g = gt(o, t);
    int rc;
    if (from == TL_STOP_PREEMPT)
        return 0; /* runnable already */
    if ((rc = proc_ensure(o, t, ts)))
        return rc;
    g->seq++;
    if (from == TL_STOP_SYSCALL)
        return EV3(GT_GO_SYS_EXIT, g->p, tick(o, ts), g->g, g->seq, 0);
    uint64_t stk = go_stack(o, stack, waker ? release_function(how) : wait_function_of(from));
    /* On the waker's P at the release: the reorder window puts it among the waker's events,
     * so it is the waker's goroutine that unblocks (an exited waker has no P left). A release
     * stamped before the block (two CPUs' clocks disagree) cannot be the waker's in Go. */
    if (waker && waker->state != TL_EXITED && gt(o, waker) && waker_ts >= t->wait_ts)
        return EV3(GT_GO_UNBLOCK, gt(o, waker)->p, tick(o, waker_ts), g->g, g->seq, stk);
    /* Nobody known: the thread's own idle P unblocks it (goroutine 0). */
    return EV3(GT_GO_UNBLOCK, g->p, tick(o, ts), g->g, g->seq, stk);
}

static int go_thread_end(void *ctx, const struct tl_thread *t, uint64_t ts)
{
    struct go_out *o = ctx;
    struct go_thread *g = gt(o, t);
    int rc;
    if ((rc = proc_ensure(o, t, ts)) || (rc = EV0(GT_GO_END, g->p, tick(o, ts))) ||
        (rc = EV0(GT_PROC_STOP, g->p, tick(o, ts))) ||
        (rc = EV0(GT_FLUSH_PROC, g->p, tick(o, ts))))
        return rc;
    g->running = false;
    g->proc_started = false;
    struct free_p *slot = cv_vec_push(&o->free_ps);
    if (!slot)
        return LTPROF_ERR_NOMEM;
    *slot = (struct free_p){.p = g->p, .since = ts};
    return 0;
}

static int go_cpu_sample(void *ctx, const struct tl_thread *t, uint64_t ts, uint32_t stack)
{
    struct go_out *o = ctx;
    struct go_thread *g = gt(o, t);
    /* Go merges samples with the other events by time, before them on a tie: a sample must
     * come after its goroutine's creation, or Go sees the goroutine before it is created. */
    uint64_t at = tick(o, ts) > g->created ? tick(o, ts) : g->created + 1;
    return EV2(GT_CPU_SAMPLE, g->proc_started ? g->p : GOTRACE_NO_P, at, g->g,
               go_stack(o, stack, NULL));
}

/* Go task ids are unique in the file; ltprof's are unique per process. */
static uint64_t go_task_id(const struct tl_thread *t, uint64_t task)
{
    return task ? ((uint64_t)t->pid << 40) ^ task : 0;
}

static uint64_t annotation_stack(struct go_out *o, const struct tl_thread *t, uint32_t stack)
{
    uint64_t stk = go_stack(o, stack, NULL);
    return stk ? stk : entry_stack(o, t, 0); /* regions need a stack (§2.13) */
}

struct task_key {
    const struct go_out *o;
    uint64_t id;
};

static bool task_eq(const void *ctx, size_t pos)
{
    const struct task_key *k = ctx;
    return *CV_VEC_AT(&k->o->tasks, uint64_t, pos) == k->id;
}

static uint64_t task_rehash(const void *ctx, size_t pos)
{
    return cv_hash_pair(*CV_VEC_AT(&((const struct go_out *)ctx)->tasks, uint64_t, pos), 0, 0);
}

/* Records a task's creation: 1 when new, 0 when created before (Go refuses a task id created
 * twice; a process that execs starts its ids again), or LTPROF_ERR_NOMEM. */
static int task_created(struct go_out *o, uint64_t id)
{
    struct task_key k = {o, id};
    uint64_t h = cv_hash_pair(id, 0, 0);
    if (cv_index_find(&o->task_index, h, task_eq, &k) != SIZE_MAX)
        return 0;
    uint64_t *slot = cv_vec_push(&o->tasks);
    if (!slot)
        return LTPROF_ERR_NOMEM;
    *slot = id;
    if (cv_index_insert(&o->task_index, h, o->tasks.len - 1, task_rehash, o)) {
        o->tasks.len--;
        return LTPROF_ERR_NOMEM;
    }
    return 1;
}

static int go_task(void *ctx, const struct tl_thread *t, uint64_t ts, uint64_t task,
                   uint64_t parent, const char *type, bool end, uint32_t stack)
{
    struct go_out *o = ctx;
    struct go_thread *g = gt(o, t);
    uint64_t stk = annotation_stack(o, t, stack);
    if (end)
        return EV2(GT_TASK_END, g->p, tick(o, ts), go_task_id(t, task), stk);
    int fresh = task_created(o, go_task_id(t, task));
    if (fresh <= 0)
        return fresh; /* the second creation of a task is left out */
    return EV4(GT_TASK_CREATE, g->p, tick(o, ts), go_task_id(t, task), go_task_id(t, parent),
               gotrace_string(o->w, type), stk);
}

static int go_region(void *ctx, const struct tl_thread *t, uint64_t ts, uint64_t task,
                     const char *type, bool end, uint32_t stack)
{
    struct go_out *o = ctx;
    return EV4(GT_REGION, gt(o, t)->p, tick(o, ts), go_task_id(t, task), end ? 1 : 0,
               gotrace_string(o->w, type), annotation_stack(o, t, stack));
}

static int go_log(void *ctx, const struct tl_thread *t, uint64_t ts, uint64_t task,
                  const char *category, const char *message, uint32_t stack)
{
    struct go_out *o = ctx;
    uint64_t a[3] = {go_task_id(t, task), gotrace_string(o->w, category),
                     annotation_stack(o, t, stack)};
    uint64_t at = tick(o, ts);
    if (at > o->now)
        o->now = at;
    return gt_reorder_event(o->rq, GT_LOG, gt(o, t)->p, at, a, 3, message);
}

static int go_heap(void *ctx, const struct tl_thread *t, uint64_t ts, uint64_t bytes)
{
    struct go_out *o = ctx;
    int rc = proc_ensure(o, t, ts);
    return rc ? rc : EV1(GT_HEAP_ALLOC, gt(o, t)->p, tick(o, ts), bytes);
}

static int go_note(void *ctx, const struct tl_thread *t, uint64_t ts, const char *text)
{
    int rc = proc_ensure(ctx, t, ts); /* a note can come on a thread that is not running */
    return rc ? rc : go_log(ctx, t, ts, 0, "ltprof", text, 0);
}

static int go_finish(void *ctx, uint64_t end_ts, const struct tl_thread *const *live, size_t n)
{
    struct go_out *o = ctx;
    int rc = 0;
    /* The end: no earlier than any event (a heap counter can be the latest, and it does not
     * move its thread's time). */
    uint64_t end = tick(o, end_ts) > o->now ? tick(o, end_ts) : o->now;
    /* Still running: preempted at the end (the 1.19 UI needs every GoStart ended). */
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct go_thread *g = gt(o, live[i]);
        if (g && g->running)
            rc = EV1(GT_GO_PREEMPT, g->p, end, 0);
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct go_thread *g = gt(o, live[i]);
        if (g && g->proc_started)
            rc = EV0(GT_PROC_STOP, g->p, end);
    }
    if (rc == 0 && o->procs_announced == 0) { /* no thread ran: one idle P, or Go finds the
                                                 trace empty and refuses it */
        o->procs_announced = 1;
        if (!(rc = EV1(GT_PROC_START, 0, end, 0)) && !(rc = EV2(GT_GOMAXPROCS, 0, end, 1, 0)))
            rc = EV0(GT_PROC_STOP, 0, end);
    }
    if (rc == 0)
        rc = gt_reorder_flush(o->rq);
    for (size_t i = 0; rc == 0 && i < o->pending.len; i++) { /* every module is known now */
        const struct go_pending *p = CV_VEC_AT(&o->pending, struct go_pending, i);
        rc = fill_stack(o, p->go_id, p->stack, p->leaf);
    }
    if (rc == 0)
        rc = gotrace_writer_finish(o->w);
    if (fflush(o->file) != 0 && rc == 0) {
        o->io_errno = errno;
        rc = LTPROF_ERR_IO;
    }
    return rc;
}

static void go_destroy(void *ctx)
{
    struct go_out *o = ctx;
    if (!o)
        return;
    gt_reorder_destroy(o->rq);
    gotrace_writer_destroy(o->w);
    if (o->file)
        fclose(o->file);
    cv_vec_fini(&o->threads);
    cv_vec_fini(&o->free_ps);
    cv_vec_fini(&o->stacks);
    cv_index_fini(&o->stack_index);
    cv_vec_fini(&o->tasks);
    cv_index_fini(&o->task_index);
    cv_vec_fini(&o->plain_ids);
    cv_vec_fini(&o->pending);
    free(o->path);
    free(o);
}

static const struct tl_ops go_ops = {
    .name = "Go execution trace",
    .begin = go_begin,
    .thread_new = go_thread_new,
    .thread_renamed = go_thread_renamed,
    .run = go_run,
    .stop = go_stop,
    .wake = go_wake,
    .thread_end = go_thread_end,
    .cpu_sample = go_cpu_sample,
    .task = go_task,
    .region = go_region,
    .log = go_log,
    .heap = go_heap,
    .note = go_note,
    .finish = go_finish,
    .destroy = go_destroy,
};

int tl_gotrace_output_create(struct cv_state *st, const char *path, struct tl_output *out,
                             struct ltprof_error *err)
{
    struct go_out *o = cv_calloc(1, sizeof(*o));
    if (!o || !(o->path = cv_strdup(path))) {
        free(o);
        return cv_error(err, LTPROF_ERR_NOMEM, "out of memory");
    }
    o->st = st;
    o->next_g = 1;
    cv_vec_init(&o->threads, sizeof(struct go_thread));
    cv_vec_init(&o->free_ps, sizeof(struct free_p));
    cv_vec_init(&o->stacks, sizeof(struct go_stack_key_rec));
    cv_vec_init(&o->tasks, sizeof(uint64_t));
    cv_vec_init(&o->plain_ids, sizeof(uint64_t));
    cv_vec_init(&o->pending, sizeof(struct go_pending));
    if (!(o->file = fopen(path, "wb"))) {
        int e = errno;
        go_destroy(o);
        return cv_error(err, LTPROF_ERR_IO, "failed to create \"%s\": %s", path, strerror(e));
    }
    setvbuf(o->file, NULL, _IOFBF, 1 << 20);
    if (!(o->w = gotrace_writer_create(file_write, o))) {
        go_destroy(o);
        return cv_error(err, LTPROF_ERR_IO, "failed to write \"%s\"", path);
    }
    gotrace_writer_clamp_causality(o->w, true);
    if (!(o->rq = gt_reorder_create(o->w, REORDER_WINDOW_NS))) {
        go_destroy(o);
        return cv_error(err, LTPROF_ERR_NOMEM, "out of memory");
    }
    out->ops = &go_ops;
    out->ctx = o;
    return 0;
}
