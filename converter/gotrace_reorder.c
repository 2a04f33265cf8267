/* SPDX-License-Identifier: MIT */
/*
 * A reorder window in front of the Go trace encoder (gotrace_reorder.h): events wait for
 * `window` nanoseconds of trace time and are written in time order. Most come in time order
 * and wait in a FIFO ring; only those placed earlier than the latest one wait in a min-heap. The
 * execution-trace output learns who woke a thread only when the thread's wait ends, and places
 * the unblock on the waker's P at the moment of the release: if the waker has done more since,
 * the event still lands between the right events, so it belongs to the waker's goroutine. An
 * event older than what its P already wrote is raised by the encoder (counted as clamped).
 * Memory: the events of one window.
 */
#include <stdlib.h>
#include <string.h>

#include "gotrace_reorder.h"
#include "internal.h"

struct gt_event {
    uint64_t ts;
    uint64_t order; /* insertion number: equal times keep their order */
    uint64_t p;
    uint64_t a[5];
    char *msg;      /* UserLog message (owned) */
    enum gt_ev type;
};

struct gt_reorder {
    struct gotrace_writer *w;
    uint64_t window;
    uint64_t next_order;
    struct gt_event *heap; /* events earlier than the ring's last when they came */
    size_t n, cap;
    struct gt_event *ring; /* in (ts, order) order; cap a power of two */
    size_t head, len, ring_cap;
};

struct gt_reorder *gt_reorder_create(struct gotrace_writer *w, uint64_t window_ns)
{
    struct gt_reorder *r = cv_calloc(1, sizeof(*r));
    if (r) {
        r->w = w;
        r->window = window_ns;
    }
    return r;
}

void gt_reorder_destroy(struct gt_reorder *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        free(r->heap[i].msg);
    for (size_t i = 0; i < r->len; i++)
        free(r->ring[(r->head + i) & (r->ring_cap - 1)].msg);
    free(r->heap);
    free(r->ring);
    free(r);
}

static bool before(const struct gt_event *x, const struct gt_event *y)
{
    return x->ts < y->ts || (x->ts == y->ts && x->order < y->order);
}

static void sift_up(struct gt_event *h, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(&h[i], &h[parent]))
            break;
        struct gt_event tmp = h[i];
        h[i] = h[parent];
        h[parent] = tmp;
        i = parent;
    }
}

static void sift_down(struct gt_event *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && before(&h[l], &h[m]))
            m = l;
        if (r < n && before(&h[r], &h[m]))
            m = r;
        if (m == i)
            return;
        struct gt_event tmp = h[i];
        h[i] = h[m];
        h[m] = tmp;
        i = m;
    }
}

static struct gt_event *ring_last(struct gt_reorder *r)
{
    return r->len ? &r->ring[(r->head + r->len - 1) & (r->ring_cap - 1)] : NULL;
}

/* Room for one more event where it goes: the ring when it is not earlier than the ring's
 * last, else the heap. */
static struct gt_event *slot_for(struct gt_reorder *r, uint64_t ts, bool *in_ring)
{
    const struct gt_event *last = ring_last(r);
    *in_ring = !last || ts >= last->ts;
    if (*in_ring) {
        if (r->len == r->ring_cap) {
            size_t cap = r->ring_cap ? r->ring_cap * 2 : 1024;
            struct gt_event *ring = cv_malloc(cap * sizeof(*ring));
            if (!ring)
                return NULL;
            for (size_t i = 0; r->ring && i < r->len; i++)
                ring[i] = r->ring[(r->head + i) & (r->ring_cap - 1)];
            free(r->ring);
            r->ring = ring, r->ring_cap = cap, r->head = 0;
        }
        return &r->ring[(r->head + r->len) & (r->ring_cap - 1)];
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        struct gt_event *h = cv_realloc(r->heap, cap * sizeof(*h));
        if (!h)
            return NULL;
        r->heap = h;
        r->cap = cap;
    }
    return &r->heap[r->n];
}

int gt_reorder_event(struct gt_reorder *r, enum gt_ev type, uint64_t p, uint64_t ts,
                     const uint64_t *args, size_t nargs, const char *msg)
{
    bool in_ring;
    struct gt_event *e = slot_for(r, ts, &in_ring);
    if (!e)
        return LTPROF_ERR_NOMEM;
    memset(e, 0, sizeof(*e));
    if (msg && !(e->msg = cv_strdup(msg)))
        return LTPROF_ERR_NOMEM;
    e->ts = ts;
    e->order = r->next_order++;
    e->p = p;
    e->type = type;
    for (size_t i = 0; i < nargs && i < 5; i++)
        e->a[i] = args[i];
    if (in_ring)
        r->len++;
    else
        sift_up(r->heap, r->n++);
    return 0;
}

/* Hands one event to the encoder. */
static int write_event(struct gotrace_writer *w, const struct gt_event *e)
{
    const uint64_t *a = e->a;
    switch (e->type) {
    case GT_PROC_START: return gotrace_proc_start(w, e->p, e->ts, a[0]);
    case GT_PROC_STOP: return gotrace_proc_stop(w, e->p, e->ts);
    case GT_GOMAXPROCS: return gotrace_gomaxprocs(w, e->p, e->ts, a[0], a[1]);
    case GT_GO_CREATE: return gotrace_go_create(w, e->p, e->ts, a[0], a[1], a[2]);
    case GT_GO_START: return gotrace_go_start(w, e->p, e->ts, a[0], a[1]);
    case GT_GO_START_LABEL: return gotrace_go_start_label(w, e->p, e->ts, a[0], a[1], a[2]);
    case GT_GO_END: return gotrace_go_end(w, e->p, e->ts);
    case GT_GO_PREEMPT: return gotrace_go_preempt(w, e->p, e->ts, a[0]);
    case GT_GO_SLEEP: return gotrace_go_sleep(w, e->p, e->ts, a[0]);
    case GT_GO_BLOCK: return gotrace_go_block(w, e->p, e->ts, a[0]);
    case GT_GO_BLOCK_SYNC: return gotrace_go_block_sync(w, e->p, e->ts, a[0]);
    case GT_GO_BLOCK_COND: return gotrace_go_block_cond(w, e->p, e->ts, a[0]);
    case GT_GO_UNBLOCK: return gotrace_go_unblock(w, e->p, e->ts, a[0], a[1], a[2]);
    case GT_GO_SYSCALL: return gotrace_go_syscall(w, e->p, e->ts, a[0]);
    case GT_GO_SYS_BLOCK: return gotrace_go_sys_block(w, e->p, e->ts);
    case GT_GO_SYS_EXIT: return gotrace_go_sys_exit(w, e->p, e->ts, a[0], a[1], a[2]);
    case GT_GO_WAITING: return gotrace_go_waiting(w, e->p, e->ts, a[0]);
    case GT_HEAP_ALLOC: return gotrace_heap_alloc(w, e->p, e->ts, a[0]);
    case GT_CPU_SAMPLE: return gotrace_cpu_sample(w, e->ts, e->p, a[0], a[1]);
    case GT_TASK_CREATE: return gotrace_user_task_create(w, e->p, e->ts, a[0], a[1], a[2], a[3]);
    case GT_TASK_END: return gotrace_user_task_end(w, e->p, e->ts, a[0], a[1]);
    case GT_REGION: return gotrace_user_region(w, e->p, e->ts, a[0], a[1], a[2], a[3]);
    case GT_LOG: return gotrace_user_log(w, e->p, e->ts, a[0], a[1], a[2], e->msg);
    case GT_FLUSH_PROC: return gotrace_writer_flush_proc(w, e->p);
    }
    return LTPROF_ERR_INVALID;
}

/* Writes the earliest events (of the ring's first and the heap's top) while they are older
 * than `horizon`, or all of them. */
static int drain(struct gt_reorder *r, bool all, uint64_t horizon)
{
    for (;;) {
        struct gt_event *first = r->len ? &r->ring[r->head] : NULL;
        bool from_heap = r->n > 0 && (!first || before(&r->heap[0], first));
        if (from_heap)
            first = &r->heap[0];
        if (!first || (!all && first->ts >= horizon))
            return 0;
        struct gt_event e = *first;
        first->msg = NULL; /* e owns it now */
        if (from_heap) {
            r->heap[0] = r->heap[--r->n];
            r->heap[r->n].msg = NULL; /* the slot moved to the top, or e's own */
            sift_down(r->heap, r->n, 0);
        } else {
            r->head = (r->head + 1) & (r->ring_cap - 1);
            r->len--;
        }
        int rc = write_event(r->w, &e);
        free(e.msg);
        if (rc)
            return rc;
    }
}

int gt_reorder_advance(struct gt_reorder *r, uint64_t now)
{
    return now > r->window ? drain(r, false, now - r->window) : 0;
}

int gt_reorder_flush(struct gt_reorder *r)
{
    return drain(r, true, 0);
}

bool gt_reorder_relabel(struct gt_reorder *r, uint64_t g, uint64_t label)
{
    struct gt_event *latest = NULL;
    for (size_t i = 0; i < r->n + r->len; i++) {
        struct gt_event *e =
            i < r->n ? &r->heap[i] : &r->ring[(r->head + i - r->n) & (r->ring_cap - 1)];
        if (e->type == GT_GO_START_LABEL && e->a[0] == g && (!latest || e->order > latest->order))
            latest = e;
    }
    if (latest)
        latest->a[2] = label;
    return latest != NULL;
}
