/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the converter's event handling (converter/events.c), fed through
 * cv_state_handle_event() and cv_state_finish() as the babeltrace2 sink feeds it, with event
 * streams the tracer would never write: every event kind in any order, fields of the wrong
 * type (read as 0, "" or no elements, as event_reader.c reads them), stacks of up to 400 PCs
 * (the converter keeps 128), out-of-order, duplicate, missing and negative times, tids of
 * several processes reused, threads that exit twice or never start, reports of lost events
 * (counts of any size, as babeltrace2's can wrap), waits that end before
 * they begin, frees of blocks never allocated, schema versions out of range, module paths of
 * any bytes and label sets of any text. Every output (all profiles, trace.out, trace.json) is
 * written into a private folder.
 *
 * Properties: no crash and no sanitizer report; a stream stops only on an unsupported schema
 * version; the conversion then succeeds, or fails because the stream had no ltprof event or
 * no ltprof:process_info (LTPROF_ERR_NOT_FOUND, LTPROF_ERR_UNSUPPORTED), never because the
 * converter gave its writers something they refuse; the summary counts every event. With
 * LTPROF_FUZZ_SAVE the outputs are kept for `go tool pprof`, `go tool trace -d` and a JSON
 * parser (property_test.sh).
 */
#include <dirent.h>
#include <stdbool.h>
#include <unistd.h>

#include "fuzz_input.h"
#include "internal.h"

#define MAX_EVENTS 3000
#define MAX_PCS 400

static char out_dir[64];

static void remove_outputs(void)
{
    DIR *d = opendir(out_dir);
    struct dirent *e;
    char path[512];
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", out_dir, e->d_name);
        unlink(path);
    }
    if (d)
        closedir(d);
}

static void remove_folder(void)
{
    remove_outputs();
    rmdir(out_dir);
    *strrchr(out_dir, '/') = '\0';
    rmdir(out_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    snprintf(out_dir, sizeof(out_dir), "/tmp/ltprof-fuzz-events.XXXXXX");
    if (!mkdtemp(out_dir))
        abort();
    strcat(out_dir, "/out"); /* made by the converter, as `ltprof convert` makes its own */
    atexit(remove_folder);
    return 0;
}

static void save(const char *file, const char *name, const char *ext)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", out_dir, file);
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    struct fz_mem m = {0};
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        if (fz_mem_write(&m, buf, n))
            break;
    fclose(f);
    fz_save(name, ext, m.data, m.len);
    free(m.data);
}

/* With LTPROF_FUZZ_GO_CHECK=GO (a go command), each trace.out goes to `GO tool trace -d` at
 * once and a refusal aborts, keeping the trace as /tmp/ltprof-fuzz-refused.out: slow, but it
 * lets libFuzzer minimize an input whose trace the property test saw refused
 * (-minimize_crash=1). */
static void go_check_trace(void)
{
    const char *go = getenv("LTPROF_FUZZ_GO_CHECK");
    char cmd[1024], path[512];
    snprintf(path, sizeof(path), "%s/trace.out", out_dir);
    if (!go || access(path, R_OK) != 0)
        return;
    snprintf(cmd, sizeof(cmd), "%s tool trace -d %s >/dev/null 2>%s.err", go, path, out_dir);
    if (system(cmd) != 0) {
        snprintf(cmd, sizeof(cmd), "head -c 300 %s.err >&2; cp %s /tmp/ltprof-fuzz-refused.out",
                 out_dir, path);
        if (system(cmd) != 0)
            fprintf(stderr, "(no error text)\n");
        FZ_CHECK(!"go tool trace -d refused the trace");
    }
}

/* Fields the tracer writes as strings and as arrays; any other is an integer. */
static bool is_string_field(const char *name)
{
    static const char *const names[] = {"name", "path", "kind", "call", "type", "category",
                                        "message", "cpu_engine", "sched_source", "sched_note",
                                        "wait", "pairs"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

static bool is_array_field(const char *name)
{
    return strcmp(name, "stack") == 0 || strcmp(name, "records") == 0 ||
           strcmp(name, "build_id") == 0;
}

/* What the generator knows of the stream so far. */
struct gen {
    struct fz *f;
    uint64_t t;          /* the current event time (an int64_t; unsigned so it wraps) */
    uint64_t mono_to_ns; /* the trace's clock offset (payload times are CLOCK_MONOTONIC) */
    char strings[CV_EVENT_FIELDS][129];
    uint64_t pcs[CV_EVENT_FIELDS][MAX_PCS];
};

/* A number as the fields hold them: small ones, tids, addresses, times near now, anything. */
static uint64_t gen_number(struct gen *g)
{
    switch (fz_byte(g->f) % 8) {
    case 0: case 1:
        return fz_below(g->f, 16);
    case 2:
        return 1 + fz_below(g->f, 12);
    case 3: case 4: /* a CLOCK_MONOTONIC time near the event's */
        return g->t - g->mono_to_ns + fz_below(g->f, 2000000) - 1000000;
    case 5:
        return 0x400000 + fz_below(g->f, 1u << 20) * 4;
    case 6:
        return 0x7f0000000000ull + fz_below(g->f, 1ull << 32);
    default:
        return fz_below(g->f, UINT64_MAX);
    }
}

static const char *gen_string(struct gen *g, char *buf)
{
    static const char *const words[] = {
        "mutex", "rwlock_rd", "rwlock_wr", "cond", "sem", "barrier", "join", "read", "write",
        "recv", "poll", "nanosleep", "sleep", "usleep", "perf_event", "timer_create", "none",
        "main", "worker", "", "k\x1fv", "a\x1f" "1\x1e" "b\x1f" "2\x1e\x1e\x1fz", "/proc/self/exe",
        "/usr/lib/x86_64-linux-gnu/libc.so.6", "/nonexistent/lib.so"};
    size_t n = sizeof(words) / sizeof(words[0]);
    size_t pick = (size_t)fz_below(g->f, n + 2);
    return pick < n ? words[pick] : fz_string(g->f, buf, 128);
}

static uint64_t gen_array(struct gen *g, uint64_t *out)
{
    uint64_t n = fz_below(g->f, 17);
    if (fz_byte(g->f) % 16 == 0)
        n = fz_below(g->f, MAX_PCS + 1); /* deep ones now and then */
    for (uint64_t i = 0; i < n; i++)
        out[i] = fz_byte(g->f) % 4 ? 0x400000 + fz_below(g->f, 4096) * 16 : gen_number(g);
    return n;
}

/* The next event's time: mostly forward, sometimes back, equal, missing or far off. */
static void gen_time(struct gen *g, struct cv_event *ev)
{
    switch (fz_byte(g->f) % 32) {
    case 0: /* no clock */
        return;
    case 1: case 2: /* earlier */
        g->t -= fz_below(g->f, 10000000);
        break;
    case 3: case 4: /* the same */
        break;
    case 5: /* anywhere, even before the clock's origin */
        g->t = fz_below(g->f, UINT64_MAX);
        break;
    default:
        g->t += fz_below(g->f, 1000000);
    }
    ev->has_time = true;
    ev->ns = (int64_t)g->t;
    ev->mono_to_ns = (int64_t)g->mono_to_ns;
}

static void gen_event(struct gen *g, struct cv_event *ev)
{
    const struct cv_event_schema *s = &cv_event_schemas[fz_below(g->f, cv_event_schema_count)];
    uint8_t pick = fz_byte(g->f);
    bool unknown = pick % 32 == 0;
    memset(ev, 0, sizeof(*ev));
    ev->kind = unknown ? CV_EV_OTHER : s->kind;
    gen_time(g, ev);
    if (pick % 64 == 1) { /* a discarded-events report: any count, even a "negative" one */
        ev->kind = CV_EV_LOST;
        ev->pid = 4000 + (int64_t)fz_below(g->f, 3);
        ev->f[0].u = gen_number(g);
        return;
    }
    ev->pid = 4000 + (int64_t)fz_below(g->f, fz_byte(g->f) % 8 ? 1 : 3);
    ev->tid = fz_byte(g->f) % 8 ? ev->pid + (int64_t)fz_below(g->f, 12) : 0;
    for (size_t i = 0; i < CV_EVENT_FIELDS && s->fields[i] && !unknown; i++) {
        const char *name = s->fields[i] + (s->fields[i][0] == '?');
        struct cv_field *f = &ev->f[i];
        f->s = "";
        if (fz_byte(g->f) % 32 == 0)
            continue; /* of another type: 0, "" and no elements */
        if (is_string_field(name))
            f->s = gen_string(g, g->strings[i]);
        else if (is_array_field(name))
            f->a = g->pcs[i], f->n = gen_array(g, g->pcs[i]);
        else if (strcmp(name, "schema_version") == 0)
            f->u = fz_byte(g->f) % 16 ? 1 + fz_below(g->f, 2) : gen_number(g);
        else if (strcmp(name, "tid") == 0 && fz_byte(g->f) % 4)
            f->u = (uint64_t)ev->tid;
        else
            f->u = gen_number(g);
    }
}

/* With LTPROF_FUZZ_PRINT set, each event generated is printed (to read a minimized input). */
static void print_event(const struct cv_event *ev)
{
    const struct cv_event_schema *s = NULL;
    if (ev->kind == CV_EV_LOST) {
        fprintf(stderr, "(lost) pid=%lld ns=%lld count=%llu\n", (long long)ev->pid,
                (long long)ev->ns, (unsigned long long)ev->f[0].u);
        return;
    }
    for (size_t k = 0; k < cv_event_schema_count && !s; k++)
        if (cv_event_schemas[k].kind == ev->kind)
            s = &cv_event_schemas[k];
    fprintf(stderr, "%s pid=%lld tid=%lld", s ? s->name : "(other)", (long long)ev->pid,
            (long long)ev->tid);
    if (ev->has_time)
        fprintf(stderr, " ns=%lld mono_to_ns=%lld", (long long)ev->ns, (long long)ev->mono_to_ns);
    for (size_t i = 0; s && i < CV_EVENT_FIELDS && s->fields[i]; i++) {
        const struct cv_field *f = &ev->f[i];
        fprintf(stderr, " %s=", s->fields[i]);
        if (f->s && *f->s)
            fprintf(stderr, "\"%s\"", f->s);
        else if (f->n)
            fprintf(stderr, "[%llu: 0x%llx...]", (unsigned long long)f->n,
                    (unsigned long long)f->a[0]);
        else
            fprintf(stderr, "%llu", (unsigned long long)f->u);
    }
    fputc('\n', stderr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = {data, size};
    static struct gen g;
    static const char *const profiles[] = {"cpu", "heap", "allocs", "mutex", "block",
                                           "threadcreate"};
    memset(&g, 0, sizeof(g));
    g.f = &f;
    g.t = 1700000000000000000 + fz_below(&f, 1ull << 40);
    g.mono_to_ns = g.t - fz_below(&f, 1ull << 44);
    unsigned outputs = 1 + (unsigned)fz_below(&f, CV_OUTPUT_ALL);

    struct cv_state *st = cv_state_create(out_dir, outputs);
    FZ_CHECK(st != NULL);
    struct ltprof_error err = {0};
    struct cv_event ev;
    uint64_t fed = 0;
    int rc = 0;
    while (fed < MAX_EVENTS && !fz_empty(&f)) {
        gen_event(&g, &ev);
        fed += ev.kind != CV_EV_LOST; /* a report, not an event */
        if (getenv("LTPROF_FUZZ_PRINT"))
            print_event(&ev);
        if ((rc = cv_state_handle_event(st, &ev, &err)))
            break;
    }
    if (rc) {
        if (rc != LTPROF_ERR_UNSUPPORTED)
            fprintf(stderr, "event %llu: %s\n", (unsigned long long)fed, err.message);
        FZ_CHECK(rc == LTPROF_ERR_UNSUPPORTED); /* a schema version out of range */
    } else {
        struct cv_summary sum;
        rc = cv_state_finish(st, &sum, &err);
        if (rc && rc != LTPROF_ERR_NOT_FOUND && rc != LTPROF_ERR_UNSUPPORTED)
            fprintf(stderr, "finish: %s\n", err.message);
        FZ_CHECK(rc == 0 || rc == LTPROF_ERR_NOT_FOUND || rc == LTPROF_ERR_UNSUPPORTED);
        FZ_CHECK(sum.events == fed);
        if (rc == 0) {
            char file[64];
            for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++) {
                snprintf(file, sizeof(file), "%s.pb.gz", profiles[i]);
                save(file, "profile-events", "pb.gz");
            }
            save("trace.out", "trace-events", "out");
            go_check_trace();
            save("trace.json", "json-events", "json");
        }
    }
    cv_state_destroy(st);
    remove_outputs();
    return 0;
}
