/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the execution-trace model (converter/timeline.c): events go in through the
 * tl_* functions, a recording output writes each transition as a line of text, and the cases
 * compare those lines with what the rules say (who wakes whom, tid reuse, events after an
 * exit, threads found late, times that go backwards). No LTTng, no babeltrace2 graph.
 * Usage: test_timeline CASE
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "internal.h"
#include "timeline.h"

#define PID 100
#define MS 1000000ull

/* ---- a recording output ---------------------------------------------------------------------- */

static char log_text[1 << 16];
static size_t log_len;

static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_len += (size_t)vsnprintf(log_text + log_len, sizeof(log_text) - log_len, fmt, ap);
    va_end(ap);
    log_len += (size_t)snprintf(log_text + log_len, sizeof(log_text) - log_len, "\n");
}

static uint64_t rel(uint64_t ts)
{
    return ts / MS; /* the cases use whole milliseconds */
}

static int r_begin(void *ctx, uint64_t t0)
{
    (void)ctx;
    say("begin %llu", (unsigned long long)rel(t0));
    return 0;
}

static int r_new(void *ctx, const struct tl_thread *t, uint64_t ts, const struct tl_thread *creator,
                 uint64_t create_ts, uint32_t create_stack, uint64_t start_fn, bool waiting)
{
    (void)ctx;
    (void)create_stack;
    (void)start_fn;
    if (creator)
        say("new %u by %u at %llu", t->tid, creator->tid, (unsigned long long)rel(create_ts));
    else
        say("new %u %s at %llu", t->tid, waiting ? "waiting" : "alone", (unsigned long long)rel(ts));
    return 0;
}

static int r_renamed(void *ctx, const struct tl_thread *t)
{
    (void)ctx;
    say("name %u %s", t->tid, t->name);
    return 0;
}

static int r_run(void *ctx, const struct tl_thread *t, uint64_t ts, int cpu)
{
    (void)ctx;
    (void)cpu;
    say("run %u %llu", t->tid, (unsigned long long)rel(ts));
    return 0;
}

static const char *why_name(enum tl_stop why)
{
    static const char *names[] = {"preempt", "offcpu", "sync", "cond", "join", "sleep", "syscall"};
    return names[why];
}

static int r_stop(void *ctx, const struct tl_thread *t, uint64_t ts, enum tl_stop why,
                  uint32_t stack, const char *detail, uint64_t addr)
{
    (void)ctx;
    (void)stack;
    (void)addr;
    say("stop %u %llu %s %s", t->tid, (unsigned long long)rel(ts), why_name(why),
        detail ? detail : "-");
    return 0;
}

static int r_wake(void *ctx, const struct tl_thread *t, uint64_t ts, enum tl_stop from,
                  const struct tl_thread *waker, uint64_t waker_ts, const char *how, uint32_t stack)
{
    (void)ctx;
    (void)stack;
    if (waker)
        say("wake %u %llu from %s by %u at %llu (%s)", t->tid, (unsigned long long)rel(ts),
            why_name(from), waker->tid, (unsigned long long)rel(waker_ts), how ? how : "-");
    else
        say("wake %u %llu from %s", t->tid, (unsigned long long)rel(ts), why_name(from));
    return 0;
}

static int r_end(void *ctx, const struct tl_thread *t, uint64_t ts)
{
    (void)ctx;
    say("end %u %llu", t->tid, (unsigned long long)rel(ts));
    return 0;
}

static int r_sample(void *ctx, const struct tl_thread *t, uint64_t ts, uint32_t stack)
{
    (void)ctx;
    (void)stack;
    say("sample %u %llu", t->tid, (unsigned long long)rel(ts));
    return 0;
}

static int r_task(void *ctx, const struct tl_thread *t, uint64_t ts, uint64_t task, uint64_t parent,
                  const char *type, bool end, uint32_t stack)
{
    (void)ctx;
    (void)stack;
    (void)parent;
    say("task %u %llu %s %llu %s", t->tid, (unsigned long long)rel(ts), end ? "end" : "create",
        (unsigned long long)task, type);
    return 0;
}

static int r_region(void *ctx, const struct tl_thread *t, uint64_t ts, uint64_t task,
                    const char *type, bool end, uint32_t stack)
{
    (void)ctx;
    (void)stack;
    say("region %u %llu %s %llu %s", t->tid, (unsigned long long)rel(ts), end ? "end" : "begin",
        (unsigned long long)task, type);
    return 0;
}

static int r_log(void *ctx, const struct tl_thread *t, uint64_t ts, uint64_t task,
                 const char *category, const char *message, uint32_t stack)
{
    (void)ctx;
    (void)stack;
    (void)task;
    say("log %u %llu %s=%s", t->tid, (unsigned long long)rel(ts), category, message);
    return 0;
}

static int r_heap(void *ctx, const struct tl_thread *t, uint64_t ts, uint64_t bytes)
{
    (void)ctx;
    say("heap %u %llu %llu", t->tid, (unsigned long long)rel(ts), (unsigned long long)bytes);
    return 0;
}

static int r_note(void *ctx, const struct tl_thread *t, uint64_t ts, const char *text)
{
    (void)ctx;
    (void)text;
    say("note %u %llu", t->tid, (unsigned long long)rel(ts));
    return 0;
}

static int r_finish(void *ctx, uint64_t end_ts, const struct tl_thread *const *live, size_t n)
{
    (void)ctx;
    (void)live;
    say("finish %llu live %zu", (unsigned long long)rel(end_ts), n);
    return 0;
}

static void r_destroy(void *ctx)
{
    (void)ctx;
}

static const struct tl_ops recorder = {
    "recorder", r_begin, r_new, r_renamed, r_run, r_stop, r_wake, r_end, r_sample, r_task,
    r_region, r_log, r_heap, r_note, r_finish, r_destroy,
};

/* ---- harness --------------------------------------------------------------------------------- */

static struct cv_state *st;
static struct tl_timeline *tl;
static struct tl_output out = {&recorder, NULL};

static void setup(void)
{
    st = cv_state_create("/nonexistent", 0);
    CHECK(st);
    tl = tl_create(st, &out, 1);
    CHECK(tl);
    log_len = 0;
    log_text[0] = '\0';
}

static void teardown(void)
{
    tl_destroy(tl);
    cv_state_destroy(st);
}

/* Every input event announces its time first, as events.c does. */
#define AT(ms) CHECK(tl_event_time(tl, (ms) * MS) == 0)

static void expect_line(const char *line)
{
    char want[256];
    snprintf(want, sizeof(want), "%s\n", line);
    if (!strstr(log_text, want)) {
        fprintf(stderr, "missing line \"%s\" in:\n%s", line, log_text);
        exit(1);
    }
}

static void expect_no(const char *text)
{
    if (strstr(log_text, text)) {
        fprintf(stderr, "unexpected \"%s\" in:\n%s", text, log_text);
        exit(1);
    }
}

/* Thread 2 started by 1 at `ms`. */
static void start(uint32_t tid, uint32_t creator, uint64_t ms, uint64_t pthread)
{
    AT(ms);
    CHECK(tl_thread_start(tl, ms * MS, PID, tid, pthread, creator, ms * MS, 0, "", 0) == 0);
}

/* ---- cases ----------------------------------------------------------------------------------- */

/* One release wakes one waiter: the second waiter's wait ends with the next release. */
static void timeline_mutex_release_wakes_one_waiter(void)
{
    setup();
    start(2, 1, 1, 0x2000);
    start(3, 1, 1, 0x3000);
    AT(2);
    CHECK(tl_wait_begin(tl, 2 * MS, PID, 2, "mutex", 0xa, 0, 0) == 0);
    AT(3);
    CHECK(tl_wait_begin(tl, 3 * MS, PID, 3, "mutex", 0xa, 0, 0) == 0);
    AT(4);
    CHECK(tl_wake(tl, 4 * MS, PID, 1, "mutex", 0xa, 0) == 0);
    AT(5);
    CHECK(tl_wait_end(tl, 5 * MS, PID, 2, "mutex", 0xa) == 0);
    AT(6);
    CHECK(tl_wait_end(tl, 6 * MS, PID, 3, "mutex", 0xa) == 0); /* no release since: unknown */
    AT(7);
    CHECK(tl_finish(tl, 7 * MS) == 0);
    expect_line("stop 2 2 sync mutex");
    expect_line("wake 2 5 from sync by 1 at 4 (mutex)");
    expect_line("run 2 5");
    expect_line("wake 3 6 from sync");
    expect_line("run 3 6");
    teardown();
}

/* A broadcast wakes every waiter that began before it; a release older than a wait does not
 * end it. */
static void timeline_broadcast_wakes_all_and_old_releases_do_not(void)
{
    setup();
    start(2, 1, 1, 0x2000);
    start(3, 1, 1, 0x3000);
    AT(2);
    CHECK(tl_wake(tl, 2 * MS, PID, 1, "cond_signal", 0xc, 0) == 0); /* before any wait */
    AT(3);
    CHECK(tl_wait_begin(tl, 3 * MS, PID, 2, "cond", 0xc, 0, 0) == 0);
    CHECK(tl_wait_begin(tl, 3 * MS, PID, 3, "cond", 0xc, 0, 0) == 0);
    AT(4);
    CHECK(tl_wake(tl, 4 * MS, PID, 1, "cond_broadcast", 0xc, 0) == 0);
    AT(5);
    CHECK(tl_wait_end(tl, 5 * MS, PID, 2, "cond", 0xc) == 0);
    CHECK(tl_wait_end(tl, 5 * MS, PID, 3, "cond", 0xc) == 0);
    CHECK(tl_finish(tl, 6 * MS) == 0);
    expect_line("stop 2 3 cond cond");
    expect_line("wake 2 5 from cond by 1 at 4 (cond_broadcast)");
    expect_line("wake 3 5 from cond by 1 at 4 (cond_broadcast)");
    teardown();
}

/* A join ends with the joined thread's exit, whether the exit comes before or after the join
 * began waiting. */
static void timeline_join_woken_by_exit(void)
{
    setup();
    start(2, 1, 1, 0x2000);
    start(3, 1, 1, 0x3000);
    AT(2);
    CHECK(tl_wait_begin(tl, 2 * MS, PID, 1, "join", 0x2000, 0x2000, 0) == 0);
    AT(3);
    CHECK(tl_thread_exit(tl, 3 * MS, PID, 2) == 0);
    AT(4);
    CHECK(tl_wait_end(tl, 4 * MS, PID, 1, "join", 0x2000) == 0);
    AT(5);
    CHECK(tl_thread_exit(tl, 5 * MS, PID, 3) == 0); /* exits before the join begins */
    AT(6);
    CHECK(tl_wait_begin(tl, 6 * MS, PID, 1, "join", 0x3000, 0x3000, 0) == 0);
    AT(7);
    CHECK(tl_wait_end(tl, 7 * MS, PID, 1, "join", 0x3000) == 0);
    CHECK(tl_finish(tl, 8 * MS) == 0);
    expect_line("wake 1 3 from join by 2 at 3 (exit)");
    expect_line("end 2 3");
    expect_line("run 1 4");
    expect_line("wake 1 7 from join by 3 at 5 (exit)");
    teardown();
}

/* The last thread to arrive at a barrier wakes the others. */
static void timeline_barrier_last_arrival_wakes(void)
{
    setup();
    start(2, 1, 1, 0x2000);
    start(3, 1, 1, 0x3000);
    AT(2);
    CHECK(tl_wait_begin(tl, 2 * MS, PID, 2, "barrier", 0xb, 0, 0) == 0);
    AT(3);
    CHECK(tl_wait_begin(tl, 3 * MS, PID, 3, "barrier", 0xb, 0, 0) == 0);
    AT(4);
    CHECK(tl_wait_end(tl, 4 * MS, PID, 3, "barrier", 0xb) == 0);
    CHECK(tl_wait_end(tl, 4 * MS, PID, 2, "barrier", 0xb) == 0);
    CHECK(tl_finish(tl, 5 * MS) == 0);
    expect_line("wake 2 4 from sync by 3 at 3 (barrier)");
    expect_line("wake 3 4 from sync"); /* the last arrival waited for nobody */
    teardown();
}

/* Linux reuses tids: a second thread with the same tid is a new lifetime; what the first one
 * emitted after its exit is dropped, not taken for a thread found late. */
static void timeline_tid_reuse_and_events_after_exit(void)
{
    setup();
    start(2, 1, 1, 0x2000);
    AT(2);
    CHECK(tl_thread_exit(tl, 2 * MS, PID, 2) == 0);
    AT(3);
    CHECK(tl_switch(tl, PID, 2, 3 * MS, true, false, 0) == 0); /* its last switches */
    CHECK(tl_cpu_sample(tl, 3 * MS, PID, 2, 0) == 0);
    start(2, 1, 4, 0x2000);
    AT(5);
    CHECK(tl_thread_exit(tl, 5 * MS, PID, 2) == 0);
    CHECK(tl_finish(tl, 6 * MS) == 0);
    struct tl_stats s;
    tl_get_stats(tl, &s);
    CHECK(s.threads == 3); /* thread 1 (found late), and two lifetimes of tid 2 */
    CHECK(s.after_exit == 2);
    expect_line("end 2 2");
    expect_line("new 2 by 1 at 4");
    expect_line("end 2 5");
    expect_no("new 2 waiting");
    teardown();
}

/* A thread seen first in the middle of its life waits from the trace's start: a call that
 * began before the trace is that wait, ending when the call returns; a thread's times never go
 * backwards. */
static void timeline_found_late_and_clamped(void)
{
    setup();
    AT(10);
    CHECK(tl_call(tl, PID, 7, "read", 4 * MS, 12 * MS, 0) == 0); /* began before the trace */
    AT(13);
    CHECK(tl_wait_begin(tl, 13 * MS, PID, 7, "mutex", 0xa, 0, 0) == 0);
    AT(14);
    CHECK(tl_wait_end(tl, 11 * MS, PID, 7, "mutex", 0xa) == 0); /* a clock that disagrees */
    CHECK(tl_finish(tl, 15 * MS) == 0);
    expect_line("begin 10");
    expect_line("new 7 waiting at 10");
    expect_line("wake 7 12 from offcpu"); /* waiting on something unknown, until the call ends */
    expect_line("run 7 12");
    expect_no("syscall read");
    expect_line("stop 7 13 sync mutex");
    expect_line("wake 7 13 from sync"); /* raised to its last event */
    teardown();
}

/* Context switches: preemption makes a thread runnable, a voluntary switch outside any wait
 * puts it off CPU, switches inside a recorded wait change nothing, old ones are dropped. */
static void timeline_context_switches(void)
{
    setup();
    start(2, 1, 1, 0x2000);
    CHECK(tl_switch(tl, PID, 2, 2 * MS, true, true, 0) == 0);
    CHECK(tl_switch(tl, PID, 2, 3 * MS, false, false, 1) == 0);
    CHECK(tl_switch(tl, PID, 2, 4 * MS, true, false, 1) == 0);
    CHECK(tl_switch(tl, PID, 2, 5 * MS, false, false, 0) == 0);
    AT(6);
    CHECK(tl_wait_begin(tl, 6 * MS, PID, 2, "mutex", 0xa, 0, 0) == 0);
    CHECK(tl_switch(tl, PID, 2, 7 * MS, true, false, 0) == 0);
    CHECK(tl_switch(tl, PID, 2, 8 * MS, false, false, 0) == 0);
    CHECK(tl_switch(tl, PID, 2, 1 * MS, true, false, 0) == 0); /* older than its events */
    AT(9);
    CHECK(tl_wait_end(tl, 9 * MS, PID, 2, "mutex", 0xa) == 0);
    CHECK(tl_finish(tl, 10 * MS) == 0);
    expect_line("stop 2 2 preempt -");
    expect_line("run 2 3");
    expect_line("stop 2 4 offcpu -");
    expect_line("wake 2 5 from offcpu");
    expect_line("run 2 5");
    expect_line("stop 2 6 sync mutex");
    expect_line("wake 2 9 from sync");
    expect_no("stop 2 7");
    struct tl_stats s;
    tl_get_stats(tl, &s);
    CHECK(s.switches_stale == 1);
    teardown();
}

/* Regions end only when they match the innermost open one; sleeps are sleeps. */
static void timeline_regions_and_sleeps(void)
{
    setup();
    start(2, 1, 1, 0x2000);
    AT(2);
    CHECK(tl_region(tl, 2 * MS, PID, 2, 5, "outer", false, 0) == 0);
    CHECK(tl_region(tl, 2 * MS, PID, 2, 5, "inner", false, 0) == 0);
    CHECK(tl_region(tl, 2 * MS, PID, 2, 5, "outer", true, 0) == 0); /* not the innermost */
    CHECK(tl_region(tl, 2 * MS, PID, 2, 5, "inner", true, 0) == 0);
    CHECK(tl_region(tl, 2 * MS, PID, 2, 5, "outer", true, 0) == 0);
    AT(3);
    CHECK(tl_call(tl, PID, 2, "nanosleep", 3 * MS, 5 * MS, 0) == 0);
    CHECK(tl_finish(tl, 6 * MS) == 0);
    struct tl_stats s;
    tl_get_stats(tl, &s);
    CHECK(s.regions_dropped == 1);
    expect_line("region 2 2 end 5 inner");
    expect_line("region 2 2 end 5 outer");
    expect_line("stop 2 3 sleep nanosleep");
    expect_line("wake 2 5 from sleep");
    teardown();
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*fn)(void);
    } cases[] = {
        {"timeline_mutex_release_wakes_one_waiter", timeline_mutex_release_wakes_one_waiter},
        {"timeline_broadcast_wakes_all_and_old_releases_do_not",
         timeline_broadcast_wakes_all_and_old_releases_do_not},
        {"timeline_join_woken_by_exit", timeline_join_woken_by_exit},
        {"timeline_barrier_last_arrival_wakes", timeline_barrier_last_arrival_wakes},
        {"timeline_tid_reuse_and_events_after_exit", timeline_tid_reuse_and_events_after_exit},
        {"timeline_found_late_and_clamped", timeline_found_late_and_clamped},
        {"timeline_context_switches", timeline_context_switches},
        {"timeline_regions_and_sleeps", timeline_regions_and_sleeps},
    };
    CHECK(argc == 2);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (strcmp(argv[1], cases[i].name) == 0) {
            cases[i].fn();
            printf("ok %s\n", cases[i].name);
            return 0;
        }
    }
    fprintf(stderr, "unknown case %s\n", argv[1]);
    return 2;
}
