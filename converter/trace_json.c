/* SPDX-License-Identifier: MIT */
/*
 * The Chrome/Perfetto JSON output of the timeline (timeline.h, struct tl_ops): the trace-event
 * format that ui.perfetto.dev and chrome://tracing open. One track per thread (pid, tid) with
 * a slice per state (running, runnable, waiting on what, in which call), flow arrows from
 * creators and wakers, CPU samples as instants, tasks and regions as async spans, log messages
 * as instants and the heap as a counter. Written as it goes: memory holds one open slice per
 * thread and the JSON text of each distinct stack.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeline.h"

#define STACK_TEXT_MAX 8192 /* bytes of a stack's JSON array */

/* The open slice of a thread. */
struct js_thread {
    char state[64];    /* slice name */
    uint64_t since;
    uint32_t stack;    /* its stack (waits), 0 = none */
    int cpu;           /* running: the CPU it came on, -1 unknown */
    uint64_t flow_in;  /* flow id ending at this slice, 0 = none */
    const char *flow_name;
    bool open;
};

/* The JSON text of one stack, in `text` at `offset`. */
struct js_stack {
    uint64_t hash;
    uint32_t stack;
    size_t offset, len;
};

struct js_out {
    struct cv_state *st;
    FILE *file;
    char *path;
    int io_errno;
    uint64_t t0;
    bool first;
    struct cv_vec threads; /* struct js_thread, by tl_thread index */
    uint64_t next_flow;
    struct cv_vec stacks;  /* struct js_stack */
    struct cv_index stack_index;
    struct cv_vec text;    /* char: the stacks' JSON */
    struct cv_vec pids;    /* int64_t processes named already */
    struct cv_symbolized sym;
    char buf[STACK_TEXT_MAX];
};

/* ---- writing ------------------------------------------------------------------------------- */

/* Microseconds since the trace began, with nanosecond decimals. */
static void put_ts(struct js_out *o, const char *key, uint64_t ts)
{
    uint64_t rel = ts > o->t0 ? ts - o->t0 : 0;
    fprintf(o->file, ",\"%s\":%" PRIu64 ".%03" PRIu64, key, rel / 1000, rel % 1000);
}

/* Starts an event object: {"ph":..,"pid":..,"tid":..,"ts":.. */
static void begin_event(struct js_out *o, const char *ph, const struct tl_thread *t, uint64_t ts)
{
    fputs(o->first ? "\n{" : ",\n{", o->file);
    o->first = false;
    fprintf(o->file, "\"ph\":\"%s\",\"pid\":%" PRId64 ",\"tid\":%u", ph, t->pid, t->tid);
    put_ts(o, "ts", ts);
}

static int end_event(struct js_out *o)
{
    fputc('}', o->file);
    if (ferror(o->file)) {
        o->io_errno = errno ? errno : EIO;
        return LTPROF_ERR_IO;
    }
    return 0;
}

/* Length of the well-formed UTF-8 sequence at p (1 to 4), or 0 when it is not one (stray
 * continuation byte, overlong form, surrogate, beyond U+10FFFF, cut short by the end). */
static size_t utf8_len(const unsigned char *p)
{
    if (p[0] < 0x80)
        return 1;
    size_t n = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
    if (n == 0 || p[0] > 0xf4)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80) /* also stops at the terminating NUL */
            return 0;
    if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) ||
        (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))
        return 0;
    return n;
}

/* JSON text of the character at *p (at most 6 bytes, not terminated) and its length; *p moves
 * past it. Names and messages come from the traced program as any bytes; JSON must be UTF-8,
 * so a byte that does not start a well-formed sequence becomes U+FFFD, as Go's encoding/json
 * does. */
static size_t json_char(const unsigned char **p, char out[8])
{
    const unsigned char *c = *p;
    size_t n = utf8_len(c);
    *p += n ? n : 1;
    if (*c == '"' || *c == '\\') {
        out[0] = '\\', out[1] = (char)*c;
        return 2;
    }
    if (*c < 0x20)
        return (size_t)snprintf(out, 8, "\\u%04x", *c);
    if (n == 0)
        return (size_t)snprintf(out, 8, "\\ufffd");
    memcpy(out, c, n);
    return n;
}

static void put_str(struct js_out *o, const char *s)
{
    char text[8];
    fputc('"', o->file);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p;) {
        size_t n = json_char(&p, text);
        fwrite(text, 1, n, o->file);
    }
    fputc('"', o->file);
}

/* Appends `s` JSON-escaped to buf at *len (truncating at the end of buf). */
static void buf_str(char *buf, size_t cap, size_t *len, const char *s)
{
    if (*len + 2 >= cap)
        return;
    buf[(*len)++] = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p && *len + 8 < cap;) {
        char text[8];
        size_t n = json_char(&p, text);
        memcpy(buf + *len, text, n);
        *len += n;
    }
    buf[(*len)++] = '"';
}

struct jkey {
    const struct js_out *o;
    uint32_t stack;
};

static bool jstack_eq(const void *ctx, size_t pos)
{
    const struct jkey *k = ctx;
    return CV_VEC_AT(&k->o->stacks, struct js_stack, pos)->stack == k->stack;
}

static uint64_t jstack_rehash(const void *ctx, size_t pos)
{
    return CV_VEC_AT(&((const struct js_out *)ctx)->stacks, struct js_stack, pos)->hash;
}

/* Writes ,"stack":["fn file:line",...] for cv_stack `stack` (nothing for 0). */
static void put_stack(struct js_out *o, uint32_t stack)
{
    if (!stack)
        return;
    struct jkey k = {o, stack};
    uint64_t h = cv_hash_bytes(&stack, sizeof(stack), 5);
    size_t pos = cv_index_find(&o->stack_index, h, jstack_eq, &k);
    if (pos == SIZE_MAX) {
        const struct cv_stack *s = cv_stack_get(&o->st->stacks, stack);
        size_t len = 0;
        o->buf[len++] = '[';
        if (s && cv_stack_symbolize(o->st, s, &o->sym) == 0) {
            for (size_t i = 0; i < o->sym.n && len + 64 < sizeof(o->buf); i++) {
                char frame[1024];
                const struct cv_frame *f = &o->sym.frames[i];
                if (f->file)
                    snprintf(frame, sizeof(frame), "%s %s:%d", f->function, f->file, f->line);
                else
                    snprintf(frame, sizeof(frame), "%s", f->function);
                if (i)
                    o->buf[len++] = ',';
                buf_str(o->buf, sizeof(o->buf) - 2, &len, frame);
            }
        }
        o->buf[len++] = ']';
        size_t off = cv_vec_append(&o->text, o->buf, len);
        struct js_stack *js = off == SIZE_MAX ? NULL : cv_vec_push(&o->stacks);
        if (!js) {
            fprintf(o->file, ",\"stack\":%.*s", (int)len, o->buf);
            return;
        }
        *js = (struct js_stack){h, stack, off, len};
        pos = o->stacks.len - 1;
        if (cv_index_insert(&o->stack_index, h, pos, jstack_rehash, o) != 0)
            o->stacks.len--;
    }
    const struct js_stack *js = CV_VEC_AT(&o->stacks, struct js_stack, pos);
    fprintf(o->file, ",\"stack\":%.*s", (int)js->len, CV_VEC_AT(&o->text, char, js->offset));
}

static struct js_thread *jt(struct js_out *o, const struct tl_thread *t)
{
    return t->index < o->threads.len ? CV_VEC_AT(&o->threads, struct js_thread, t->index) : NULL;
}

/* Ends the thread's open slice at `ts` (with `waker` when a wake ends it). */
static int close_slice(struct js_out *o, const struct tl_thread *t, uint64_t ts,
                       const struct tl_thread *waker)
{
    struct js_thread *j = jt(o, t);
    if (!j || !j->open)
        return 0;
    j->open = false;
    if (ts <= j->since && !waker)
        return 0; /* an empty slice (runnable and running at once): nothing to show */
    begin_event(o, "X", t, j->since);
    fputs(",\"cat\":\"state\",\"name\":", o->file);
    put_str(o, j->state);
    uint64_t dur = ts > j->since ? ts - j->since : 0;
    fprintf(o->file, ",\"dur\":%" PRIu64 ".%03" PRIu64 ",\"args\":{\"tid\":%u", dur / 1000,
            dur % 1000, t->tid);
    if (j->cpu >= 0)
        fprintf(o->file, ",\"cpu\":%d", j->cpu);
    if (waker) {
        fputs(",\"woken by\":", o->file);
        char who[96];
        snprintf(who, sizeof(who), "%s [tid %u]", waker->name, waker->tid);
        put_str(o, who);
    }
    put_stack(o, j->stack);
    fputc('}', o->file);
    return end_event(o);
}

static int open_slice(struct js_out *o, const struct tl_thread *t, uint64_t ts, const char *state,
                      uint32_t stack, int cpu)
{
    struct js_thread *j = jt(o, t);
    if (!j)
        return LTPROF_ERR_INVALID;
    snprintf(j->state, sizeof(j->state), "%s", state);
    j->since = ts;
    j->stack = stack;
    j->cpu = cpu;
    j->open = true;
    if (j->flow_in) { /* the arrow of the wake or creation that led here */
        begin_event(o, "f", t, ts);
        fprintf(o->file, ",\"cat\":\"flow\",\"name\":\"%s\",\"bp\":\"e\",\"id\":%" PRIu64,
                j->flow_name, j->flow_in);
        j->flow_in = 0;
        return end_event(o);
    }
    return 0;
}

/* An arrow from `from` at `ts` to `to`'s next slice. */
static int flow_start(struct js_out *o, const struct tl_thread *from, uint64_t ts,
                      const struct tl_thread *to, const char *name)
{
    uint64_t id = ++o->next_flow;
    begin_event(o, "s", from, ts);
    fputs(",\"cat\":\"flow\",\"name\":", o->file);
    put_str(o, name);
    fprintf(o->file, ",\"id\":%" PRIu64, id);
    struct js_thread *j = jt(o, to);
    if (j) {
        j->flow_in = id;
        j->flow_name = name;
    }
    return end_event(o);
}

static int name_thread(struct js_out *o, const struct tl_thread *t)
{
    begin_event(o, "M", t, o->t0);
    fputs(",\"name\":\"thread_name\",\"args\":{\"name\":", o->file);
    put_str(o, t->name);
    fputc('}', o->file);
    return end_event(o);
}

/* ---- tl_ops ----------------------------------------------------------------------------------- */

static int js_begin(void *ctx, uint64_t t0)
{
    struct js_out *o = ctx;
    o->t0 = t0;
    return 0;
}

static const char *stop_name(enum tl_stop why, const char *detail, char *buf, size_t size)
{
    switch (why) {
    case TL_STOP_PREEMPT: return "runnable (preempted)";
    case TL_STOP_OFFCPU: return detail ? detail : "off CPU";
    case TL_STOP_SLEEP: snprintf(buf, size, "sleep: %s", detail); return buf;
    case TL_STOP_SYSCALL: snprintf(buf, size, "syscall: %s", detail); return buf;
    default: snprintf(buf, size, "blocked: %s", detail ? detail : "?"); return buf;
    }
}

static int js_thread_new(void *ctx, const struct tl_thread *t, uint64_t ts,
                         const struct tl_thread *creator, uint64_t create_ts, uint32_t create_stack,
                         uint64_t start_fn, bool waiting)
{
    struct js_out *o = ctx;
    int rc;
    (void)create_stack;
    (void)start_fn;
    while (o->threads.len <= t->index)
        if (!cv_vec_push(&o->threads))
            return LTPROF_ERR_NOMEM;
    bool named = false;
    for (size_t i = 0; i < o->pids.len; i++)
        named = named || *CV_VEC_AT(&o->pids, int64_t, i) == t->pid;
    if (!named) {
        int64_t *slot = cv_vec_push(&o->pids);
        if (!slot)
            return LTPROF_ERR_NOMEM;
        *slot = t->pid;
        begin_event(o, "M", t, o->t0);
        fprintf(o->file, ",\"name\":\"process_name\",\"args\":{\"name\":\"process %" PRId64 "\"}",
                t->pid);
        if ((rc = end_event(o)))
            return rc;
    }
    if ((rc = name_thread(o, t)))
        return rc;
    if (creator && (rc = flow_start(o, creator, create_ts, t, "pthread_create")))
        return rc;
    if (waiting)
        return open_slice(o, t, ts, "waiting (since before the trace)", 0, -1);
    return 0;
}

static int js_thread_renamed(void *ctx, const struct tl_thread *t)
{
    return name_thread(ctx, t);
}

static int js_run(void *ctx, const struct tl_thread *t, uint64_t ts, int cpu)
{
    struct js_out *o = ctx;
    int rc = close_slice(o, t, ts, NULL);
    return rc ? rc : open_slice(o, t, ts, "running", 0, cpu);
}

static int js_stop(void *ctx, const struct tl_thread *t, uint64_t ts, enum tl_stop why,
                   uint32_t stack, const char *detail, uint64_t addr)
{
    struct js_out *o = ctx;
    char buf[96];
    (void)addr;
    int rc = close_slice(o, t, ts, NULL);
    return rc ? rc : open_slice(o, t, ts, stop_name(why, detail, buf, sizeof(buf)), stack, -1);
}

static int js_wake(void *ctx, const struct tl_thread *t, uint64_t ts, enum tl_stop from,
                   const struct tl_thread *waker, uint64_t waker_ts, const char *how,
                   uint32_t stack)
{
    struct js_out *o = ctx;
    int rc;
    (void)stack;
    (void)how;
    if (from == TL_STOP_PREEMPT)
        return 0;
    if ((rc = close_slice(o, t, ts, waker)))
        return rc;
    if (waker && (rc = flow_start(o, waker, waker_ts, t, "wake")))
        return rc;
    return open_slice(o, t, ts, "runnable", 0, -1);
}

static int js_thread_end(void *ctx, const struct tl_thread *t, uint64_t ts)
{
    struct js_out *o = ctx;
    int rc = close_slice(o, t, ts, NULL);
    if (rc)
        return rc;
    begin_event(o, "i", t, ts);
    fputs(",\"s\":\"t\",\"cat\":\"thread\",\"name\":\"thread exit\"", o->file);
    return end_event(o);
}

/* A CPU sample names only its function: samples are many and their stacks mostly distinct,
 * so full stacks would make the file and the stack cache grow with the trace (cpu.pb.gz has
 * them all). */
static int js_cpu_sample(void *ctx, const struct tl_thread *t, uint64_t ts, uint32_t stack)
{
    struct js_out *o = ctx;
    const struct cv_stack *s = cv_stack_get(&o->st->stacks, stack);
    begin_event(o, "i", t, ts);
    fputs(",\"s\":\"t\",\"cat\":\"cpu\",\"name\":\"CPU sample\",\"args\":{\"function\":", o->file);
    put_str(o, s && cv_stack_symbolize_leaf(o->st, s, &o->sym) == 0 && o->sym.n
                   ? o->sym.frames[0].function : "?");
    fputc('}', o->file);
    return end_event(o);
}

static int js_task(void *ctx, const struct tl_thread *t, uint64_t ts, uint64_t task,
                   uint64_t parent, const char *type, bool end, uint32_t stack)
{
    struct js_out *o = ctx;
    begin_event(o, end ? "e" : "b", t, ts);
    fprintf(o->file, ",\"cat\":\"task\",\"id\":\"%" PRId64 ":%" PRIu64 "\",\"name\":", t->pid,
            task);
    put_str(o, type);
    fprintf(o->file, ",\"args\":{\"task\":%" PRIu64 ",\"parent\":%" PRIu64, task, parent);
    put_stack(o, stack);
    fputc('}', o->file);
    return end_event(o);
}

static int js_region(void *ctx, const struct tl_thread *t, uint64_t ts, uint64_t task,
                     const char *type, bool end, uint32_t stack)
{
    struct js_out *o = ctx;
    /* Regions nest per thread: an async track per thread and task keeps them apart from the
     * state slices. */
    begin_event(o, end ? "e" : "b", t, ts);
    fprintf(o->file, ",\"cat\":\"region\",\"id\":\"%" PRId64 ":%u:%" PRIu64 "\",\"name\":", t->pid,
            t->tid, task);
    put_str(o, type);
    fprintf(o->file, ",\"args\":{\"task\":%" PRIu64, task);
    put_stack(o, stack);
    fputc('}', o->file);
    return end_event(o);
}

static int js_log(void *ctx, const struct tl_thread *t, uint64_t ts, uint64_t task,
                  const char *category, const char *message, uint32_t stack)
{
    struct js_out *o = ctx;
    begin_event(o, "i", t, ts);
    fputs(",\"s\":\"t\",\"cat\":\"log\",\"name\":", o->file);
    put_str(o, category);
    fprintf(o->file, ",\"args\":{\"task\":%" PRIu64 ",\"message\":", task);
    put_str(o, message);
    put_stack(o, stack);
    fputc('}', o->file);
    return end_event(o);
}

static int js_heap(void *ctx, const struct tl_thread *t, uint64_t ts, uint64_t bytes)
{
    struct js_out *o = ctx;
    begin_event(o, "C", t, ts);
    fprintf(o->file, ",\"name\":\"heap in use\",\"args\":{\"bytes\":%" PRIu64 "}", bytes);
    return end_event(o);
}

static int js_note(void *ctx, const struct tl_thread *t, uint64_t ts, const char *text)
{
    return js_log(ctx, t, ts, 0, "ltprof", text, 0);
}

static int js_finish(void *ctx, uint64_t end_ts, const struct tl_thread *const *live, size_t n)
{
    struct js_out *o = ctx;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = close_slice(o, live[i], end_ts, NULL);
    if (rc)
        return rc;
    fputs("\n],\"displayTimeUnit\":\"ns\",\"otherData\":{\"producer\":\"ltprof\"}}\n", o->file);
    if (fflush(o->file) != 0 || ferror(o->file)) {
        o->io_errno = errno ? errno : EIO;
        return LTPROF_ERR_IO;
    }
    return 0;
}

static void js_destroy(void *ctx)
{
    struct js_out *o = ctx;
    if (!o)
        return;
    if (o->file)
        fclose(o->file);
    cv_vec_fini(&o->threads);
    cv_vec_fini(&o->stacks);
    cv_vec_fini(&o->text);
    cv_vec_fini(&o->pids);
    cv_index_fini(&o->stack_index);
    free(o->path);
    free(o);
}

static const struct tl_ops js_ops = {
    .name = "JSON trace",
    .begin = js_begin,
    .thread_new = js_thread_new,
    .thread_renamed = js_thread_renamed,
    .run = js_run,
    .stop = js_stop,
    .wake = js_wake,
    .thread_end = js_thread_end,
    .cpu_sample = js_cpu_sample,
    .task = js_task,
    .region = js_region,
    .log = js_log,
    .heap = js_heap,
    .note = js_note,
    .finish = js_finish,
    .destroy = js_destroy,
};

int tl_json_output_create(struct cv_state *st, const char *path, struct tl_output *out,
                          struct ltprof_error *err)
{
    struct js_out *o = cv_calloc(1, sizeof(*o));
    if (!o || !(o->path = cv_strdup(path))) {
        free(o);
        return cv_error(err, LTPROF_ERR_NOMEM, "out of memory");
    }
    o->st = st;
    o->first = true;
    cv_vec_init(&o->threads, sizeof(struct js_thread));
    cv_vec_init(&o->stacks, sizeof(struct js_stack));
    cv_vec_init(&o->text, 1);
    cv_vec_init(&o->pids, sizeof(int64_t));
    if (!(o->file = fopen(path, "w"))) {
        int e = errno;
        js_destroy(o);
        return cv_error(err, LTPROF_ERR_IO, "failed to create \"%s\": %s", path, strerror(e));
    }
    setvbuf(o->file, NULL, _IOFBF, 1 << 20);
    fputs("{\"traceEvents\":[", o->file);
    out->ops = &js_ops;
    out->ctx = o;
    return 0;
}
