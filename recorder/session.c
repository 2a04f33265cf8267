/* SPDX-License-Identifier: MIT */
/*
 * LTTng sessions through liblttng-ctl (recorder.h): per-PID buffers, the vpid process-attribute
 * tracker (never a filter: a filter makes the session daemon contact every traced program and
 * wait for each), contexts vpid and vtid, events ltprof:* plus the statedump and library events
 * that symbolization needs. liblttng-ctl never starts a daemon; rc_sessiond_ensure does what
 * the lttng command does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lttng/lttng.h>

#include "recorder.h"

#define CHANNEL "ltprof"

extern char **environ;

static int fail(struct ltprof_error *err, const char *what, int code)
{
    snprintf(err->message, sizeof(err->message), "%s: %s", what,
             lttng_strerror(code < 0 ? code : -code));
    return LTPROF_ERR_IO;
}

/* The environment without LD_PRELOAD and LTPROF_*: the daemon is not a program to profile. */
static char **daemon_environment(void)
{
    size_t n = 0;
    while (environ && environ[n])
        n++;
    char **env = calloc(n + 1, sizeof(*env));
    size_t k = 0;
    for (size_t i = 0; env && i < n; i++)
        if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0 && strncmp(environ[i], "LTPROF_", 7) != 0)
            env[k++] = environ[i];
    return env;
}

int rc_sessiond_ensure(int spawn, int *spawned, struct ltprof_error *err)
{
    if (spawned)
        *spawned = 0;
    if (lttng_session_daemon_alive() == 1)
        return 0;
    if (!spawn) {
        snprintf(err->message, sizeof(err->message),
                 "no LTTng session daemon runs here; start one with `lttng-sessiond --daemonize` "
                 "(as root, or as a member of the tracing group)");
        return LTPROF_ERR_UNSUPPORTED;
    }
    char *argv[] = {"lttng-sessiond", "--daemonize", "--no-kernel", NULL};
    char **env = daemon_environment();
    pid_t pid = -1;
    /* posix_spawn, not fork: no fork handlers run in this (possibly big, threaded) process.
     * --daemonize returns once the daemon takes commands. */
    int rc = env ? posix_spawnp(&pid, "lttng-sessiond", NULL, NULL, argv, env) : ENOMEM;
    free(env);
    int status = 0;
    if (rc != 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0 || lttng_session_daemon_alive() != 1) {
        snprintf(err->message, sizeof(err->message),
                 "could not start lttng-sessiond (%s): install the lttng-tools package; without "
                 "root, join the tracing group or run `lttng-sessiond --daemonize` yourself",
                 rc ? strerror(rc) : "it failed");
        return LTPROF_ERR_UNSUPPORTED;
    }
    if (spawned)
        *spawned = 1;
    return 0;
}

static int add_context(struct lttng_handle *h, enum lttng_event_context_type type,
                       struct ltprof_error *err)
{
    struct lttng_event_context ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.ctx = type;
    int rc = lttng_add_context(h, &ctx, NULL, CHANNEL);
    return rc < 0 ? fail(err, "cannot add a context to the channel", rc) : 0;
}

static int enable_event(struct lttng_handle *h, const char *pattern, struct ltprof_error *err)
{
    struct lttng_event *ev = lttng_event_create();
    if (!ev)
        return fail(err, "cannot create an event rule", -LTTNG_ERR_NOMEM);
    snprintf(ev->name, sizeof(ev->name), "%s", pattern);
    ev->type = LTTNG_EVENT_TRACEPOINT;
    ev->loglevel_type = LTTNG_EVENT_LOGLEVEL_ALL;
    int rc = lttng_enable_event_with_exclusions(h, ev, CHANNEL, NULL, 0, NULL);
    lttng_event_destroy(ev);
    return rc < 0 ? fail(err, "cannot enable events", rc) : 0;
}

static int setup_channel(const char *name, uint64_t subbuf_bytes, struct ltprof_error *err)
{
    struct lttng_domain dom;
    memset(&dom, 0, sizeof(dom));
    dom.type = LTTNG_DOMAIN_UST;
    dom.buf_type = LTTNG_BUFFER_PER_PID;
    struct lttng_handle *h = lttng_create_handle(name, &dom);
    struct lttng_channel *ch = h ? lttng_channel_create(&dom) : NULL;
    int rc = LTPROF_ERR_NOMEM;
    if (!ch) {
        fail(err, "cannot create the channel", -LTTNG_ERR_NOMEM);
        goto end;
    }
    snprintf(ch->name, sizeof(ch->name), "%s", CHANNEL);
    ch->attr.overwrite = 0; /* discard mode: losses are counted, not hidden */
    ch->attr.subbuf_size = subbuf_bytes;
    ch->attr.num_subbuf = 8;
    int r = lttng_enable_channel(h, ch);
    if (r == -LTTNG_ERR_FATAL || r == -LTTNG_ERR_NO_USTCONSUMERD) { /* its consumer died */
        snprintf(err->message, sizeof(err->message),
                 "cannot enable the channel: the session daemon cannot trace any more (%s; "
                 "its lttng-consumerd may have died): restart lttng-sessiond",
                 lttng_strerror(r));
        rc = LTPROF_ERR_IO;
        goto end;
    }
    if (r < 0) {
        rc = fail(err, "cannot enable the channel", r);
        goto end;
    }
    if ((rc = add_context(h, LTTNG_EVENT_CONTEXT_VPID, err)) ||
        (rc = add_context(h, LTTNG_EVENT_CONTEXT_VTID, err)) ||
        (rc = enable_event(h, "lttng_ust_statedump:*", err)) ||
        (rc = enable_event(h, "lttng_ust_lib:*", err)))
        goto end;
    rc = 0;
end:
    lttng_channel_destroy(ch);
    lttng_destroy_handle(h);
    return rc;
}

int rc_session_create(const char *name, const char *trace_dir, uint64_t subbuf_bytes,
                      struct ltprof_error *err)
{
    struct lttng_session_descriptor *d = lttng_session_descriptor_local_create(name, trace_dir);
    if (!d)
        return fail(err, "cannot describe the session", -LTTNG_ERR_NOMEM);
    enum lttng_error_code code = lttng_create_session_ext(d);
    lttng_session_descriptor_destroy(d);
    if (code != LTTNG_OK)
        return fail(err, "cannot create an LTTng session", -(int)code);
    int rc = setup_channel(name, subbuf_bytes, err);
    if (rc != 0)
        rc_session_destroy(name);
    return rc;
}

int rc_session_enable_ltprof(const char *name, struct ltprof_error *err)
{
    struct lttng_domain dom;
    memset(&dom, 0, sizeof(dom));
    dom.type = LTTNG_DOMAIN_UST;
    dom.buf_type = LTTNG_BUFFER_PER_PID;
    struct lttng_handle *h = lttng_create_handle(name, &dom);
    if (!h)
        return fail(err, "cannot reach the session", -LTTNG_ERR_NOMEM);
    int rc = enable_event(h, "ltprof:*", err);
    lttng_destroy_handle(h);
    return rc;
}

int rc_session_track_and_start(const char *name, pid_t pid, struct ltprof_error *err)
{
    struct lttng_process_attr_tracker_handle *t = NULL;
    enum lttng_error_code code = lttng_session_get_tracker_handle(
        name, LTTNG_DOMAIN_UST, LTTNG_PROCESS_ATTR_VIRTUAL_PROCESS_ID, &t);
    if (code != LTTNG_OK)
        return fail(err, "cannot get the process tracker", -(int)code);
    int bad = lttng_process_attr_tracker_handle_set_tracking_policy(
                  t, LTTNG_TRACKING_POLICY_INCLUDE_SET) !=
                  LTTNG_PROCESS_ATTR_TRACKER_HANDLE_STATUS_OK ||
              lttng_process_attr_virtual_process_id_tracker_handle_add_pid(t, pid) !=
                  LTTNG_PROCESS_ATTR_TRACKER_HANDLE_STATUS_OK;
    lttng_process_attr_tracker_handle_destroy(t);
    if (bad) {
        snprintf(err->message, sizeof(err->message), "cannot track process %d", (int)pid);
        return LTPROF_ERR_IO;
    }
    int rc = lttng_start_tracing(name);
    return rc < 0 ? fail(err, "cannot start tracing", rc) : 0;
}

int rc_session_stop(const char *name, struct ltprof_error *err)
{
    int rc = lttng_stop_tracing_no_wait(name);
    if (rc < 0)
        return fail(err, "cannot stop tracing", rc);
    /* Every buffer in the trace files: the consumer answers within a few ms. */
    for (int i = 0; i < 30000; i++) {
        rc = lttng_data_pending(name);
        if (rc == 0)
            return 0;
        if (rc < 0)
            return fail(err, "cannot wait for the trace data", rc);
        usleep(1000);
    }
    snprintf(err->message, sizeof(err->message), "the trace data did not arrive in 30 s");
    return LTPROF_ERR_IO;
}

void rc_session_destroy(const char *name)
{
    struct lttng_destruction_handle *dh = NULL;
    if (lttng_destroy_session_ext(name, &dh) == LTTNG_OK && dh) {
        lttng_destruction_handle_wait_for_completion(dh, 30000);
        lttng_destruction_handle_destroy(dh);
    }
}

static int registered(pid_t pid)
{
    struct lttng_domain dom;
    memset(&dom, 0, sizeof(dom));
    dom.type = LTTNG_DOMAIN_UST;
    struct lttng_handle *h = lttng_create_handle(NULL, &dom);
    struct lttng_event *events = NULL;
    int n = h ? lttng_list_tracepoints(h, &events) : -1, found = 0;
    for (int i = 0; i < n && !found; i++)
        found = events[i].pid == pid;
    free(events);
    lttng_destroy_handle(h);
    return found;
}

int rc_wait_registered(pid_t pid, int ms)
{
    for (int waited = 0; waited <= ms; waited += 20) {
        if (registered(pid))
            return 0;
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return -1;
}
