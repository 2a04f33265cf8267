/* SPDX-License-Identifier: MIT */
/*
 * Reads babeltrace2 messages into the conversion state (converter/internal.h): the ltprof
 * events of tracer/ltprof_tp.h and LTTng-UST's statedump and library events (for symbols).
 * Field positions are resolved once per event class and cached, holding a reference to the
 * class so a freed class can never alias a new one.
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

enum event_kind {
    EV_OTHER,
    EV_PROCESS_INFO,
    EV_THREAD_INFO,
    EV_CPU_SAMPLE,
    EV_BIN_INFO, /* lttng_ust_statedump:bin_info and lttng_ust_lib:load */
    EV_BUILD_ID, /* lttng_ust_statedump:build_id and lttng_ust_lib:build_id */
    EV_THREAD_START,
    EV_THREAD_EXIT,
    EV_THREAD_STATE,
    EV_TRACE_INFO,
    EV_SCHED_SWITCHES,
    EV_WAIT_BEGIN,
    EV_WAIT_END,
    EV_WAKE,
    EV_SYSCALL,
    EV_HEAP,
    EV_ALLOC,
    EV_FREE,
    EV_TASK_CREATE,
    EV_TASK_END,
    EV_REGION,
    EV_LOG,
    EV_LABEL_SET,
};

#define MAX_FIELDS 8
#define NO_FIELD UINT64_MAX

static const struct {
    const char *name;
    enum event_kind kind;
    const char *fields[MAX_FIELDS];
} known_events[] = {
    {"ltprof:process_info", EV_PROCESS_INFO,
     {"schema_version", "pid", "cpu_engine", "cpu_period_ns", NULL}},
    {"ltprof:thread_info", EV_THREAD_INFO, {"tid", "name", NULL}},
    /* "?name": a field that traces of schema 1 do not have (read as 0) */
    {"ltprof:cpu_sample", EV_CPU_SAMPLE,
     {"tid", "weight_ns", "unwind_status", "stack", "?labels", NULL}},
    {"ltprof:label_set", EV_LABEL_SET, {"id", "pairs", NULL}},
    {"lttng_ust_statedump:bin_info", EV_BIN_INFO, {"baddr", "memsz", "path", NULL}},
    {"lttng_ust_lib:load", EV_BIN_INFO, {"baddr", "memsz", "path", NULL}},
    {"lttng_ust_statedump:build_id", EV_BUILD_ID, {"baddr", "build_id", NULL}},
    {"lttng_ust_lib:build_id", EV_BUILD_ID, {"baddr", "build_id", NULL}},
    {"ltprof:thread_start", EV_THREAD_START,
     {"tid", "pthread", "creator_tid", "create_ns", "start_fn", "name", "stack", NULL}},
    {"ltprof:thread_exit", EV_THREAD_EXIT, {"tid", NULL}},
    {"ltprof:thread_state", EV_THREAD_STATE, {"tid", "pthread", "name", "wait", "since_ns", NULL}},
    {"ltprof:trace_info", EV_TRACE_INFO, {"sched_source", "sched_note", "syscall_ns", NULL}},
    {"ltprof:sched_switches", EV_SCHED_SWITCHES, {"tid", "lost", "records", NULL}},
    {"ltprof:wait_begin", EV_WAIT_BEGIN, {"tid", "kind", "addr", "target", "stack", NULL}},
    {"ltprof:wait_end", EV_WAIT_END, {"tid", "kind", "addr", NULL}},
    {"ltprof:wake", EV_WAKE, {"tid", "kind", "addr", "stack", NULL}},
    {"ltprof:syscall", EV_SYSCALL, {"tid", "call", "start_ns", "end_ns", "stack", NULL}},
    {"ltprof:heap", EV_HEAP, {"tid", "in_use_bytes", NULL}},
    {"ltprof:alloc", EV_ALLOC, {"tid", "addr", "size", "rate", "stack", "?labels", NULL}},
    {"ltprof:free", EV_FREE, {"tid", "addr", "size", NULL}},
    {"ltprof:task_create", EV_TASK_CREATE, {"task_id", "parent_id", "type", "tid", "stack", NULL}},
    {"ltprof:task_end", EV_TASK_END, {"task_id", "tid", "stack", NULL}},
    {"ltprof:region", EV_REGION, {"task_id", "mode", "type", "tid", "stack", NULL}},
    {"ltprof:log", EV_LOG, {"task_id", "category", "message", "tid", "stack", NULL}},
};

struct cv_class_cache {
    const bt_event_class *cls; /* referenced */
    enum event_kind kind;
    const char *name;
    uint64_t field[MAX_FIELDS];
    const char *missing_field; /* a field the schema has and this class lacks, or NULL */
};

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
    for (size_t i = 0; i < st->n_classes; i++)
        bt_event_class_put_ref(st->classes[i].cls);
    free(st->classes);
    cv_vec_fini(&st->processes);
    cv_vec_fini(&st->threads);
    cv_index_fini(&st->thread_index);
    free(st->output_dir);
    free(st);
}

/* ---- field access --------------------------------------------------------------------------- */

static uint64_t member_index(const bt_field_class *payload_fc, const char *name)
{
    uint64_t n = bt_field_class_structure_get_member_count(payload_fc);
    for (uint64_t i = 0; i < n; i++) {
        const bt_field_class_structure_member *m =
            bt_field_class_structure_borrow_member_by_index_const(payload_fc, i);
        if (strcmp(bt_field_class_structure_member_get_name(m), name) == 0)
            return i;
    }
    return NO_FIELD;
}

static struct cv_class_cache *class_cache(struct cv_state *st, const bt_event_class *cls)
{
    for (size_t i = 0; i < st->n_classes; i++)
        if (st->classes[i].cls == cls)
            return &st->classes[i];
    if (st->n_classes == st->cap_classes) {
        size_t cap = st->cap_classes ? st->cap_classes * 2 : 32;
        struct cv_class_cache *c = cv_realloc(st->classes, cap * sizeof(*c));
        if (!c)
            return NULL;
        st->classes = c;
        st->cap_classes = cap;
    }
    struct cv_class_cache *c = &st->classes[st->n_classes++];
    memset(c, 0, sizeof(*c));
    c->cls = cls;
    bt_event_class_get_ref(cls);
    c->kind = EV_OTHER;
    const char *name = bt_event_class_get_name(cls);
    const bt_field_class *payload_fc = bt_event_class_borrow_payload_field_class_const(cls);
    for (size_t k = 0; name && k < sizeof(known_events) / sizeof(known_events[0]); k++) {
        if (strcmp(name, known_events[k].name) != 0)
            continue;
        c->kind = known_events[k].kind;
        c->name = known_events[k].name;
        for (size_t f = 0; f < MAX_FIELDS; f++) {
            const char *fname = known_events[k].fields[f];
            c->field[f] = fname && payload_fc
                              ? member_index(payload_fc, fname + (fname[0] == '?'))
                              : NO_FIELD;
        }
        for (size_t f = 0; f < MAX_FIELDS && known_events[k].fields[f]; f++)
            if (c->field[f] == NO_FIELD && known_events[k].fields[f][0] != '?')
                c->missing_field = known_events[k].fields[f];
        /* LTTng's own events vary across versions: ignore a layout we do not know. */
        if (c->missing_field && (c->kind == EV_BIN_INFO || c->kind == EV_BUILD_ID))
            c->kind = EV_OTHER;
    }
    return c;
}

static uint64_t field_u64(const bt_field *f)
{
    bt_field_class_type t = bt_field_get_class_type(f);
    if (bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_UNSIGNED_INTEGER))
        return bt_field_integer_unsigned_get_value(f);
    if (bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_SIGNED_INTEGER))
        return (uint64_t)bt_field_integer_signed_get_value(f);
    return 0;
}

/* Reads at most `max` elements of an array of unsigned integers (PCs) into out; returns how
 * many. The elements share one class, so its type is checked once. */
static uint64_t field_pcs(const bt_field *arr, uint64_t *out, uint64_t max)
{
    uint64_t n = bt_field_array_get_length(arr);
    if (n > max)
        n = max;
    if (n == 0)
        return 0;
    const bt_field *first = bt_field_array_borrow_element_field_by_index_const(arr, 0);
    if (!bt_field_class_type_is(bt_field_get_class_type(first),
                                BT_FIELD_CLASS_TYPE_UNSIGNED_INTEGER)) {
        for (uint64_t i = 0; i < n; i++)
            out[i] = field_u64(bt_field_array_borrow_element_field_by_index_const(arr, i));
        return n;
    }
    for (uint64_t i = 0; i < n; i++)
        out[i] = bt_field_integer_unsigned_get_value(
            bt_field_array_borrow_element_field_by_index_const(arr, i));
    return n;
}

static const bt_field *member(const bt_field *payload, const struct cv_class_cache *c, int i)
{
    return bt_field_structure_borrow_member_field_by_index_const(payload, c->field[i]);
}

static uint64_t field_u64(const bt_field *f);

/* An optional ("?name") integer field, 0 when the event class lacks it. */
static uint64_t optional_u64(const bt_field *payload, const struct cv_class_cache *c, int i)
{
    return c->field[i] == NO_FIELD ? 0 : field_u64(member(payload, c, i));
}

static const char *field_string(const bt_field *f)
{
    bt_field_class_type t = bt_field_get_class_type(f);
    return t == BT_FIELD_CLASS_TYPE_STRING ? bt_field_string_get_value(f) : "";
}

/* ---- events ------------------------------------------------------------------------------- */

/* The process an event belongs to: the vpid context, else the trace's vpid, else 0. */
static int64_t event_pid(const bt_event *ev)
{
    const bt_field *ctx = bt_event_borrow_common_context_field_const(ev);
    if (ctx) {
        const bt_field *f = bt_field_structure_borrow_member_field_by_name_const(ctx, "vpid");
        if (f)
            return (int64_t)field_u64(f);
    }
    const bt_trace *t = bt_stream_borrow_trace_const(bt_event_borrow_stream_const(ev));
    const bt_value *v = bt_trace_borrow_environment_entry_value_by_name_const(t, "vpid");
    return v && bt_value_is_signed_integer(v) ? bt_value_integer_signed_get(v) : 0;
}

/* The emitting thread: the vtid context (ltprof:trace_info has no tid field), else 0. */
static int64_t event_tid(const bt_event *ev)
{
    const bt_field *ctx = bt_event_borrow_common_context_field_const(ev);
    const bt_field *f = ctx ? bt_field_structure_borrow_member_field_by_name_const(ctx, "vtid")
                            : NULL;
    return f ? (int64_t)field_u64(f) : 0;
}

static int on_process_info(struct cv_state *st, int64_t pid, const bt_field *payload,
                           const struct cv_class_cache *c, struct ltprof_error *err)
{
    uint32_t version = (uint32_t)field_u64(member(payload, c, 0));
    if (version < 1 || version > LTPROF_SCHEMA_SUPPORTED)
        return cv_error(err, LTPROF_ERR_UNSUPPORTED,
                        "unsupported ltprof event schema version %u (this ltprof reads versions "
                        "1 to %u); convert the trace with the ltprof that recorded it",
                        version, LTPROF_SCHEMA_SUPPORTED);
    struct cv_process *p = cv_state_process(st, pid);
    if (!p)
        return cv_error(err, LTPROF_ERR_NOMEM, "out of memory while reading events");
    st->seen_process_info = true;
    st->schema_version = version;
    if (!st->cpu_period_ns)
        st->cpu_period_ns = field_u64(member(payload, c, 3));
    snprintf(p->cpu_engine, sizeof(p->cpu_engine), "%s", field_string(member(payload, c, 2)));
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

/* Interns the sample's stack (shared with the execution trace) and counts it for cpu.pb.gz. */
static int on_cpu_sample(struct cv_state *st, int64_t pid, const bt_field *payload,
                         const struct cv_class_cache *c)
{
    uint64_t pcs[CV_MAX_FRAMES];
    uint32_t tid = (uint32_t)field_u64(member(payload, c, 0));
    uint64_t weight = field_u64(member(payload, c, 1));
    uint64_t status = field_u64(member(payload, c, 2));
    uint64_t n = field_pcs(member(payload, c, 3), pcs, CV_MAX_FRAMES);
    uint32_t labels = (uint32_t)optional_u64(payload, c, 4);

    st->summary.cpu_samples++;
    if (status == 0)
        st->summary.complete_stacks++;
    int rc = cv_stack_intern(&st->stacks, pid, pcs, (uint32_t)n, true, &st->sample_stack);
    if (rc || !(st->outputs & CV_OUTPUT_PPROF))
        return rc;
    struct cv_thread *t = cv_state_thread(st, pid, tid);
    return t ? cv_cpu_count(t, st->sample_stack, labels, weight) : LTPROF_ERR_NOMEM;
}

static struct cv_module *find_module(struct cv_process *p, uint64_t baddr)
{
    for (size_t i = 0; i < p->n_modules; i++)
        if (p->modules[i].baddr == baddr)
            return &p->modules[i];
    return NULL;
}

static int on_bin_info(struct cv_state *st, int64_t pid, const bt_field *payload,
                       const struct cv_class_cache *c)
{
    struct cv_process *p = cv_state_process(st, pid);
    if (!p)
        return LTPROF_ERR_NOMEM;
    uint64_t baddr = field_u64(member(payload, c, 0));
    const char *path = field_string(member(payload, c, 2));
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
    if (!copy)
        return LTPROF_ERR_NOMEM;
    if (m->path && (size_t)(m - p->modules) < p->sym_synced)
        p->sym_stale = true; /* another file at a known address: an exec */
    free(m->path);
    m->path = copy;
    m->baddr = baddr;
    m->memsz = field_u64(member(payload, c, 1));
    m->build_id_len = 0;
    return 0;
}

static int on_build_id(struct cv_state *st, int64_t pid, const bt_field *payload,
                       const struct cv_class_cache *c)
{
    struct cv_process *p = cv_state_process(st, pid);
    if (!p)
        return LTPROF_ERR_NOMEM;
    struct cv_module *m = find_module(p, field_u64(member(payload, c, 0)));
    if (!m)
        return 0; /* bin_info comes first; a lone build_id has nothing to describe */
    const bt_field *arr = member(payload, c, 1);
    uint64_t n = bt_field_array_get_length(arr);
    if (n > sizeof(m->build_id))
        n = 0; /* not a GNU build ID we can compare */
    for (uint64_t i = 0; i < n; i++)
        m->build_id[i] = (uint8_t)field_u64(bt_field_array_borrow_element_field_by_index_const(arr, i));
    m->build_id_len = n;
    return 0;
}

/* ---- execution-trace events (timeline.c) ---------------------------------------------------- */

/* Interns a stack field (a sequence of PCs) as a timeline stack; 0 when empty. */
static int stack_field(struct cv_state *st, int64_t pid, const bt_field *f, bool exact_leaf,
                       uint32_t *id)
{
    uint64_t pcs[CV_MAX_FRAMES];
    uint64_t n = field_pcs(f, pcs, CV_MAX_FRAMES);
    return cv_stack_intern(&st->stacks, pid, pcs, (uint32_t)n, exact_leaf, id);
}

/* A CLOCK_MONOTONIC time from a payload (what LTTng-UST's clock counts) on the event's clock
 * scale: ns from the clock's origin. 0 stays 0 (unknown). */
static uint64_t payload_time(const bt_message *msg, uint64_t mono_ns)
{
    const bt_clock_snapshot *cs = bt_message_event_borrow_default_clock_snapshot_const(msg);
    int64_t origin_ns;
    if (!mono_ns || !cs ||
        bt_clock_snapshot_get_ns_from_origin(cs, &origin_ns) !=
            BT_CLOCK_SNAPSHOT_GET_NS_FROM_ORIGIN_STATUS_OK)
        return 0;
    uint64_t cycles = bt_clock_snapshot_get_value(cs);
    uint64_t freq = bt_clock_class_get_frequency(bt_clock_snapshot_borrow_clock_class_const(cs));
    int64_t event_ns = freq == 1000000000u ? (int64_t)cycles
                                           : (int64_t)((double)cycles * 1e9 / (double)freq);
    return (uint64_t)((int64_t)mono_ns + (origin_ns - event_ns));
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

static int on_trace_event(struct cv_state *st, const bt_message *msg, int64_t pid, uint64_t ts,
                          const bt_field *payload, const struct cv_class_cache *c,
                          struct ltprof_error *err)
{
    struct tl_timeline *tl = st->timeline;
    uint32_t tid, stack = 0;
    int rc = 0;
#define U64(i) field_u64(member(payload, c, i))
#define STR(i) field_string(member(payload, c, i))
#define STACK(i, exact) if ((rc = stack_field(st, pid, member(payload, c, i), exact, &stack))) break
    if ((rc = tl_event_time(tl, ts)))
        return cv_error(err, rc, "failed to write the execution trace: %s", cv_status_text(rc));
    switch (c->kind) {
    case EV_CPU_SAMPLE: /* its stack is interned already (on_cpu_sample) */
        rc = tl_cpu_sample(tl, ts, pid, (uint32_t)U64(0), st->sample_stack);
        break;
    case EV_THREAD_INFO:
        rc = tl_thread_name(tl, ts, pid, (uint32_t)U64(0), STR(1));
        break;
    case EV_THREAD_START:
        STACK(6, false);
        rc = tl_thread_start(tl, ts, pid, (uint32_t)U64(0), U64(1), (uint32_t)U64(2),
                             payload_time(msg, U64(3)), U64(4), STR(5), stack);
        break;
    case EV_THREAD_EXIT:
        rc = tl_thread_exit(tl, ts, pid, (uint32_t)U64(0));
        break;
    case EV_THREAD_STATE:
        rc = tl_thread_state(tl, ts, pid, (uint32_t)U64(0), U64(1), STR(2), STR(3),
                             payload_time(msg, U64(4)));
        break;
    case EV_TRACE_INFO:
        tid = (uint32_t)st->current_tid;
        snprintf(st->summary.sched_source, sizeof(st->summary.sched_source), "%s", STR(0));
        snprintf(st->summary.sched_note, sizeof(st->summary.sched_note), "%s", STR(1));
        if (tid)
            rc = tl_trace_info(tl, ts, pid, tid, STR(0), STR(1), U64(2));
        break;
    case EV_SCHED_SWITCHES: {
        const bt_field *recs = member(payload, c, 2);
        uint64_t n = bt_field_array_get_length(recs);
        tid = (uint32_t)U64(0);
        tl_switches_lost(tl, U64(1));
        for (uint64_t i = 0; i + 1 < n && rc == 0; i += 2) {
            uint64_t when = field_u64(bt_field_array_borrow_element_field_by_index_const(recs, i));
            uint64_t info = field_u64(bt_field_array_borrow_element_field_by_index_const(recs, i + 1));
            rc = tl_switch(tl, pid, tid, payload_time(msg, when), info & 1, (info & 2) != 0,
                           (int)(info >> 8));
        }
        break;
    }
    case EV_WAIT_BEGIN:
        STACK(4, false);
        rc = tl_wait_begin(tl, ts, pid, (uint32_t)U64(0), STR(1), U64(2), U64(3), stack);
        break;
    case EV_WAIT_END:
        rc = tl_wait_end(tl, ts, pid, (uint32_t)U64(0), STR(1), U64(2));
        break;
    case EV_WAKE:
        STACK(3, false);
        rc = tl_wake(tl, ts, pid, (uint32_t)U64(0), STR(1), U64(2), stack);
        break;
    case EV_SYSCALL:
        STACK(4, false);
        rc = tl_call(tl, pid, (uint32_t)U64(0), STR(1), payload_time(msg, U64(2)),
                     payload_time(msg, U64(3)), stack);
        break;
    case EV_HEAP:
        rc = tl_heap(tl, ts, pid, (uint32_t)U64(0), U64(1));
        break;
    case EV_TASK_CREATE:
        STACK(4, false);
        rc = tl_task(tl, ts, pid, (uint32_t)U64(3), U64(0), U64(1), STR(2), false, stack);
        break;
    case EV_TASK_END:
        STACK(2, false);
        rc = tl_task(tl, ts, pid, (uint32_t)U64(1), U64(0), 0, "", true, stack);
        break;
    case EV_REGION:
        STACK(4, false);
        rc = tl_region(tl, ts, pid, (uint32_t)U64(3), U64(0), STR(2), U64(1) != 0, stack);
        break;
    case EV_LOG:
        STACK(4, false);
        rc = tl_log(tl, ts, pid, (uint32_t)U64(3), U64(0), STR(1), STR(2), stack);
        break;
    default:
        break;
    }
#undef U64
#undef STR
#undef STACK
    if (rc == LTPROF_ERR_NOMEM)
        return cv_error(err, rc, "out of memory while building the execution trace");
    if (rc)
        return cv_error(err, rc, "failed to write the execution trace: %s", cv_status_text(rc));
    return 0;
}

/* ---- mutex, block and threadcreate profiles (event_profiles.c) ----------------------------- */

static int on_wait(struct cv_state *st, int64_t pid, uint64_t ts, const bt_field *payload,
                   const struct cv_class_cache *c)
{
    uint32_t tid = (uint32_t)field_u64(member(payload, c, 0));
    if (c->kind == EV_WAIT_END) {
        struct cv_thread *t = thread_find(st, pid, tid);
        return t ? cv_event_profiles_wait_end(st, t, ts) : 0;
    }
    uint32_t stack;
    int rc = stack_field(st, pid, member(payload, c, 4), false, &stack);
    struct cv_thread *t = rc ? NULL : cv_state_thread(st, pid, tid);
    if (!t)
        return LTPROF_ERR_NOMEM;
    cv_event_profiles_wait_begin(t, field_string(member(payload, c, 1)), stack, ts);
    return 0;
}

static int on_alloc(struct cv_state *st, int64_t pid, const bt_field *payload,
                    const struct cv_class_cache *c)
{
    uint64_t addr = field_u64(member(payload, c, 1));
    if (c->kind == EV_FREE)
        return cv_event_profiles_free(st, pid, addr);
    uint32_t stack;
    int rc = stack_field(st, pid, member(payload, c, 4), false, &stack);
    return rc ? rc
              : cv_event_profiles_alloc(st, pid, addr, field_u64(member(payload, c, 2)),
                                        field_u64(member(payload, c, 3)), stack,
                                        (uint32_t)optional_u64(payload, c, 5));
}

/* ltprof:label_set: "key\x1fvalue" pairs separated by \x1e. A set seen again is kept. */
static int on_label_set(struct cv_state *st, int64_t pid, const bt_field *payload,
                        const struct cv_class_cache *c)
{
    struct cv_process *p = cv_state_process(st, pid);
    uint32_t id = (uint32_t)field_u64(member(payload, c, 0));
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
    set->text = strdup(field_string(member(payload, c, 1)));
    if (!set->text)
        return LTPROF_ERR_NOMEM;
    for (char *pair = set->text; pair && *pair && set->n < CV_MAX_LABELS;) {
        char *next = strchr(pair, '\x1e');
        if (next)
            *next++ = '\0';
        char *sep = strchr(pair, '\x1f');
        if (sep) {
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

static int on_thread_created(struct cv_state *st, int64_t pid, const bt_field *payload,
                             const struct cv_class_cache *c)
{
    uint32_t stack;
    int rc = stack_field(st, pid, member(payload, c, 6), false, &stack);
    return rc ? rc : cv_event_profiles_thread_created(st, stack);
}

static int on_event(struct cv_state *st, const bt_message *msg, struct ltprof_error *err)
{
    const bt_event *ev = bt_message_event_borrow_event_const(msg);
    struct cv_class_cache *c = class_cache(st, bt_event_borrow_class_const(ev));
    if (!c)
        return cv_error(err, LTPROF_ERR_NOMEM, "out of memory");

    st->summary.events++;
    const bt_clock_snapshot *cs = bt_message_event_borrow_default_clock_snapshot_const(msg);
    int64_t ns = 0;
    if (cs && bt_clock_snapshot_get_ns_from_origin(cs, &ns) != BT_CLOCK_SNAPSHOT_GET_NS_FROM_ORIGIN_STATUS_OK)
        cs = NULL;
    if (cs) {
        if (!st->have_time || ns < st->first_ns)
            st->first_ns = ns;
        if (!st->have_time || ns > st->last_ns)
            st->last_ns = ns;
        st->have_time = true;
    }
    if (c->kind == EV_OTHER)
        return 0;
    if (c->missing_field)
        return cv_error(err, LTPROF_ERR_UNSUPPORTED,
                        "event %s has no field \"%s\": the trace was recorded with an "
                        "incompatible ltprof event schema", c->name, c->missing_field);

    const bt_field *payload = bt_event_borrow_payload_field_const(ev);
    int64_t pid = event_pid(ev);
    int rc = 0;
    switch (c->kind) {
    case EV_PROCESS_INFO:
        st->summary.ltprof_events++;
        rc = on_process_info(st, pid, payload, c, err);
        break;
    case EV_THREAD_INFO:
        st->summary.ltprof_events++;
        rc = set_thread_name(st, pid, (uint32_t)field_u64(member(payload, c, 0)),
                             field_string(member(payload, c, 1)));
        break;
    case EV_CPU_SAMPLE:
        st->summary.ltprof_events++;
        rc = on_cpu_sample(st, pid, payload, c);
        break;
    case EV_BIN_INFO:
        rc = on_bin_info(st, pid, payload, c);
        break;
    case EV_BUILD_ID:
        rc = on_build_id(st, pid, payload, c);
        break;
    case EV_THREAD_START:
        st->summary.ltprof_events++;
        rc = set_thread_name(st, pid, (uint32_t)field_u64(member(payload, c, 0)),
                             field_string(member(payload, c, 5)));
        if (rc == 0 && (st->outputs & CV_OUTPUT_PPROF))
            rc = on_thread_created(st, pid, payload, c);
        break;
    case EV_WAIT_BEGIN:
    case EV_WAIT_END:
        st->summary.ltprof_events++;
        if (st->outputs & CV_OUTPUT_PPROF)
            rc = on_wait(st, pid, (uint64_t)ns, payload, c);
        break;
    case EV_ALLOC:
    case EV_FREE:
        st->summary.ltprof_events++;
        if (st->outputs & CV_OUTPUT_PPROF)
            rc = on_alloc(st, pid, payload, c);
        return rc == LTPROF_ERR_NOMEM ? cv_error(err, rc, "out of memory while reading events")
                                      : rc; /* not in the execution trace */
    case EV_LABEL_SET:
        st->summary.ltprof_events++;
        rc = on_label_set(st, pid, payload, c);
        break;
    case EV_THREAD_EXIT: {
        st->summary.ltprof_events++;
        struct cv_thread *t = thread_find(st, pid, (uint32_t)field_u64(member(payload, c, 0)));
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
    if (c->kind == EV_BIN_INFO || c->kind == EV_BUILD_ID || c->kind == EV_PROCESS_INFO || !cs)
        return 0;
    if ((rc = timeline_ready(st, err)) || !st->timeline)
        return rc;
    st->current_tid = event_tid(ev);
    return on_trace_event(st, msg, pid, (uint64_t)ns, payload, c, err);
}

int cv_state_handle_message(struct cv_state *st, const bt_message *msg, struct ltprof_error *err)
{
    switch (bt_message_get_type(msg)) {
    case BT_MESSAGE_TYPE_EVENT:
        return on_event(st, msg, err);
    case BT_MESSAGE_TYPE_DISCARDED_EVENTS: {
        uint64_t n = 0;
        if (bt_message_discarded_events_get_count(msg, &n) == BT_PROPERTY_AVAILABILITY_AVAILABLE)
            st->summary.discarded_events += n;
        return 0;
    }
    default:
        return 0;
    }
}

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
