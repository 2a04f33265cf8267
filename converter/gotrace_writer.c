/* SPDX-License-Identifier: MIT */
/*
 * gotrace writer: encodes Go execution trace events (old format, header "go 1.19 trace") into
 * one open batch per P, writes batches through the caller's callback, and ends the file with
 * EvFrequency and the string/stack tables (gotrace_tables.c). Face: gotrace_writer.h; format:
 * docs/reference/go-trace-format.md. Not thread-safe. Errors are sticky: after the first one,
 * every call returns it and nothing more is written.
 */
#include "gotrace_internal.h"

#include "ltprof/ltprof.h"

#include <stdlib.h>
#include <string.h>

enum {
    EV_BATCH = 1, EV_FREQUENCY = 2, EV_GOMAXPROCS = 4, EV_PROC_START = 5, EV_PROC_STOP = 6,
    EV_GO_CREATE = 13, EV_GO_START = 14, EV_GO_END = 15, EV_GO_STOP = 16, EV_GO_SCHED = 17,
    EV_GO_PREEMPT = 18, EV_GO_SLEEP = 19, EV_GO_BLOCK = 20, EV_GO_UNBLOCK = 21,
    EV_GO_BLOCK_SEND = 22, EV_GO_BLOCK_RECV = 23, EV_GO_BLOCK_SELECT = 24,
    EV_GO_BLOCK_SYNC = 25, EV_GO_BLOCK_COND = 26, EV_GO_BLOCK_NET = 27, EV_GO_SYSCALL = 28,
    EV_GO_SYS_EXIT = 29, EV_GO_SYS_BLOCK = 30, EV_GO_WAITING = 31, EV_GO_IN_SYSCALL = 32,
    EV_HEAP_ALLOC = 33, EV_HEAP_GOAL = 34, EV_GO_START_LABEL = 41, EV_USER_TASK_CREATE = 45,
    EV_USER_TASK_END = 46, EV_USER_REGION = 47, EV_USER_LOG = 48, EV_CPU_SAMPLE = 49,
};

#define TICKS_PER_SECOND 1000000000ULL

/* How an event relates to goroutines (for the per-G causal clamp and the P's current G). */
enum g_role {
    G_NONE,     /* no goroutine state change */
    G_EXPLICIT, /* args[0] is a G whose state changes: ts ≥ its last change */
    G_CREATE,   /* args[0] is a new G: record its creation time */
    G_START,    /* as G_EXPLICIT, and the G becomes the P's current G */
    G_LEAVE,    /* the P's current G stops running (block, end, sched...) */
};

/* One P: its open batch (starts with EvBatch when non-empty) and its clock. */
struct proc {
    struct gt_buf batch;
    uint64_t last_ts; /* time of this P's latest event, across batches */
    uint64_t cur_g;   /* G last started here, 0 = none */
    bool seen;        /* an event was encoded for this P */
};

/* Time of each G's latest state change; open addressing by g (g 0 never stored). */
struct gclock {
    uint64_t g;
    uint64_t ts;
};

struct gotrace_writer {
    gotrace_write_fn write;
    void *ctx;
    int err;
    bool finished;
    bool causal; /* per-G clamp on (gotrace_writer_clamp_causality) */
    struct proc **procs; /* by P id, NULL until used */
    size_t nprocs;
    struct proc *no_p; /* GOTRACE_NO_P */
    struct gclock *gclocks;
    size_t ngclocks, gclocks_cap;
    struct gt_buf samples; /* CPUSample records, without their batch header */
    uint64_t max_ts;
    struct gt_tables tables;
    struct gotrace_stats stats;
};

/* ---- output ------------------------------------------------------------------------------ */

static int out_write(struct gotrace_writer *w, const void *data, size_t size)
{
    int rc = w->write(w->ctx, data, size);
    if (rc) {
        w->err = rc < 0 ? rc : LTPROF_ERR_IO;
        return w->err;
    }
    w->stats.bytes += size;
    return LTPROF_OK;
}

static size_t batch_header(uint8_t *out, uint64_t p, uint64_t ts)
{
    out[0] = EV_BATCH | 1 << 6;
    size_t n = 1 + gt_uvarint_put(out + 1, p);
    return n + gt_uvarint_put(out + n, ts);
}

static int proc_flush(struct gotrace_writer *w, struct proc *pr)
{
    if (!pr || pr->batch.len == 0)
        return LTPROF_OK;
    int rc = out_write(w, pr->batch.data, pr->batch.len);
    pr->batch.len = 0;
    return rc;
}

/* Start or reuse P `p`'s state; NULL with *rc set on failure. */
static struct proc *proc_get(struct gotrace_writer *w, uint64_t p, int *rc)
{
    struct proc **slot;
    if (p == GOTRACE_NO_P) {
        slot = &w->no_p;
    } else if (p < GOTRACE_MAX_P) {
        if (p >= w->nprocs) {
            size_t n = w->nprocs ? w->nprocs : 8;
            while (n <= p)
                n *= 2;
            struct proc **procs = cv_realloc(w->procs, n * sizeof(*procs));
            if (!procs) {
                *rc = LTPROF_ERR_NOMEM;
                return NULL;
            }
            memset(procs + w->nprocs, 0, (n - w->nprocs) * sizeof(*procs));
            w->procs = procs;
            w->nprocs = n;
        }
        slot = &w->procs[p];
    } else {
        *rc = LTPROF_ERR_INVALID;
        return NULL;
    }
    if (!*slot) {
        *slot = cv_malloc(sizeof(**slot));
        if (!*slot) {
            *rc = LTPROF_ERR_NOMEM;
            return NULL;
        }
        memset(*slot, 0, sizeof(**slot));
    }
    return *slot;
}

/* ---- per-G clock ------------------------------------------------------------------------- */

static struct gclock *gclock_slot(struct gclock *tab, size_t cap, uint64_t g)
{
    size_t s = cv_hash_bytes(&g, sizeof(g), 5) & (cap - 1);
    while (tab[s].g && tab[s].g != g)
        s = (s + 1) & (cap - 1);
    return &tab[s];
}

/* The clock entry of `g` (created at ts 0), NULL when out of memory. */
static struct gclock *gclock_get(struct gotrace_writer *w, uint64_t g)
{
    if ((w->ngclocks + 1) * 2 > w->gclocks_cap) {
        size_t cap = w->gclocks_cap ? w->gclocks_cap * 2 : 64;
        struct gclock *tab = cv_malloc(cap * sizeof(*tab));
        if (!tab)
            return NULL;
        memset(tab, 0, cap * sizeof(*tab));
        for (size_t i = 0; i < w->gclocks_cap; i++)
            if (w->gclocks[i].g)
                *gclock_slot(tab, cap, w->gclocks[i].g) = w->gclocks[i];
        free(w->gclocks);
        w->gclocks = tab;
        w->gclocks_cap = cap;
    }
    struct gclock *e = gclock_slot(w->gclocks, w->gclocks_cap, g);
    if (!e->g) {
        e->g = g;
        e->ts = 0;
        w->ngclocks++;
    }
    return e;
}

/* ---- encoding ---------------------------------------------------------------------------- */

/*
 * Encode byte0 and the values (canonical form: inline for 1-3 values, length-prefixed for 4 or
 * more) into `out` (room for 2 + 11 × 10 bytes); returns the length.
 */
static size_t encode_record(uint8_t *out, uint8_t type, const uint64_t *vals, size_t nvals)
{
    if (nvals <= 3) {
        out[0] = (uint8_t)(type | (nvals - 1) << 6);
        size_t n = 1;
        for (size_t i = 0; i < nvals; i++)
            n += gt_uvarint_put(out + n, vals[i]);
        return n;
    }
    uint8_t payload[11 * 10];
    size_t plen = 0;
    for (size_t i = 0; i < nvals; i++)
        plen += gt_uvarint_put(payload + plen, vals[i]);
    out[0] = (uint8_t)(type | 3 << 6);
    size_t n = 1 + gt_uvarint_put(out + 1, plen);
    memcpy(out + n, payload, plen);
    return n + plen;
}

/* Raise `*ts` to the P's clock and, for events naming a G, to that G's last state change. */
static int clamp_time(struct gotrace_writer *w, struct proc *pr, enum g_role role,
                      uint64_t g, uint64_t *ts)
{
    bool clamped = false;
    if (pr->seen && *ts < pr->last_ts) {
        *ts = pr->last_ts;
        clamped = true;
    }
    uint64_t who = role == G_LEAVE ? pr->cur_g : g;
    if (w->causal && role != G_NONE && who != 0) {
        struct gclock *gc = gclock_get(w, who);
        if (!gc)
            return LTPROF_ERR_NOMEM;
        if (role != G_CREATE && *ts < gc->ts) {
            *ts = gc->ts;
            clamped = true;
        }
        gc->ts = *ts;
    }
    w->stats.clamped += clamped;
    return LTPROF_OK;
}

/*
 * Append one timed record to P `p`'s batch: values = (dt, args...), then for UserLog the
 * inline message. Starts a batch when none is open, writes the open one out first when the
 * record would push it past GOTRACE_BATCH_BYTES.
 */
static int emit(struct gotrace_writer *w, uint64_t p, uint8_t type, uint64_t ts, enum g_role role,
                const uint64_t *args, size_t nargs, const char *msg, size_t msg_len)
{
    uint64_t vals[8];
    uint8_t rec[2 + 11 * 10 + 10];
    int rc = LTPROF_OK;
    struct proc *pr;

    if (w->err)
        return w->err;
    if (w->finished || (p >= GOTRACE_MAX_P && p != GOTRACE_NO_P))
        return LTPROF_ERR_INVALID; /* misuse, not sticky */
    if (!(pr = proc_get(w, p, &rc)))
        goto fail;
    if ((rc = clamp_time(w, pr, role, nargs ? args[0] : 0, &ts)))
        goto fail;
    if (nargs)
        memcpy(vals + 1, args, nargs * sizeof(*args));
    /* worst case size with a 10-byte dt decides whether the batch must be written first */
    vals[0] = UINT64_MAX;
    size_t worst = encode_record(rec, type, vals, nargs + 1) + 10 + msg_len;
    if (pr->batch.len && pr->batch.len + worst > GOTRACE_BATCH_BYTES &&
        (rc = proc_flush(w, pr)))
        return rc;
    if ((rc = gt_buf_reserve(&pr->batch, 24 + worst)))
        goto fail;
    if (pr->batch.len == 0) {
        pr->batch.len = batch_header(pr->batch.data, p, ts);
        pr->last_ts = ts;
        w->stats.batches++;
    }
    vals[0] = ts - pr->last_ts;
    size_t n = encode_record(rec, type, vals, nargs + 1);
    if (type == EV_USER_LOG)
        n += gt_uvarint_put(rec + n, msg_len);
    memcpy(pr->batch.data + pr->batch.len, rec, n);
    if (msg_len)
        memcpy(pr->batch.data + pr->batch.len + n, msg, msg_len);
    pr->batch.len += n + msg_len;
    pr->last_ts = ts;
    pr->seen = true;
    if (role == G_START)
        pr->cur_g = args[0];
    else if (role == G_LEAVE)
        pr->cur_g = 0;
    if (ts > w->max_ts)
        w->max_ts = ts;
    w->stats.events++;
    return LTPROF_OK;
fail:
    w->err = rc;
    return rc;
}

/* ---- lifecycle --------------------------------------------------------------------------- */

struct gotrace_writer *gotrace_writer_create(gotrace_write_fn write, void *ctx)
{
    static const char header[16] = "go 1.19 trace\0\0";
    struct gotrace_writer *w;
    if (!write || !(w = cv_malloc(sizeof(*w))))
        return NULL;
    memset(w, 0, sizeof(*w));
    w->write = write;
    w->ctx = ctx;
    if (out_write(w, header, sizeof(header))) {
        gotrace_writer_destroy(w);
        return NULL;
    }
    return w;
}

void gotrace_writer_destroy(struct gotrace_writer *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->nprocs; i++) {
        if (w->procs[i])
            free(w->procs[i]->batch.data);
        free(w->procs[i]);
    }
    if (w->no_p)
        free(w->no_p->batch.data);
    free(w->no_p);
    free(w->procs);
    free(w->gclocks);
    free(w->samples.data);
    gt_tables_fini(&w->tables);
    free(w);
}

void gotrace_writer_clamp_causality(struct gotrace_writer *w, bool on)
{
    w->causal = on;
}

int gotrace_writer_error(const struct gotrace_writer *w)
{
    return w->err;
}

void gotrace_writer_stats(const struct gotrace_writer *w, struct gotrace_stats *out)
{
    *out = w->stats;
    out->strings = w->tables.nstrings;
    out->stacks = w->tables.nstacks;
}

int gotrace_writer_flush_proc(struct gotrace_writer *w, uint64_t p)
{
    if (w->err)
        return w->err;
    if (p == GOTRACE_NO_P)
        return proc_flush(w, w->no_p);
    return proc_flush(w, p < w->nprocs ? w->procs[p] : NULL);
}

/* Write the CPU samples as a batch of P 0 (they carry their own time, P and G). */
static int samples_flush(struct gotrace_writer *w)
{
    uint8_t head[24];
    int rc;
    if (w->samples.len == 0)
        return LTPROF_OK;
    w->stats.batches++;
    if ((rc = out_write(w, head, batch_header(head, 0, w->max_ts))) ||
        (rc = out_write(w, w->samples.data, w->samples.len)))
        return rc;
    w->samples.len = 0;
    return LTPROF_OK;
}

/* gt_tables_write's callback: write the table batch so far and open a new one. */
static int tables_flush(void *ctx, struct gt_buf *out)
{
    struct gotrace_writer *w = ctx;
    int rc = out_write(w, out->data, out->len);
    if (rc)
        return rc;
    out->len = batch_header(out->data, 0, w->max_ts);
    w->stats.batches++;
    return LTPROF_OK;
}

int gotrace_writer_finish(struct gotrace_writer *w)
{
    struct gt_buf out = {0};
    uint8_t rec[16];
    int rc;

    if (w->err)
        return w->err;
    if (w->finished)
        return LTPROF_ERR_INVALID;
    w->finished = true;
    if ((rc = proc_flush(w, w->no_p)))
        goto end;
    for (size_t i = 0; i < w->nprocs; i++)
        if ((rc = proc_flush(w, w->procs[i])))
            goto end;
    if ((rc = samples_flush(w)))
        goto end;
    /* EvFrequency must follow a batch header (newer readers); write an empty batch if needed */
    size_t n = w->stats.batches ? 0 : batch_header(rec, 0, w->max_ts);
    w->stats.batches += n != 0;
    rec[n] = EV_FREQUENCY;
    n += 1 + gt_uvarint_put(rec + n + 1, TICKS_PER_SECOND);
    if ((rc = out_write(w, rec, n)))
        goto end;
    if (w->tables.nstrings + w->tables.nstacks == 0)
        goto end;
    if ((rc = gt_buf_reserve(&out, 64)))
        goto end;
    out.len = batch_header(out.data, 0, w->max_ts);
    w->stats.batches++;
    if ((rc = gt_tables_write(&w->tables, &out, tables_flush, w)))
        goto end;
    rc = out_write(w, out.data, out.len);
end:
    free(out.data);
    if (rc)
        w->err = rc;
    return rc;
}

/* ---- tables ------------------------------------------------------------------------------ */

uint64_t gotrace_string(struct gotrace_writer *w, const char *s)
{
    uint64_t id;
    bool truncated;
    if (w->err)
        return 0;
    int rc = gt_string_intern(&w->tables, s, &id, &truncated);
    if (rc) {
        w->err = rc;
        return 0;
    }
    w->stats.strings_truncated += truncated;
    return id;
}

uint64_t gotrace_stack(struct gotrace_writer *w, const struct gotrace_frame *frames, size_t n)
{
    uint64_t id, fake;
    size_t kept;
    if (w->err || n == 0 || !frames)
        return 0;
    int rc = gt_stack_intern(&w->tables, frames, n, &id, &kept, &fake);
    if (rc) {
        w->err = rc;
        return 0;
    }
    w->stats.stacks_truncated += kept < n;
    w->stats.fake_pcs += fake;
    return id;
}

uint64_t gotrace_stack_reserve(struct gotrace_writer *w)
{
    uint64_t id = 0;
    if (w->err)
        return 0;
    int rc = gt_stack_reserve(&w->tables, &id);
    if (rc)
        w->err = rc;
    return rc ? 0 : id;
}

int gotrace_stack_fill(struct gotrace_writer *w, uint64_t id, const struct gotrace_frame *frames,
                       size_t n)
{
    size_t kept = 0;
    uint64_t fake = 0;
    if (w->err)
        return w->err;
    int rc = gt_stack_fill(&w->tables, id, frames, n, &kept, &fake);
    if (rc) {
        if (rc != LTPROF_ERR_INVALID) /* a wrong id is the caller's: the trace is still fine */
            w->err = rc;
        return rc;
    }
    w->stats.stacks_truncated += kept < n;
    w->stats.fake_pcs += fake;
    return 0;
}

/* ---- events ------------------------------------------------------------------------------ */

#define EMIT(w, p, type, ts, role, ...)                                                           \
    emit(w, p, type, ts, role, (const uint64_t[]){__VA_ARGS__},                                   \
         sizeof((const uint64_t[]){__VA_ARGS__}) / sizeof(uint64_t), NULL, 0)

int gotrace_proc_start(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t thread)
{
    return EMIT(w, p, EV_PROC_START, ts, G_NONE, thread);
}

int gotrace_proc_stop(struct gotrace_writer *w, uint64_t p, uint64_t ts)
{
    return emit(w, p, EV_PROC_STOP, ts, G_NONE, NULL, 0, NULL, 0);
}

int gotrace_gomaxprocs(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t procs,
                       uint64_t stk)
{
    return EMIT(w, p, EV_GOMAXPROCS, ts, G_NONE, procs, stk);
}

int gotrace_go_create(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t g,
                      uint64_t new_stk, uint64_t stk)
{
    return EMIT(w, p, EV_GO_CREATE, ts, G_CREATE, g, new_stk, stk);
}

int gotrace_go_start(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t g, uint64_t seq)
{
    return EMIT(w, p, EV_GO_START, ts, G_START, g, seq);
}

int gotrace_go_start_label(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t g,
                           uint64_t seq, uint64_t label_str)
{
    return EMIT(w, p, EV_GO_START_LABEL, ts, G_START, g, seq, label_str);
}

int gotrace_go_end(struct gotrace_writer *w, uint64_t p, uint64_t ts)
{
    return emit(w, p, EV_GO_END, ts, G_LEAVE, NULL, 0, NULL, 0);
}

int gotrace_go_sys_block(struct gotrace_writer *w, uint64_t p, uint64_t ts)
{
    return emit(w, p, EV_GO_SYS_BLOCK, ts, G_LEAVE, NULL, 0, NULL, 0);
}

/* The events whose only argument is a stack and that end the current G's run. */
#define LEAVE_EVENT(name, type)                                                                   \
    int name(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t stk)                     \
    {                                                                                             \
        return EMIT(w, p, type, ts, G_LEAVE, stk);                                                \
    }
LEAVE_EVENT(gotrace_go_stop, EV_GO_STOP)
LEAVE_EVENT(gotrace_go_sched, EV_GO_SCHED)
LEAVE_EVENT(gotrace_go_preempt, EV_GO_PREEMPT)
LEAVE_EVENT(gotrace_go_sleep, EV_GO_SLEEP)
LEAVE_EVENT(gotrace_go_block, EV_GO_BLOCK)
LEAVE_EVENT(gotrace_go_block_send, EV_GO_BLOCK_SEND)
LEAVE_EVENT(gotrace_go_block_recv, EV_GO_BLOCK_RECV)
LEAVE_EVENT(gotrace_go_block_select, EV_GO_BLOCK_SELECT)
LEAVE_EVENT(gotrace_go_block_sync, EV_GO_BLOCK_SYNC)
LEAVE_EVENT(gotrace_go_block_cond, EV_GO_BLOCK_COND)
LEAVE_EVENT(gotrace_go_block_net, EV_GO_BLOCK_NET)

int gotrace_go_syscall(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t stk)
{
    return EMIT(w, p, EV_GO_SYSCALL, ts, G_NONE, stk);
}

int gotrace_go_unblock(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t g,
                       uint64_t seq, uint64_t stk)
{
    return EMIT(w, p, EV_GO_UNBLOCK, ts, G_EXPLICIT, g, seq, stk);
}

int gotrace_go_sys_exit(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t g,
                        uint64_t seq, uint64_t real_ts)
{
    return EMIT(w, p, EV_GO_SYS_EXIT, ts, G_EXPLICIT, g, seq, real_ts);
}

int gotrace_go_waiting(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t g)
{
    return EMIT(w, p, EV_GO_WAITING, ts, G_EXPLICIT, g);
}

int gotrace_go_in_syscall(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t g)
{
    return EMIT(w, p, EV_GO_IN_SYSCALL, ts, G_EXPLICIT, g);
}

int gotrace_heap_alloc(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t bytes)
{
    return EMIT(w, p, EV_HEAP_ALLOC, ts, G_NONE, bytes);
}

int gotrace_heap_goal(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t bytes)
{
    return EMIT(w, p, EV_HEAP_GOAL, ts, G_NONE, bytes);
}

int gotrace_user_task_create(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t task,
                             uint64_t parent, uint64_t name_str, uint64_t stk)
{
    return EMIT(w, p, EV_USER_TASK_CREATE, ts, G_NONE, task, parent, name_str, stk);
}

int gotrace_user_task_end(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t task,
                          uint64_t stk)
{
    return EMIT(w, p, EV_USER_TASK_END, ts, G_NONE, task, stk);
}

int gotrace_user_region(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t task,
                        uint64_t mode, uint64_t name_str, uint64_t stk)
{
    if (mode > 1)
        return w->err ? w->err : LTPROF_ERR_INVALID;
    return EMIT(w, p, EV_USER_REGION, ts, G_NONE, task, mode, name_str, stk);
}

int gotrace_user_log(struct gotrace_writer *w, uint64_t p, uint64_t ts, uint64_t task,
                     uint64_t key_str, uint64_t stk, const char *message)
{
    const uint64_t args[] = {task, key_str, stk};
    size_t len = message ? strlen(message) : 0;
    if (len > GOTRACE_LOG_MAX_BYTES)
        len = GOTRACE_LOG_MAX_BYTES;
    return emit(w, p, EV_USER_LOG, ts, G_NONE, args, 3, message, len);
}

int gotrace_cpu_sample(struct gotrace_writer *w, uint64_t ts, uint64_t p, uint64_t g,
                       uint64_t stk)
{
    const uint64_t vals[] = {0, ts, p, g, stk}; /* dt 0: the sample's time is `ts` */
    uint8_t rec[2 + 11 * 10];
    int rc;
    if (w->err)
        return w->err;
    if (w->finished)
        return LTPROF_ERR_INVALID;
    size_t n = encode_record(rec, EV_CPU_SAMPLE, vals, 5);
    if (w->samples.len + n + 24 > GOTRACE_BATCH_BYTES && (rc = samples_flush(w)))
        return rc;
    if ((rc = gt_buf_reserve(&w->samples, n))) {
        w->err = rc;
        return rc;
    }
    memcpy(w->samples.data + w->samples.len, rec, n);
    w->samples.len += n;
    if (ts > w->max_ts)
        w->max_ts = ts;
    w->stats.events++;
    return LTPROF_OK;
}
