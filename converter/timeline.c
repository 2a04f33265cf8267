/* SPDX-License-Identifier: MIT */
/*
 * The execution-trace model (timeline.h): one state machine per thread lifetime, driven by
 * ltprof's events in trace order, telling its outputs every transition. Rules:
 * - a thread's own times never go backwards (later events are raised to its last one);
 * - an event the thread emitted while running proves it runs, which ends whatever wait the
 *   model still had open (a lost end, or a thread first seen in the middle of its life);
 * - a wait's waker is found when the wait ends: the last release of the same object by another
 *   thread since the wait began (mutexes, semaphores, signals: each release wakes one waiter;
 *   broadcasts, rwlock releases, the last barrier arrival and a thread's exit wake them all).
 * Threads that already existed when the trace began appear waiting from its start.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeline.h"

#define MAX_WAKES (1u << 20) /* objects remembered for waker matching */

/* A thread that exited: what it emits after its exit (its last context switches) is dropped,
 * until a new thread with the same tid starts. */
struct exited_key {
    int64_t pid;
    uint32_t tid;
    bool reused; /* a new lifetime took the tid */
};

/* The latest release of one object. */
struct wake_rec {
    uint64_t hash;
    int64_t pid;
    uint64_t addr;
    uint32_t waker; /* thread index */
    const char *kind; /* interned release kind */
    uint64_t ts;
    uint32_t stack;
    bool wakes_all;
    bool used;
};

/* What a process's ltprof:trace_info said last. */
struct noted {
    int64_t pid;
    const char *sched_source; /* interned */
};

struct tl_timeline {
    struct cv_state *st;
    const struct tl_output *outs;
    size_t nouts;
    struct cv_vec threads; /* struct tl_thread *, by index */
    struct cv_index live_index; /* (pid, tid) -> thread index, live lifetimes only */
    struct cv_vec live;    /* uint32_t thread indices of live lifetimes */
    struct cv_vec wakes;   /* struct wake_rec */
    struct cv_index wake_index;
    struct cv_vec strings; /* char * */
    struct cv_index string_index;
    struct cv_vec noted;   /* struct noted: what each process said in ltprof:trace_info */
    struct cv_vec exited;  /* struct exited_key: (pid, tid) whose lifetime ended */
    struct cv_index exited_index;
    uint64_t t0;           /* time of the first event */
    bool started;
    struct tl_stats stats;
};

#define EMIT(tl, op, ...)                                                                         \
    do {                                                                                          \
        for (size_t i_ = 0; i_ < (tl)->nouts; i_++) {                                             \
            int rc_ = (tl)->outs[i_].ops->op((tl)->outs[i_].ctx, __VA_ARGS__);                    \
            if (rc_)                                                                              \
                return rc_;                                                                       \
        }                                                                                         \
    } while (0)

static struct tl_thread *thread_at(const struct tl_timeline *tl, uint32_t index)
{
    return *CV_VEC_AT(&tl->threads, struct tl_thread *, index);
}

/* ---- strings --------------------------------------------------------------------------------- */

struct str_key {
    const struct tl_timeline *tl;
    const char *s;
};

static bool str_eq(const void *ctx, size_t pos)
{
    const struct str_key *k = ctx;
    return strcmp(*CV_VEC_AT(&k->tl->strings, char *, pos), k->s) == 0;
}

static uint64_t str_rehash(const void *ctx, size_t pos)
{
    const char *s = *CV_VEC_AT(&((const struct tl_timeline *)ctx)->strings, char *, pos);
    return cv_hash_bytes(s, strlen(s), 0);
}

const char *tl_intern(struct tl_timeline *tl, const char *s)
{
    struct str_key k = {tl, s ? s : ""};
    uint64_t h = cv_hash_bytes(k.s, strlen(k.s), 0);
    size_t pos = cv_index_find(&tl->string_index, h, str_eq, &k);
    if (pos != SIZE_MAX)
        return *CV_VEC_AT(&tl->strings, char *, pos);
    char *copy = cv_strdup(k.s);
    char **slot = copy ? cv_vec_push(&tl->strings) : NULL;
    if (!slot) {
        free(copy);
        return NULL;
    }
    *slot = copy;
    if (cv_index_insert(&tl->string_index, h, tl->strings.len - 1, str_rehash, tl) != 0) {
        tl->strings.len--;
        free(copy);
        return NULL;
    }
    return copy;
}

/* ---- lifecycle ------------------------------------------------------------------------------- */

struct tl_timeline *tl_create(struct cv_state *st, const struct tl_output *outputs, size_t n)
{
    struct tl_timeline *tl = cv_calloc(1, sizeof(*tl));
    if (!tl)
        return NULL;
    tl->st = st;
    tl->outs = outputs;
    tl->nouts = n;
    cv_vec_init(&tl->threads, sizeof(struct tl_thread *));
    cv_vec_init(&tl->live, sizeof(uint32_t));
    cv_vec_init(&tl->wakes, sizeof(struct wake_rec));
    cv_vec_init(&tl->strings, sizeof(char *));
    cv_vec_init(&tl->noted, sizeof(struct noted));
    cv_vec_init(&tl->exited, sizeof(struct exited_key));
    return tl;
}

void tl_destroy(struct tl_timeline *tl)
{
    if (!tl)
        return;
    for (size_t i = 0; i < tl->threads.len; i++) {
        struct tl_thread *t = thread_at(tl, (uint32_t)i);
        free(t->name);
        free(t->regions);
        free(t);
    }
    for (size_t i = 0; i < tl->strings.len; i++)
        free(*CV_VEC_AT(&tl->strings, char *, i));
    cv_vec_fini(&tl->threads);
    cv_vec_fini(&tl->live);
    cv_vec_fini(&tl->wakes);
    cv_vec_fini(&tl->strings);
    cv_vec_fini(&tl->noted);
    cv_vec_fini(&tl->exited);
    cv_index_fini(&tl->exited_index);
    cv_index_fini(&tl->live_index);
    cv_index_fini(&tl->wake_index);
    cv_index_fini(&tl->string_index);
    free(tl);
}

void tl_get_stats(const struct tl_timeline *tl, struct tl_stats *out)
{
    *out = tl->stats;
}

/* ---- threads --------------------------------------------------------------------------------- */

struct live_key {
    const struct tl_timeline *tl;
    int64_t pid;
    uint32_t tid;
};

static uint64_t live_hash(int64_t pid, uint32_t tid)
{
    return cv_hash_pair((uint64_t)pid, tid, 7);
}

static bool live_eq(const void *ctx, size_t pos)
{
    const struct live_key *k = ctx;
    const struct tl_thread *t = thread_at(k->tl, (uint32_t)pos);
    return t->state != TL_EXITED && t->pid == k->pid && t->tid == k->tid;
}

static uint64_t live_rehash(const void *ctx, size_t pos)
{
    const struct tl_thread *t = thread_at(ctx, (uint32_t)pos);
    return live_hash(t->pid, t->tid);
}

static struct tl_thread *find_live(struct tl_timeline *tl, int64_t pid, uint32_t tid)
{
    struct live_key k = {tl, pid, tid};
    size_t pos = cv_index_find(&tl->live_index, live_hash(pid, tid), live_eq, &k);
    return pos == SIZE_MAX ? NULL : thread_at(tl, (uint32_t)pos);
}

/* Exited lifetimes stay in the index as tombstones (live_eq skips them); rebuilding the index
 * when tombstones dominate keeps lookups short with thread churn. */
static int live_index_rebuild(struct tl_timeline *tl)
{
    struct cv_index fresh = {0};
    for (size_t i = 0; i < tl->live.len; i++) {
        uint32_t idx = *CV_VEC_AT(&tl->live, uint32_t, i);
        const struct tl_thread *t = thread_at(tl, idx);
        if (cv_index_insert(&fresh, live_hash(t->pid, t->tid), idx, live_rehash, tl) != 0) {
            cv_index_fini(&fresh);
            return LTPROF_ERR_NOMEM;
        }
    }
    cv_index_fini(&tl->live_index);
    tl->live_index = fresh;
    return 0;
}

static uint64_t clamp(struct tl_timeline *tl, struct tl_thread *t, uint64_t ts)
{
    uint64_t floor = t && t->last_ts > tl->t0 ? t->last_ts : tl->t0;
    if (ts < floor) {
        if (t && ts + 1000 < floor) /* more than 1 us: not just clock granularity */
            tl->stats.clamped++;
        return floor;
    }
    return ts;
}

static int note_time(struct tl_timeline *tl, uint64_t ts)
{
    if (tl->started)
        return 0;
    tl->t0 = ts;
    tl->started = true;
    EMIT(tl, begin, ts);
    return 0;
}

int tl_event_time(struct tl_timeline *tl, uint64_t ts)
{
    return note_time(tl, ts);
}

/* A new lifetime (state set by the caller's first transition). NULL when out of memory. */
static struct tl_thread *thread_add(struct tl_timeline *tl, int64_t pid, uint32_t tid,
                                    const char *name, uint64_t ts)
{
    struct tl_thread *t = cv_calloc(1, sizeof(*t));
    char fallback[32];
    if (!name || !*name) {
        const char *known = cv_state_thread_name(tl->st, pid, tid);
        if (known && *known) {
            name = known;
        } else {
            snprintf(fallback, sizeof(fallback), "thread-%u", tid);
            name = fallback;
        }
    }
    if (!t || !(t->name = cv_strdup(name))) {
        free(t);
        return NULL;
    }
    t->index = (uint32_t)tl->threads.len;
    t->pid = pid;
    t->tid = tid;
    t->begin_ts = t->last_ts = ts;
    struct tl_thread **slot = cv_vec_push(&tl->threads);
    uint32_t *live = slot ? cv_vec_push(&tl->live) : NULL;
    if (!live) {
        if (slot)
            tl->threads.len--;
        free(t->name);
        free(t);
        return NULL;
    }
    *slot = t;
    *live = t->index;
    if (cv_index_insert(&tl->live_index, live_hash(pid, tid), t->index, live_rehash, tl) != 0) {
        tl->threads.len--;
        tl->live.len--;
        free(t->name);
        free(t);
        return NULL;
    }
    tl->stats.threads++;
    return t;
}

static void live_remove(struct tl_timeline *tl, const struct tl_thread *t)
{
    uint32_t *items = tl->live.items;
    for (size_t i = 0; i < tl->live.len; i++) {
        if (items[i] == t->index) {
            items[i] = items[--tl->live.len];
            break;
        }
    }
}

/* A thread first seen in the middle of its life: it appears waiting since the trace began. */
static int thread_found(struct tl_timeline *tl, int64_t pid, uint32_t tid, const char *name,
                        struct tl_thread **out)
{
    struct tl_thread *t = thread_add(tl, pid, tid, name, tl->t0);
    if (!(*out = t))
        return LTPROF_ERR_NOMEM;
    t->preexisting = true;
    t->state = TL_WAITING;
    t->wait_kind = NULL; /* unknown */
    t->wait_ts = tl->t0;
    EMIT(tl, thread_new, t, tl->t0, NULL, 0, 0, 0, true);
    return 0;
}

struct exited_lookup {
    const struct tl_timeline *tl;
    int64_t pid;
    uint32_t tid;
};

static bool exited_eq(const void *ctx, size_t pos)
{
    const struct exited_lookup *k = ctx;
    const struct exited_key *e = CV_VEC_AT(&k->tl->exited, struct exited_key, pos);
    return e->pid == k->pid && e->tid == k->tid;
}

static uint64_t exited_rehash(const void *ctx, size_t pos)
{
    const struct exited_key *e = CV_VEC_AT(&((const struct tl_timeline *)ctx)->exited,
                                           struct exited_key, pos);
    return live_hash(e->pid, e->tid);
}

static struct exited_key *find_exited(struct tl_timeline *tl, int64_t pid, uint32_t tid)
{
    struct exited_lookup k = {tl, pid, tid};
    size_t pos = cv_index_find(&tl->exited_index, live_hash(pid, tid), exited_eq, &k);
    return pos == SIZE_MAX ? NULL : CV_VEC_AT(&tl->exited, struct exited_key, pos);
}

static int mark_exited(struct tl_timeline *tl, int64_t pid, uint32_t tid)
{
    struct exited_key *e = find_exited(tl, pid, tid);
    if (e) {
        e->reused = false;
        return 0;
    }
    if (!(e = cv_vec_push(&tl->exited)))
        return LTPROF_ERR_NOMEM;
    *e = (struct exited_key){pid, tid, false};
    if (cv_index_insert(&tl->exited_index, live_hash(pid, tid), tl->exited.len - 1,
                        exited_rehash, tl) != 0) {
        tl->exited.len--;
        return LTPROF_ERR_NOMEM;
    }
    return 0;
}

/* The live lifetime of (pid, tid), found in the middle of its life if need be; NULL (and 0)
 * for what a thread emits after its exit: those events are dropped. */
static int get_thread(struct tl_timeline *tl, int64_t pid, uint32_t tid, struct tl_thread **out)
{
    *out = find_live(tl, pid, tid);
    if (*out)
        return 0;
    struct exited_key *e = find_exited(tl, pid, tid);
    if (e && !e->reused) {
        tl->stats.after_exit++;
        return 0;
    }
    return thread_found(tl, pid, tid, NULL, out);
}

/* What a wait kind stops a thread as. */
static enum tl_stop stop_reason(const struct tl_thread *t)
{
    if (t->state == TL_SLEEPING)
        return TL_STOP_SLEEP;
    if (t->state == TL_SYSCALL)
        return TL_STOP_SYSCALL;
    if (t->state == TL_OFFCPU || !t->wait_kind)
        return TL_STOP_OFFCPU;
    if (strcmp(t->wait_kind, "cond") == 0)
        return TL_STOP_COND;
    if (strcmp(t->wait_kind, "join") == 0)
        return TL_STOP_JOIN;
    return TL_STOP_SYNC;
}

static int run(struct tl_timeline *tl, struct tl_thread *t, uint64_t ts, int cpu)
{
    t->state = TL_RUNNING;
    t->last_ts = ts;
    t->wait_kind = NULL;
    t->wait_addr = 0;
    EMIT(tl, run, t, ts, cpu);
    return 0;
}

static int wake(struct tl_timeline *tl, struct tl_thread *t, uint64_t ts,
                const struct tl_thread *waker, uint64_t waker_ts, const char *how, uint32_t stack)
{
    enum tl_stop from = stop_reason(t);
    t->state = TL_RUNNABLE;
    t->last_ts = ts;
    EMIT(tl, wake, t, ts, from, waker, waker_ts, how, stack);
    return 0;
}

static int stop(struct tl_timeline *tl, struct tl_thread *t, uint64_t ts, enum tl_stop why,
                enum tl_state state, uint32_t stack, const char *detail, uint64_t addr)
{
    t->state = state;
    t->last_ts = ts;
    t->wait_kind = detail;
    t->wait_addr = addr;
    t->wait_ts = ts;
    t->wait_stack = stack;
    EMIT(tl, stop, t, ts, why, stack, detail, addr);
    return 0;
}

/* The thread emitted an event at `ts`, so it runs: close what the model has open. */
static int ensure_running(struct tl_timeline *tl, struct tl_thread *t, uint64_t ts)
{
    int rc = 0;
    switch (t->state) {
    case TL_RUNNING:
        t->last_ts = ts;
        return 0;
    case TL_RUNNABLE:
        return run(tl, t, ts, -1);
    case TL_OFFCPU:
    case TL_WAITING:
    case TL_SLEEPING:
    case TL_SYSCALL:
        if ((rc = wake(tl, t, ts, NULL, ts, NULL, t->wait_stack)))
            return rc;
        return run(tl, t, ts, -1);
    case TL_EXITED:
        break;
    }
    return 0;
}

/* ---- waker matching ------------------------------------------------------------------------ */

struct wake_key {
    const struct tl_timeline *tl;
    int64_t pid;
    uint64_t addr;
};

static uint64_t wake_hash(int64_t pid, uint64_t addr)
{
    return cv_hash_pair((uint64_t)pid, addr, 11);
}

static bool wake_eq(const void *ctx, size_t pos)
{
    const struct wake_key *k = ctx;
    const struct wake_rec *w = CV_VEC_AT(&k->tl->wakes, struct wake_rec, pos);
    return w->pid == k->pid && w->addr == k->addr;
}

static uint64_t wake_rehash(const void *ctx, size_t pos)
{
    return CV_VEC_AT(&((const struct tl_timeline *)ctx)->wakes, struct wake_rec, pos)->hash;
}

static struct wake_rec *wake_find(struct tl_timeline *tl, int64_t pid, uint64_t addr)
{
    struct wake_key k = {tl, pid, addr};
    size_t pos = cv_index_find(&tl->wake_index, wake_hash(pid, addr), wake_eq, &k);
    return pos == SIZE_MAX ? NULL : CV_VEC_AT(&tl->wakes, struct wake_rec, pos);
}

static int wake_record(struct tl_timeline *tl, const struct tl_thread *waker, const char *kind,
                       uint64_t addr, uint64_t ts, uint32_t stack, bool wakes_all)
{
    struct wake_rec *w = wake_find(tl, waker->pid, addr);
    if (!w) {
        if (tl->wakes.len >= MAX_WAKES)
            return 0; /* waits on new objects get no waker; nothing else is lost */
        uint64_t h = wake_hash(waker->pid, addr);
        if (!(w = cv_vec_push(&tl->wakes)))
            return LTPROF_ERR_NOMEM;
        if (cv_index_insert(&tl->wake_index, h, tl->wakes.len - 1, wake_rehash, tl) != 0) {
            tl->wakes.len--;
            return LTPROF_ERR_NOMEM;
        }
        w->hash = h;
        w->pid = waker->pid;
        w->addr = addr;
    }
    w->waker = waker->index;
    w->kind = kind;
    w->ts = ts;
    w->stack = stack;
    w->wakes_all = wakes_all;
    w->used = false;
    return 0;
}

/* The thread whose release of t's object let t's wait end at `ts`, or NULL. */
static const struct tl_thread *waker_of(struct tl_timeline *tl, const struct tl_thread *t,
                                        uint64_t ts, uint64_t *waker_ts, const char **how,
                                        uint32_t *stack)
{
    struct wake_rec *w = wake_find(tl, t->pid, t->wait_addr);
    /* A joined thread may have exited before the join began waiting for it. */
    bool exit = w && strcmp(w->kind, "exit") == 0;
    if (!w || w->waker == t->index || (w->ts < t->wait_ts && !exit) || w->ts > ts ||
        (w->used && !w->wakes_all))
        return NULL;
    const struct tl_thread *waker = thread_at(tl, w->waker);
    if (waker->state == TL_EXITED && !exit)
        return NULL;
    w->used = true;
    *waker_ts = w->ts;
    *how = w->kind;
    *stack = w->stack ? w->stack : t->wait_stack;
    return waker;
}

/* ---- inputs ------------------------------------------------------------------------------- */

int tl_thread_start(struct tl_timeline *tl, uint64_t ts, int64_t pid, uint32_t tid,
                    uint64_t pthread, uint32_t creator_tid, uint64_t create_ts, uint64_t start_fn,
                    const char *name, uint32_t creator_stack)
{
    int rc;
    if ((rc = note_time(tl, ts)))
        return rc;
    struct tl_thread *old = find_live(tl, pid, tid), *creator = NULL;
    if (old && (rc = tl_thread_exit(tl, ts, pid, tid))) /* its exit was lost: tid reused */
        return rc;
    ts = clamp(tl, old, ts); /* not before the trace, nor before the lifetime it replaces */
    if (creator_tid && creator_tid != tid) {
        if ((rc = get_thread(tl, pid, creator_tid, &creator)))
            return rc;
    }
    if (creator) {
        /* A creation the creator made before its latest transition (the new thread took a
         * while to start) says nothing about what the creator does now. */
        if (create_ts && create_ts < creator->last_ts)
            create_ts = creator->last_ts;
        else if ((rc = ensure_running(tl, creator, create_ts ? clamp(tl, creator, create_ts)
                                                             : creator->last_ts)))
            return rc;
        if (!create_ts)
            create_ts = creator->last_ts;
    }
    struct tl_thread *t = thread_add(tl, pid, tid, name, ts);
    if (!t)
        return LTPROF_ERR_NOMEM;
    struct exited_key *e = find_exited(tl, pid, tid);
    if (e)
        e->reused = true;
    t->pthread = pthread;
    t->state = TL_RUNNABLE;
    if (create_ts > ts)
        ts = create_ts; /* the clocks of two CPUs disagree: the child cannot start earlier */
    t->begin_ts = t->last_ts = ts;
    EMIT(tl, thread_new, t, ts, creator, create_ts, creator ? creator_stack : 0, start_fn, false);
    return run(tl, t, ts, -1);
}

int tl_thread_exit(struct tl_timeline *tl, uint64_t ts, int64_t pid, uint32_t tid)
{
    int rc;
    if ((rc = note_time(tl, ts)))
        return rc;
    struct tl_thread *t = find_live(tl, pid, tid);
    if (!t)
        return 0;
    ts = clamp(tl, t, ts);
    if ((rc = ensure_running(tl, t, ts)))
        return rc;
    /* Its joiners go on: the exiting thread wakes them. */
    if (t->pthread) {
        for (size_t i = 0; i < tl->live.len; i++) {
            struct tl_thread *j = thread_at(tl, *CV_VEC_AT(&tl->live, uint32_t, i));
            if (j != t && j->pid == pid && j->state == TL_WAITING && j->wait_kind &&
                strcmp(j->wait_kind, "join") == 0 && j->wait_addr == t->pthread) {
                uint64_t jts = clamp(tl, j, ts);
                if ((rc = wake(tl, j, jts, t, ts, "exit", j->wait_stack)))
                    return rc;
                tl->stats.wakers_known++;
            }
        }
    }
    if (t->pthread && (rc = wake_record(tl, t, "exit", t->pthread, ts, 0, true)))
        return rc;
    EMIT(tl, thread_end, t, ts);
    t->state = TL_EXITED;
    t->last_ts = ts;
    live_remove(tl, t);
    if ((rc = mark_exited(tl, pid, tid)))
        return rc;
    if (tl->live_index.used > 64 && tl->live_index.used > 4 * tl->live.len)
        return live_index_rebuild(tl);
    return 0;
}

int tl_thread_name(struct tl_timeline *tl, uint64_t ts, int64_t pid, uint32_t tid,
                   const char *name)
{
    int rc;
    if ((rc = note_time(tl, ts)))
        return rc;
    struct tl_thread *t = find_live(tl, pid, tid);
    if (!t) /* named before anything else happened: remembered by events.c, used when found */
        return 0;
    if (!name || !*name || strcmp(name, t->name) == 0)
        return 0;
    char *copy = cv_strdup(name);
    if (!copy)
        return LTPROF_ERR_NOMEM;
    free(t->name);
    t->name = copy;
    EMIT(tl, thread_renamed, t);
    return 0;
}

int tl_thread_state(struct tl_timeline *tl, uint64_t ts, int64_t pid, uint32_t tid,
                    uint64_t pthread, const char *name, const char *wait, uint64_t since_ts)
{
    int rc;
    if ((rc = note_time(tl, ts)))
        return rc;
    struct tl_thread *t = find_live(tl, pid, tid);
    if (t) {
        if (!t->pthread)
            t->pthread = pthread;
        return tl_thread_name(tl, ts, pid, tid, name);
    }
    if ((rc = thread_found(tl, pid, tid, name, &t)))
        return rc;
    t->pthread = pthread;
    if (wait && *wait) {
        t->wait_kind = tl_intern(tl, wait);
        t->wait_ts = since_ts > tl->t0 ? since_ts : tl->t0;
        if (!t->wait_kind)
            return LTPROF_ERR_NOMEM;
    }
    return 0;
}

int tl_switch(struct tl_timeline *tl, int64_t pid, uint32_t tid, uint64_t ts, bool out,
              bool preempt, int cpu)
{
    struct tl_thread *t;
    int rc;
    if (!tl->started) /* a payload time: the event carrying it sets the trace's start */
        return 0;
    if ((rc = get_thread(tl, pid, tid, &t)))
        return rc;
    if (!t)
        return 0;
    if (ts < t->last_ts || ts < tl->t0) {
        tl->stats.switches_stale++;
        return 0;
    }
    tl->stats.switches++;
    if (out) {
        if (t->state != TL_RUNNING) {
            /* First seen leaving a CPU: it ran until now. */
            if (!(t->preexisting && t->state == TL_WAITING && !t->wait_kind))
                return 0;
            if ((rc = ensure_running(tl, t, ts)))
                return rc;
        }
        return preempt ? stop(tl, t, ts, TL_STOP_PREEMPT, TL_RUNNABLE, 0, NULL, 0)
                       : stop(tl, t, ts, TL_STOP_OFFCPU, TL_OFFCPU, 0, NULL, 0);
    }
    switch (t->state) {
    case TL_RUNNABLE:
        return run(tl, t, ts, cpu);
    case TL_OFFCPU:
        if ((rc = wake(tl, t, ts, NULL, ts, NULL, 0)))
            return rc;
        return run(tl, t, ts, cpu);
    case TL_WAITING:
        if (t->wait_kind) /* inside a recorded wait: its end starts the thread */
            return 0;
        if ((rc = wake(tl, t, ts, NULL, ts, NULL, 0)))
            return rc;
        return run(tl, t, ts, cpu);
    default:
        return 0;
    }
}

void tl_switches_lost(struct tl_timeline *tl, uint64_t lost)
{
    tl->stats.switches_lost += lost;
}

int tl_wait_begin(struct tl_timeline *tl, uint64_t ts, int64_t pid, uint32_t tid,
                  const char *kind, uint64_t addr, uint64_t target, uint32_t stack)
{
    struct tl_thread *t;
    int rc;
    (void)target;
    if ((rc = note_time(tl, ts)))
        return rc;
    if ((rc = get_thread(tl, pid, tid, &t)))
        return rc;
    if (!t)
        return 0;
    ts = clamp(tl, t, ts);
    if ((rc = ensure_running(tl, t, ts)))
        return rc;
    const char *k = tl_intern(tl, kind);
    if (!k)
        return LTPROF_ERR_NOMEM;
    enum tl_stop why = strcmp(k, "cond") == 0   ? TL_STOP_COND
                       : strcmp(k, "join") == 0 ? TL_STOP_JOIN
                                                : TL_STOP_SYNC;
    tl->stats.waits++;
    if (strcmp(k, "barrier") == 0 && (rc = wake_record(tl, t, k, addr, ts, stack, true)))
        return rc; /* the last arrival releases the others */
    return stop(tl, t, ts, why, TL_WAITING, stack, k, addr);
}

int tl_wait_end(struct tl_timeline *tl, uint64_t ts, int64_t pid, uint32_t tid,
                const char *kind, uint64_t addr)
{
    struct tl_thread *t;
    int rc;
    (void)kind;
    if ((rc = note_time(tl, ts)))
        return rc;
    if ((rc = get_thread(tl, pid, tid, &t)))
        return rc;
    if (!t)
        return 0;
    ts = clamp(tl, t, ts);
    if (t->state == TL_RUNNABLE) /* woken already (a join) */
        return run(tl, t, ts, -1);
    if (t->state == TL_WAITING && t->preexisting && !t->wait_kind) {
        /* Waiting since before the trace began, on what only its end tells. */
        t->wait_kind = tl_intern(tl, kind);
        t->wait_addr = addr;
        if (!t->wait_kind)
            return LTPROF_ERR_NOMEM;
    }
    if (t->state != TL_WAITING || t->wait_addr != addr)
        return ensure_running(tl, t, ts);
    uint64_t waker_ts = ts;
    uint32_t stack = t->wait_stack;
    const char *how = NULL;
    const struct tl_thread *waker = waker_of(tl, t, ts, &waker_ts, &how, &stack);
    if (waker)
        tl->stats.wakers_known++;
    if ((rc = wake(tl, t, ts, waker, waker_ts, how, stack)))
        return rc;
    return run(tl, t, ts, -1);
}

int tl_wake(struct tl_timeline *tl, uint64_t ts, int64_t pid, uint32_t tid, const char *kind,
            uint64_t addr, uint32_t stack)
{
    struct tl_thread *t;
    int rc;
    if ((rc = note_time(tl, ts)))
        return rc;
    if ((rc = get_thread(tl, pid, tid, &t)))
        return rc;
    if (!t)
        return 0;
    ts = clamp(tl, t, ts);
    if ((rc = ensure_running(tl, t, ts)))
        return rc;
    const char *k = tl_intern(tl, kind);
    if (!k)
        return LTPROF_ERR_NOMEM;
    bool all = strcmp(k, "cond_broadcast") == 0 || strcmp(k, "rwlock") == 0;
    return wake_record(tl, t, k, addr, ts, stack, all);
}

static bool is_sleep(const char *call)
{
    return strcmp(call, "nanosleep") == 0 || strcmp(call, "clock_nanosleep") == 0 ||
           strcmp(call, "usleep") == 0 || strcmp(call, "sleep") == 0;
}

int tl_call(struct tl_timeline *tl, int64_t pid, uint32_t tid, const char *call,
            uint64_t start_ts, uint64_t end_ts, uint32_t stack)
{
    struct tl_thread *t;
    int rc;
    if (!tl->started) /* payload times: the event carrying them sets the trace's start */
        return 0;
    if ((rc = get_thread(tl, pid, tid, &t)))
        return rc;
    if (!t)
        return 0;
    const char *c = tl_intern(tl, call);
    if (!c)
        return LTPROF_ERR_NOMEM;
    tl->stats.calls++;
    if (t->state == TL_WAITING && (!t->wait_kind || t->wait_kind == c) && t->preexisting &&
        start_ts <= t->last_ts) {
        /* The call the thread was in when the trace began: it ends here. */
        end_ts = clamp(tl, t, end_ts);
        if ((rc = wake(tl, t, end_ts, NULL, end_ts, NULL, stack)))
            return rc;
        return run(tl, t, end_ts, -1);
    }
    start_ts = clamp(tl, t, start_ts);
    if (end_ts < start_ts)
        end_ts = start_ts;
    if ((rc = ensure_running(tl, t, start_ts)))
        return rc;
    if (is_sleep(c))
        rc = stop(tl, t, start_ts, TL_STOP_SLEEP, TL_SLEEPING, stack, c, 0);
    else
        rc = stop(tl, t, start_ts, TL_STOP_SYSCALL, TL_SYSCALL, stack, c, 0);
    if (rc || (rc = wake(tl, t, end_ts, NULL, end_ts, NULL, stack)))
        return rc;
    return run(tl, t, end_ts, -1);
}

int tl_cpu_sample(struct tl_timeline *tl, uint64_t ts, int64_t pid, uint32_t tid,
                  uint32_t stack)
{
    struct tl_thread *t;
    int rc;
    if ((rc = note_time(tl, ts)))
        return rc;
    if ((rc = get_thread(tl, pid, tid, &t)))
        return rc;
    if (!t)
        return 0;
    if (ts < tl->t0)
        ts = tl->t0;
    EMIT(tl, cpu_sample, t, ts, stack);
    return 0;
}

/* Looks up the thread an annotation came from; it runs at `*ts`. */
static int annotating(struct tl_timeline *tl, uint64_t *ts, int64_t pid, uint32_t tid,
                      struct tl_thread **out)
{
    int rc;
    if ((rc = note_time(tl, *ts)))
        return rc;
    if ((rc = get_thread(tl, pid, tid, out)) || !*out)
        return rc;
    *ts = clamp(tl, *out, *ts);
    return ensure_running(tl, *out, *ts);
}

int tl_task(struct tl_timeline *tl, uint64_t ts, int64_t pid, uint32_t tid, uint64_t task,
            uint64_t parent, const char *type, bool end, uint32_t stack)
{
    struct tl_thread *t;
    int rc = annotating(tl, &ts, pid, tid, &t);
    if (rc || !t)
        return rc;
    const char *ty = tl_intern(tl, type);
    if (rc || !ty)
        return rc ? rc : LTPROF_ERR_NOMEM;
    EMIT(tl, task, t, ts, task, parent, ty, end, stack);
    return 0;
}

int tl_region(struct tl_timeline *tl, uint64_t ts, int64_t pid, uint32_t tid, uint64_t task,
              const char *type, bool end, uint32_t stack)
{
    struct tl_thread *t;
    int rc = annotating(tl, &ts, pid, tid, &t);
    if (rc || !t)
        return rc;
    const char *ty = tl_intern(tl, type);
    if (rc || !ty)
        return rc ? rc : LTPROF_ERR_NOMEM;
    if (!end) {
        if (t->nregions == t->cap_regions) {
            uint32_t cap = t->cap_regions ? t->cap_regions * 2 : 8;
            struct tl_open_region *r = cv_realloc(t->regions, cap * sizeof(*r));
            if (!r)
                return LTPROF_ERR_NOMEM;
            t->regions = r;
            t->cap_regions = cap;
        }
        t->regions[t->nregions++] = (struct tl_open_region){task, ty};
    } else {
        const struct tl_open_region *top = t->nregions ? &t->regions[t->nregions - 1] : NULL;
        if (!top || top->task != task || top->type != ty) {
            tl->stats.regions_dropped++;
            return 0;
        }
        t->nregions--;
    }
    EMIT(tl, region, t, ts, task, ty, end, stack);
    return 0;
}

int tl_log(struct tl_timeline *tl, uint64_t ts, int64_t pid, uint32_t tid, uint64_t task,
           const char *category, const char *message, uint32_t stack)
{
    struct tl_thread *t;
    int rc = annotating(tl, &ts, pid, tid, &t);
    if (rc || !t)
        return rc;
    const char *cat = tl_intern(tl, category);
    if (rc || !cat)
        return rc ? rc : LTPROF_ERR_NOMEM;
    EMIT(tl, log, t, ts, task, cat, message ? message : "", stack);
    return 0;
}

int tl_heap(struct tl_timeline *tl, uint64_t ts, int64_t pid, uint32_t tid, uint64_t bytes)
{
    struct tl_thread *t;
    int rc;
    if ((rc = note_time(tl, ts)))
        return rc;
    if ((rc = get_thread(tl, pid, tid, &t)))
        return rc;
    if (!t)
        return 0;
    ts = clamp(tl, t, ts);
    t->last_ts = ts; /* written on the thread's P: what follows cannot be earlier */
    EMIT(tl, heap, t, ts, bytes);
    return 0;
}

int tl_trace_info(struct tl_timeline *tl, uint64_t ts, int64_t pid, uint32_t tid,
                  const char *sched_source, const char *sched_note, uint64_t syscall_ns)
{
    struct tl_thread *t;
    char text[256];
    int rc;
    if ((rc = note_time(tl, ts)))
        return rc;
    /* Once per process, and again when an exec changed what it records. */
    const char *src = tl_intern(tl, sched_source);
    if (!src)
        return LTPROF_ERR_NOMEM;
    struct noted *slot = NULL;
    for (size_t i = 0; i < tl->noted.len && !slot; i++)
        if (CV_VEC_AT(&tl->noted, struct noted, i)->pid == pid)
            slot = CV_VEC_AT(&tl->noted, struct noted, i);
    if (slot && slot->sched_source == src)
        return 0;
    if (!slot && !(slot = cv_vec_push(&tl->noted)))
        return LTPROF_ERR_NOMEM;
    slot->pid = pid;
    slot->sched_source = src;
    if ((rc = annotating(tl, &ts, pid, tid, &t)) || !t)
        return rc;
    if (strcmp(sched_source, "perf_event") == 0)
        snprintf(text, sizeof(text), "process %lld: scheduling from perf context switches; "
                 "blocking calls of %llu ns or more", (long long)pid,
                 (unsigned long long)syscall_ns);
    else
        snprintf(text, sizeof(text), "process %lld: no context switches (%s): running means "
                 "outside recorded waits; blocking calls of %llu ns or more", (long long)pid,
                 sched_note && *sched_note ? sched_note : "not recorded",
                 (unsigned long long)syscall_ns);
    EMIT(tl, note, t, ts, text);
    return 0;
}

/* Losses noted in the trace; later ones are only counted (profiles' comments, summary). */
#define LOST_NOTES_MAX 20

int tl_events_lost(struct tl_timeline *tl, uint64_t ts, int64_t pid)
{
    int rc;
    if ((rc = note_time(tl, ts)))
        return rc;
    if (tl->stats.losses_noted == LOST_NOTES_MAX)
        return 0;
    /* Go's format has no note without a goroutine: one of the process's live threads, its
     * main thread first, else any live thread. Its state does not change. */
    struct tl_thread *t = find_live(tl, pid, (uint32_t)pid);
    for (size_t i = 0; !t && i < tl->live.len; i++) {
        struct tl_thread *c = thread_at(tl, *CV_VEC_AT(&tl->live, uint32_t, i));
        t = c->pid == pid ? c : NULL;
    }
    if (!t && tl->live.len)
        t = thread_at(tl, *CV_VEC_AT(&tl->live, uint32_t, 0));
    if (!t)
        return 0;
    ts = clamp(tl, t, ts);
    t->last_ts = ts;
    char text[256];
    snprintf(text, sizeof(text),
             "the tracer lost events of process %lld here (its buffers were full): the trace "
             "is incomplete; the profiles' comments give the total%s", (long long)pid,
             ++tl->stats.losses_noted == LOST_NOTES_MAX
                 ? " (later losses are not noted)" : "");
    EMIT(tl, note, t, ts, text);
    return 0;
}

int tl_finish(struct tl_timeline *tl, uint64_t end_ts)
{
    struct tl_thread **live = cv_calloc(tl->live.len + 1, sizeof(*live));
    if (!live)
        return LTPROF_ERR_NOMEM;
    for (size_t i = 0; i < tl->live.len; i++) {
        live[i] = thread_at(tl, *CV_VEC_AT(&tl->live, uint32_t, i));
        if (live[i]->last_ts > end_ts)
            end_ts = live[i]->last_ts;
    }
    if (end_ts < tl->t0)
        end_ts = tl->t0;
    int rc = 0;
    for (size_t i = 0; i < tl->nouts && rc == 0; i++)
        rc = tl->outs[i].ops->finish(tl->outs[i].ctx, end_ts,
                                     (const struct tl_thread *const *)live, tl->live.len);
    free(live);
    return rc;
}
