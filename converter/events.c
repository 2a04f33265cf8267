/* SPDX-License-Identifier: MIT */
/*
 * Reads events (struct cv_event, internal.h) into the conversion state: the ltprof events of
 * tracer/ltprof_tp.h and LTTng-UST's statedump and library events (for symbols). The events
 * come from babeltrace2 messages (event_reader.c) or from tests and the fuzz target
 * (tests/fuzz/fuzz_events.c); nothing here touches babeltrace2.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "pprof_builder.h"
#include "timeline.h"

#define LTPROF_SCHEMA_SUPPORTED 2 /* and 1: the same without labels */

const struct cv_event_schema cv_event_schemas[] = {
    {"ltprof:process_info", CV_EV_PROCESS_INFO,
     {"schema_version", "pid", "cpu_engine", "cpu_period_ns", NULL}},
    {"ltprof:thread_info", CV_EV_THREAD_INFO, {"tid", "name", NULL}},
    {"ltprof:cpu_sample", CV_EV_CPU_SAMPLE,
     {"tid", "weight_ns", "unwind_status", "stack", "?labels", NULL}},
    {"ltprof:label_set", CV_EV_LABEL_SET, {"id", "pairs", NULL}},
    {"lttng_ust_statedump:bin_info", CV_EV_BIN_INFO, {"baddr", "memsz", "path", NULL}},
    {"lttng_ust_lib:load", CV_EV_BIN_INFO, {"baddr", "memsz", "path", NULL}},
    {"lttng_ust_statedump:build_id", CV_EV_BUILD_ID, {"baddr", "build_id", NULL}},
    {"lttng_ust_lib:build_id", CV_EV_BUILD_ID, {"baddr", "build_id", NULL}},
    {"ltprof:thread_start", CV_EV_THREAD_START,
     {"tid", "pthread", "creator_tid", "create_ns", "start_fn", "name", "stack", NULL}},
    {"ltprof:thread_exit", CV_EV_THREAD_EXIT, {"tid", NULL}},
    {"ltprof:thread_state", CV_EV_THREAD_STATE,
     {"tid", "pthread", "name", "wait", "since_ns", NULL}},
    {"ltprof:trace_info", CV_EV_TRACE_INFO, {"sched_source", "sched_note", "syscall_ns", NULL}},
    {"ltprof:sched_switches", CV_EV_SCHED_SWITCHES, {"tid", "lost", "records", NULL}},
    {"ltprof:wait_begin", CV_EV_WAIT_BEGIN, {"tid", "kind", "addr", "target", "stack", NULL}},
    {"ltprof:wait_end", CV_EV_WAIT_END, {"tid", "kind", "addr", NULL}},
    {"ltprof:wake", CV_EV_WAKE, {"tid", "kind", "addr", "stack", NULL}},
    {"ltprof:syscall", CV_EV_SYSCALL, {"tid", "call", "start_ns", "end_ns", "stack", NULL}},
    {"ltprof:heap", CV_EV_HEAP, {"tid", "in_use_bytes", NULL}},
    {"ltprof:alloc", CV_EV_ALLOC, {"tid", "addr", "size", "rate", "stack", "?labels", NULL}},
    {"ltprof:free", CV_EV_FREE, {"tid", "addr", "size", NULL}},
    {"ltprof:task_create", CV_EV_TASK_CREATE,
     {"task_id", "parent_id", "type", "tid", "stack", NULL}},
    {"ltprof:task_end", CV_EV_TASK_END, {"task_id", "tid", "stack", NULL}},
    {"ltprof:region", CV_EV_REGION, {"task_id", "mode", "type", "tid", "stack", NULL}},
    {"ltprof:log", CV_EV_LOG, {"task_id", "category", "message", "tid", "stack", NULL}},
};
const size_t cv_event_schema_count = sizeof(cv_event_schemas) / sizeof(cv_event_schemas[0]);

/* ---- processes and threads ------------------------------------------------------------------ */

struct cv_process *cv_state_process(struct cv_state *st, int64_t pid)
{
    for (size_t i = 0; i < st->processes.len; i++) {
        struct cv_process *p = CV_VEC_AT(&st->processes, struct cv_process, i);
        if (p->pid == pid)
            return p;
    }
    struct cv_process *p = cv_vec_push(&st->processes);
    if (p)
        p->pid = pid;
    return p;
}

struct thread_key {
    const struct cv_state *st;
    int64_t pid;
    uint32_t tid;
};

static uint64_t thread_hash(int64_t pid, uint32_t tid)
{
    return cv_hash_pair((uint64_t)pid, tid, 0);
}

static bool thread_eq(const void *ctx, size_t pos)
{
    const struct thread_key *k = ctx;
    const struct cv_thread *t = CV_VEC_AT(&k->st->threads, struct cv_thread, pos);
    return t->pid == k->pid && t->tid == k->tid;
}

static uint64_t thread_rehash(const void *ctx, size_t pos)
{
    const struct cv_state *st = ctx;
    const struct cv_thread *t = CV_VEC_AT(&st->threads, struct cv_thread, pos);
    return thread_hash(t->pid, t->tid);
}

static struct cv_thread *thread_find(const struct cv_state *st, int64_t pid, uint32_t tid)
{
    struct thread_key k = {st, pid, tid};
    size_t pos = cv_index_find(&st->thread_index, thread_hash(pid, tid), thread_eq, &k);
    return pos == SIZE_MAX ? NULL : CV_VEC_AT(&st->threads, struct cv_thread, pos);
}

const char *cv_state_thread_name(const struct cv_state *st, int64_t pid, uint32_t tid)
{
    const struct cv_thread *t = thread_find(st, pid, tid);
    return t ? t->name : NULL;
}

struct cv_thread *cv_state_thread(struct cv_state *st, int64_t pid, uint32_t tid)
{
    struct thread_key k = {st, pid, tid};
    uint64_t h = thread_hash(pid, tid);
    size_t pos = cv_index_find(&st->thread_index, h, thread_eq, &k);
    if (pos != SIZE_MAX)
        return CV_VEC_AT(&st->threads, struct cv_thread, pos);
    struct cv_thread *t = cv_vec_push(&st->threads);
    if (!t || cv_index_insert(&st->thread_index, h, st->threads.len - 1, thread_rehash, st)) {
        if (t)
            st->threads.len--;
        return NULL;
    }
    t->pid = pid;
    t->tid = tid;
    return t;
}

static int set_thread_name(struct cv_state *st, int64_t pid, uint32_t tid, const char *name)
{
    char *copy = cv_strdup(name);
    struct cv_thread *t = copy ? cv_state_thread(st, pid, tid) : NULL;
    if (!t) {
        free(copy);
        return LTPROF_ERR_NOMEM;
    }
    free(t->name);
    t->name = copy;
    return 0;
}

/* ---- state lifecycle ------------------------------------------------------------------------ */

uint64_t cv_state_events_read(const struct cv_state *st)
{
    return st->summary.events;
}

struct cv_state *cv_state_create(const char *output_dir, unsigned outputs)
{
    struct cv_state *st = cv_calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    st->outputs = outputs;
    cv_stacks_init(&st->stacks);
    st->output_dir = cv_strdup(output_dir);
    if (!st->output_dir) {
        free(st);
        return NULL;
    }
    cv_vec_init(&st->processes, sizeof(struct cv_process));
    cv_vec_init(&st->threads, sizeof(struct cv_thread));
    return st;
}

int cv_output_dir_make(struct cv_state *st, struct ltprof_error *err)
{
    if (st->output_dir_made)
        return 0;
    if (mkdir(st->output_dir, 0777) != 0 && errno != EEXIST)
        return cv_error(err, LTPROF_ERR_IO, "failed to create output folder \"%s\": %s",
                        st->output_dir, strerror(errno));
    st->output_dir_made = true;
    return 0;
}

/* Ends the timeline's outputs (finishing the files when `finish`) and frees them. */
static int timeline_close(struct cv_state *st, bool finish, struct ltprof_error *err)
{
    int rc = 0;
    if (st->trace_finished)
        return 0; /* written: nothing to close or remove */
    if (st->timeline && finish) {
        struct tl_stats ts;
        rc = tl_finish(st->timeline, (uint64_t)st->last_ns);
        tl_get_stats(st->timeline, &ts);
        st->summary.threads = ts.threads;
        st->summary.waits = ts.waits;
        st->summary.wakers_known = ts.wakers_known;
        st->summary.calls = ts.calls;
        st->summary.switches = ts.switches;
        st->summary.switches_lost = ts.switches_lost;
        st->summary.trace_clamped = ts.clamped;
        if (rc)
            rc = cv_error(err, rc, "failed to write the execution trace: %s",
                          rc == LTPROF_ERR_IO ? strerror(errno) : cv_status_text(rc));
    }
    tl_destroy(st->timeline);
    st->timeline = NULL;
    for (size_t i = 0; i < st->nouts; i++)
        st->outs[i].ops->destroy(st->outs[i].ctx);
    st->nouts = 0;
    if (!finish || rc) { /* a failed conversion leaves no half-written trace behind */
        if (st->summary.trace_path[0])
            unlink(st->summary.trace_path);
        if (st->summary.json_path[0])
            unlink(st->summary.json_path);
        st->summary.trace_path[0] = st->summary.json_path[0] = '\0';
    } else {
        st->trace_finished = true;
    }
    return rc;
}

void cv_state_destroy(struct cv_state *st)
{
    if (!st)
        return;
    timeline_close(st, false, NULL);
    cv_stacks_fini(&st->stacks);
    for (size_t i = 0; i < st->processes.len; i++) {
        struct cv_process *p = CV_VEC_AT(&st->processes, struct cv_process, i);
        for (size_t j = 0; j < p->n_modules; j++)
            free(p->modules[j].path);
        free(p->modules);
        for (size_t j = 0; j < p->n_label_sets; j++)
            free(p->label_sets[j].text);
        free(p->label_sets);
        cv_proc_sym_fini(p);
    }
    for (size_t i = 0; i < CV_PROFILE_COUNT; i++)
        cv_profile_destroy(st->profiles[i]);
    cv_vec_fini(&st->event_counts);
    cv_index_fini(&st->event_index);
    free(st->live);
    for (size_t i = 0; i < st->threads.len; i++) {
        struct cv_thread *t = CV_VEC_AT(&st->threads, struct cv_thread, i);
        free(t->name);
        cv_cpu_counts_fini(&t->cpu);
    }
    cv_event_reader_destroy(st->reader);
    cv_vec_fini(&st->processes);
    cv_vec_fini(&st->threads);
    cv_index_fini(&st->thread_index);
    free(st->output_dir);
    free(st);
}

/* ---- events ------------------------------------------------------------------------------- */

/* A field's integer, string or array (internal.h: what a field of another type reads as). */
#define U64(i) (ev->f[i].u)
#define STR(i) (ev->f[i].s ? ev->f[i].s : "")

static int on_process_info(struct cv_state *st, const struct cv_event *ev,
                           struct ltprof_error *err)
{
    uint32_t version = (uint32_t)U64(0);
    if (version < 1 || version > LTPROF_SCHEMA_SUPPORTED || version != U64(0))
        return cv_error(err, LTPROF_ERR_UNSUPPORTED,
                        "unsupported ltprof event schema version %llu (this ltprof reads "
                        "versions 1 to %u); convert the trace with the ltprof that recorded it",
                        (unsigned long long)U64(0), LTPROF_SCHEMA_SUPPORTED);
    struct cv_process *p = cv_state_process(st, ev->pid);
    if (!p)
        return cv_error(err, LTPROF_ERR_NOMEM, "out of memory while reading events");
    st->seen_process_info = true;
    st->schema_version = version;
    if (!st->cpu_period_ns)
        st->cpu_period_ns = U64(3);
    snprintf(p->cpu_engine, sizeof(p->cpu_engine), "%s", STR(2));
    return 0;
}

/* Names the profiles written in the summary; a failed conversion removes them all. */
static void summarize_profiles(struct cv_state *st, int rc)
{
    struct cv_summary *sm = &st->summary;
    sm->cpu_profile_path[0] = sm->other_profiles[0] = '\0';
    for (size_t i = 0; i < CV_PROFILE_COUNT; i++) {
        if (rc) {
            cv_profile_remove(st->profiles[i]);
            continue;
        }
        const char *path = cv_profile_path(st->profiles[i]);
        if (!path)
            continue;
        if (i == CV_PROFILE_CPU) {
            snprintf(sm->cpu_profile_path, sizeof(sm->cpu_profile_path), "%s", path);
        } else {
            const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
            size_t len = strlen(sm->other_profiles);
            snprintf(sm->other_profiles + len, sizeof(sm->other_profiles) - len, "%s%s",
                     len ? " " : "", name);
        }
    }
}

/* The engine all processes used, or "mixed" when they differ. */
static void summarize_engines(struct cv_state *st)
{
    char *out = st->summary.cpu_engine;
    out[0] = '\0';
    for (size_t i = 0; i < st->processes.len; i++) {
        const char *e = CV_VEC_AT(&st->processes, struct cv_process, i)->cpu_engine;
        if (!e[0] || strcmp(out, e) == 0)
            continue;
        snprintf(out, sizeof(st->summary.cpu_engine), "%s", out[0] ? "mixed" : e);
        if (strcmp(out, "mixed") == 0)
            return;
    }
}

/* Interns a stack field (an array of PCs, at most CV_MAX_FRAMES read) for process `pid`. */
static int stack_field(struct cv_state *st, int64_t pid, const struct cv_field *f,
                       bool exact_leaf, uint32_t *id)
{
    uint32_t n = f->n < CV_MAX_FRAMES ? (uint32_t)f->n : CV_MAX_FRAMES;
    return cv_stack_intern(&st->stacks, pid, f->a, n, exact_leaf, id);
}

/* Interns the sample's stack (shared with the execution trace) and counts it for cpu.pb.gz. */
static int on_cpu_sample(struct cv_state *st, const struct cv_event *ev)
{
    st->summary.cpu_samples++;
    if (U64(2) == 0)
        st->summary.complete_stacks++;
    int rc = stack_field(st, ev->pid, &ev->f[3], true, &st->sample_stack);
    if (rc || !(st->outputs & CV_OUTPUT_PPROF))
        return rc;
    struct cv_thread *t = cv_state_thread(st, ev->pid, (uint32_t)U64(0));
    return t ? cv_cpu_count(t, st->sample_stack, (uint32_t)U64(4), U64(1)) : LTPROF_ERR_NOMEM;
}

static struct cv_module *find_module(struct cv_process *p, uint64_t baddr)
{
    for (size_t i = 0; i < p->n_modules; i++)
        if (p->modules[i].baddr == baddr)
            return &p->modules[i];
    return NULL;
}

static int on_bin_info(struct cv_state *st, const struct cv_event *ev)
{
    struct cv_process *p = cv_state_process(st, ev->pid);
    if (!p)
        return LTPROF_ERR_NOMEM;
    uint64_t baddr = U64(0);
    const char *path = STR(2);
    struct cv_module *m = find_module(p, baddr);
    if (m && strcmp(m->path, path) == 0)
        return 0; /* the same module from a later statedump */
    if (!m) {
        if (p->n_modules == p->cap_modules) {
            size_t cap = p->cap_modules ? p->cap_modules * 2 : 16;
            struct cv_module *mods = cv_realloc(p->modules, cap * sizeof(*mods));
            if (!mods)
                return LTPROF_ERR_NOMEM;
            p->modules = mods;
            p->cap_modules = cap;
        }
        m = &p->modules[p->n_modules++];
        memset(m, 0, sizeof(*m));
    }
    char *copy = cv_strdup(path);
    if (!copy) {
        if (!m->path)
            p->n_modules--; /* the entry just made: a module has a path */
        return LTPROF_ERR_NOMEM;
    }
    if (m->path && (size_t)(m - p->modules) < p->sym_synced)
        p->sym_stale = true; /* another file at a known address: an exec */
    free(m->path);
    m->path = copy;
    m->baddr = baddr;
    m->memsz = U64(1);
    m->build_id_len = 0;
    return 0;
}

static int on_build_id(struct cv_state *st, const struct cv_event *ev)
{
    struct cv_process *p = cv_state_process(st, ev->pid);
    if (!p)
        return LTPROF_ERR_NOMEM;
    struct cv_module *m = find_module(p, U64(0));
    if (!m)
        return 0; /* bin_info comes first; a lone build_id has nothing to describe */
    uint64_t n = ev->f[1].n;
    if (n > sizeof(m->build_id))
        n = 0; /* not a GNU build ID we can compare */
    for (uint64_t i = 0; i < n; i++)
        m->build_id[i] = (uint8_t)ev->f[1].a[i];
    m->build_id_len = n;
    return 0;
}

/* ---- execution-trace events (timeline.c) ---------------------------------------------------- */

/* A CLOCK_MONOTONIC time from a payload on the event's clock scale: ns from the clock's
 * origin. 0 stays 0 (unknown). */
static uint64_t payload_time(const struct cv_event *ev, uint64_t mono_ns)
{
    return mono_ns && ev->has_time ? mono_ns + (uint64_t)ev->mono_to_ns : 0;
}

/* The timeline and its outputs, made with the first event that needs them. */
static int timeline_ready(struct cv_state *st, struct ltprof_error *err)
{
    if (st->timeline || !(st->outputs & (CV_OUTPUT_GOTRACE | CV_OUTPUT_JSON)))
        return 0;
    if (st->timeline_failed)
        return LTPROF_ERR_IO;
    int rc = cv_output_dir_make(st, err);
    if (rc == 0 && (st->outputs & CV_OUTPUT_GOTRACE)) {
        snprintf(st->summary.trace_path, sizeof(st->summary.trace_path), "%s/trace.out",
                 st->output_dir);
        rc = tl_gotrace_output_create(st, st->summary.trace_path, &st->outs[st->nouts], err);
        st->nouts += rc == 0;
    }
    if (rc == 0 && (st->outputs & CV_OUTPUT_JSON)) {
        snprintf(st->summary.json_path, sizeof(st->summary.json_path), "%s/trace.json",
                 st->output_dir);
        rc = tl_json_output_create(st, st->summary.json_path, &st->outs[st->nouts], err);
        st->nouts += rc == 0;
    }
    if (rc == 0 && !(st->timeline = tl_create(st, st->outs, st->nouts)))
        rc = cv_error(err, LTPROF_ERR_NOMEM, "out of memory");
    if (rc)
        st->timeline_failed = true;
    return rc;
}

static int on_trace_event(struct cv_state *st, const struct cv_event *ev,
                          struct ltprof_error *err)
{
    struct tl_timeline *tl = st->timeline;
    int64_t pid = ev->pid;
    uint64_t ts = (uint64_t)ev->ns;
    uint32_t tid, stack = 0;
    int rc = 0;
#define STACK(i) if ((rc = stack_field(st, pid, &ev->f[i], false, &stack))) break
    if ((rc = tl_event_time(tl, ts)))
        return cv_error(err, rc, "failed to write the execution trace: %s", cv_status_text(rc));
    switch (ev->kind) {
    case CV_EV_CPU_SAMPLE: /* its stack is interned already (on_cpu_sample) */
        rc = tl_cpu_sample(tl, ts, pid, (uint32_t)U64(0), st->sample_stack);
        break;
    case CV_EV_THREAD_INFO:
        rc = tl_thread_name(tl, ts, pid, (uint32_t)U64(0), STR(1));
        break;
    case CV_EV_THREAD_START:
        STACK(6);
        rc = tl_thread_start(tl, ts, pid, (uint32_t)U64(0), U64(1), (uint32_t)U64(2),
                             payload_time(ev, U64(3)), U64(4), STR(5), stack);
        break;
    case CV_EV_THREAD_EXIT:
        rc = tl_thread_exit(tl, ts, pid, (uint32_t)U64(0));
        break;
    case CV_EV_THREAD_STATE:
        rc = tl_thread_state(tl, ts, pid, (uint32_t)U64(0), U64(1), STR(2), STR(3),
                             payload_time(ev, U64(4)));
        break;
    case CV_EV_TRACE_INFO:
        tid = (uint32_t)ev->tid;
        snprintf(st->summary.sched_source, sizeof(st->summary.sched_source), "%s", STR(0));
        snprintf(st->summary.sched_note, sizeof(st->summary.sched_note), "%s", STR(1));
        if (tid)
            rc = tl_trace_info(tl, ts, pid, tid, STR(0), STR(1), U64(2));
        break;
    case CV_EV_SCHED_SWITCHES: {
        const struct cv_field *recs = &ev->f[2];
        tid = (uint32_t)U64(0);
        tl_switches_lost(tl, U64(1));
        for (uint64_t i = 0; i + 1 < recs->n && rc == 0; i += 2) {
            uint64_t info = recs->a[i + 1];
            rc = tl_switch(tl, pid, tid, payload_time(ev, recs->a[i]), info & 1,
                           (info & 2) != 0, (int)(info >> 8));
        }
        break;
    }
    case CV_EV_WAIT_BEGIN:
        STACK(4);
        rc = tl_wait_begin(tl, ts, pid, (uint32_t)U64(0), STR(1), U64(2), U64(3), stack);
        break;
    case CV_EV_WAIT_END:
        rc = tl_wait_end(tl, ts, pid, (uint32_t)U64(0), STR(1), U64(2));
        break;
    case CV_EV_WAKE:
        STACK(3);
        rc = tl_wake(tl, ts, pid, (uint32_t)U64(0), STR(1), U64(2), stack);
        break;
    case CV_EV_SYSCALL:
        STACK(4);
        rc = tl_call(tl, pid, (uint32_t)U64(0), STR(1), payload_time(ev, U64(2)),
                     payload_time(ev, U64(3)), stack);
        break;
    case CV_EV_HEAP:
        rc = tl_heap(tl, ts, pid, (uint32_t)U64(0), U64(1));
        break;
    case CV_EV_TASK_CREATE:
        STACK(4);
        rc = tl_task(tl, ts, pid, (uint32_t)U64(3), U64(0), U64(1), STR(2), false, stack);
        break;
    case CV_EV_TASK_END:
        STACK(2);
        rc = tl_task(tl, ts, pid, (uint32_t)U64(1), U64(0), 0, "", true, stack);
        break;
    case CV_EV_REGION:
        STACK(4);
        rc = tl_region(tl, ts, pid, (uint32_t)U64(3), U64(0), STR(2), U64(1) != 0, stack);
        break;
    case CV_EV_LOG:
        STACK(4);
        rc = tl_log(tl, ts, pid, (uint32_t)U64(3), U64(0), STR(1), STR(2), stack);
        break;
    default:
        break;
    }
#undef STACK
    if (rc == LTPROF_ERR_NOMEM)
        return cv_error(err, rc, "out of memory while building the execution trace");
    if (rc)
        return cv_error(err, rc, "failed to write the execution trace: %s", cv_status_text(rc));
    return 0;
}

/* ---- mutex, block and threadcreate profiles (event_profiles.c) ----------------------------- */

static int on_wait(struct cv_state *st, const struct cv_event *ev)
{
    uint32_t tid = (uint32_t)U64(0);
    if (ev->kind == CV_EV_WAIT_END) {
        struct cv_thread *t = thread_find(st, ev->pid, tid);
        return t ? cv_event_profiles_wait_end(st, t, (uint64_t)ev->ns) : 0;
    }
    uint32_t stack;
    int rc = stack_field(st, ev->pid, &ev->f[4], false, &stack);
    struct cv_thread *t = rc ? NULL : cv_state_thread(st, ev->pid, tid);
    if (!t)
        return LTPROF_ERR_NOMEM;
    cv_event_profiles_wait_begin(t, STR(1), stack, (uint64_t)ev->ns);
    return 0;
}

static int on_alloc(struct cv_state *st, const struct cv_event *ev)
{
    if (ev->kind == CV_EV_FREE)
        return cv_event_profiles_free(st, ev->pid, U64(1));
    uint32_t stack;
    int rc = stack_field(st, ev->pid, &ev->f[4], false, &stack);
    return rc ? rc
              : cv_event_profiles_alloc(st, ev->pid, U64(1), U64(2), U64(3), stack,
                                        (uint32_t)U64(5));
}

/* ltprof:label_set: "key\x1fvalue" pairs separated by \x1e. A set seen again is kept. */
static int on_label_set(struct cv_state *st, const struct cv_event *ev)
{
    struct cv_process *p = cv_state_process(st, ev->pid);
    uint32_t id = (uint32_t)U64(0);
    if (!p)
        return LTPROF_ERR_NOMEM;
    for (size_t i = 0; i < p->n_label_sets; i++)
        if (p->label_sets[i].id == id)
            return 0;
    if (p->n_label_sets == p->cap_label_sets) {
        size_t cap = p->cap_label_sets ? p->cap_label_sets * 2 : 8;
        struct cv_label_set *sets = cv_realloc(p->label_sets, cap * sizeof(*sets));
        if (!sets)
            return LTPROF_ERR_NOMEM;
        p->label_sets = sets, p->cap_label_sets = cap;
    }
    struct cv_label_set *set = &p->label_sets[p->n_label_sets];
    memset(set, 0, sizeof(*set));
    set->id = id;
    set->text = cv_strdup(STR(1));
    if (!set->text)
        return LTPROF_ERR_NOMEM;
    for (char *pair = set->text; pair && *pair && set->n < CV_MAX_LABELS;) {
        char *next = strchr(pair, '\x1e');
        if (next)
            *next++ = '\0';
        char *sep = strchr(pair, '\x1f');
        if (sep && sep != pair) { /* pprof has no label without a key */
            *sep = '\0';
            set->keys[set->n] = pair, set->values[set->n] = sep + 1;
            set->n++;
        }
        pair = next;
    }
    p->n_label_sets++;
    return 0;
}

size_t cv_state_labels(struct cv_state *st, int64_t pid, uint32_t id, struct pprof_label *out,
                       size_t max)
{
    struct cv_process *p = id ? cv_state_process(st, pid) : NULL;
    for (size_t i = 0; p && i < p->n_label_sets; i++) {
        const struct cv_label_set *set = &p->label_sets[i];
        if (set->id != id)
            continue;
        size_t n = 0;
        for (; n < set->n && n < max; n++)
            out[n] = (struct pprof_label){.key = set->keys[n], .str = set->values[n]};
        return n;
    }
    return 0;
}

static int on_thread_created(struct cv_state *st, const struct cv_event *ev)
{
    uint32_t stack;
    int rc = stack_field(st, ev->pid, &ev->f[6], false, &stack);
    return rc ? rc : cv_event_profiles_thread_created(st, stack);
}

/* Lost events are counted for the profiles' comments and the summary, and noted in the
 * execution trace where the loss began. babeltrace2 gives the difference of the cumulative
 * counters of a stream's consecutive packets, which can go back (2^64 - k): the sum modulo
 * 2^64 is the true total, one difference alone is not a count. */
static int on_lost(struct cv_state *st, const struct cv_event *ev, struct ltprof_error *err)
{
    st->summary.discarded_events += ev->f[0].u; /* modulo 2^64, on purpose */
    if (!ev->has_time || ev->f[0].u > INT64_MAX) /* a correction, not a loss */
        return 0;
    int rc = timeline_ready(st, err);
    if (rc || !st->timeline)
        return rc;
    if ((rc = tl_events_lost(st->timeline, (uint64_t)ev->ns, ev->pid)))
        return cv_error(err, rc, "failed to write the execution trace: %s", cv_status_text(rc));
    return 0;
}

int cv_state_handle_event(struct cv_state *st, const struct cv_event *ev, struct ltprof_error *err)
{
    if (ev->kind == CV_EV_LOST)
        return on_lost(st, ev, err);
    st->summary.events++;
    if (ev->has_time) {
        if (!st->have_time || ev->ns < st->first_ns)
            st->first_ns = ev->ns;
        if (!st->have_time || ev->ns > st->last_ns)
            st->last_ns = ev->ns;
        st->have_time = true;
    }
    if (ev->kind == CV_EV_OTHER)
        return 0;
    int rc = 0;
    switch (ev->kind) {
    case CV_EV_PROCESS_INFO:
        st->summary.ltprof_events++;
        rc = on_process_info(st, ev, err);
        break;
    case CV_EV_THREAD_INFO:
        st->summary.ltprof_events++;
        rc = set_thread_name(st, ev->pid, (uint32_t)U64(0), STR(1));
        break;
    case CV_EV_CPU_SAMPLE:
        st->summary.ltprof_events++;
        rc = on_cpu_sample(st, ev);
        break;
    case CV_EV_BIN_INFO:
        rc = on_bin_info(st, ev);
        break;
    case CV_EV_BUILD_ID:
        rc = on_build_id(st, ev);
        break;
    case CV_EV_THREAD_START:
        st->summary.ltprof_events++;
        rc = set_thread_name(st, ev->pid, (uint32_t)U64(0), STR(5));
        if (rc == 0 && (st->outputs & CV_OUTPUT_PPROF))
            rc = on_thread_created(st, ev);
        break;
    case CV_EV_WAIT_BEGIN:
    case CV_EV_WAIT_END:
        st->summary.ltprof_events++;
        if (st->outputs & CV_OUTPUT_PPROF)
            rc = on_wait(st, ev);
        break;
    case CV_EV_ALLOC:
    case CV_EV_FREE:
        st->summary.ltprof_events++;
        if (st->outputs & CV_OUTPUT_PPROF)
            rc = on_alloc(st, ev);
        return rc == LTPROF_ERR_NOMEM ? cv_error(err, rc, "out of memory while reading events")
                                      : rc; /* not in the execution trace */
    case CV_EV_LABEL_SET:
        st->summary.ltprof_events++;
        rc = on_label_set(st, ev);
        break;
    case CV_EV_THREAD_EXIT: {
        st->summary.ltprof_events++;
        struct cv_thread *t = thread_find(st, ev->pid, (uint32_t)U64(0));
        if (t && (rc = cv_cpu_thread_done(st, t, err)))
            return rc;
        break;
    }
    default:
        st->summary.ltprof_events++;
        break;
    }
    if (rc == LTPROF_ERR_NOMEM)
        return cv_error(err, rc, "out of memory while reading events");
    if (rc)
        return rc;
    if (ev->kind == CV_EV_BIN_INFO || ev->kind == CV_EV_BUILD_ID ||
        ev->kind == CV_EV_PROCESS_INFO || !ev->has_time)
        return 0;
    if ((rc = timeline_ready(st, err)) || !st->timeline)
        return rc;
    return on_trace_event(st, ev, err);
}

#undef U64
#undef STR

int cv_state_finish(struct cv_state *st, struct cv_summary *summary, struct ltprof_error *err)
{
    int rc = 0;
    if (st->summary.ltprof_events == 0) {
        rc = cv_error(err, LTPROF_ERR_NOT_FOUND,
                      "no ltprof events in the trace (%llu events read): was the program run "
                      "with libltprof.so and were the 'ltprof:*' events enabled?",
                      (unsigned long long)st->summary.events);
        goto end;
    }
    if (!st->seen_process_info) {
        rc = cv_error(err, LTPROF_ERR_UNSUPPORTED,
                      "the trace has ltprof events but no ltprof:process_info event, so its "
                      "schema version is unknown");
        goto end;
    }
    st->summary.processes = (uint32_t)st->processes.len;
    summarize_engines(st);
    if ((st->outputs & CV_OUTPUT_PPROF) &&
        ((rc = cv_cpu_profile_write(st, err)) || (rc = cv_event_profiles_write(st, err))))
        goto end;
    if ((rc = timeline_ready(st, err)))
        goto end;
    rc = timeline_close(st, true, err);
end:
    summarize_profiles(st, rc);
    if (rc)
        timeline_close(st, false, NULL);
    if (summary)
        *summary = st->summary;
    return rc;
}
