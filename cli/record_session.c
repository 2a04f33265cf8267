/* SPDX-License-Identifier: MIT */
/*
 * The LTTng session of `ltprof record` (cli/record.h), through liblttng-ctl: per-PID buffers,
 * the vpid process-attribute tracker (never a filter: a filter makes the session daemon
 * contact every traced program), contexts vpid and vtid, events ltprof:* plus the statedump
 * and library events that symbolization needs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lttng/lttng.h>

#include "record.h"

#define CHANNEL "ltprof"

static int fail(const char *what, int code)
{
    fprintf(stderr, "ltprof record: %s: %s\n", what, lttng_strerror(code < 0 ? code : -code));
    return -1;
}

int rec_ensure_sessiond(void)
{
    if (lttng_session_daemon_alive() == 1)
        return 0;
    printf("ltprof: no LTTng session daemon is running; starting lttng-sessiond\n");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        /* --daemonize returns once the daemon is ready to take commands. */
        execlp("lttng-sessiond", "lttng-sessiond", "--daemonize", "--no-kernel", (char *)NULL);
        _exit(127);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0 || lttng_session_daemon_alive() != 1) {
        fprintf(stderr, "ltprof record: could not start lttng-sessiond (install the lttng-tools "
                        "package; without root, join the `tracing` group or run "
                        "`lttng-sessiond --daemonize` yourself)\n");
        return -1;
    }
    return 0;
}

static int add_context(struct lttng_handle *h, enum lttng_event_context_type type)
{
    struct lttng_event_context ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.ctx = type;
    int rc = lttng_add_context(h, &ctx, NULL, CHANNEL);
    return rc < 0 ? fail("cannot add a context to the channel", rc) : 0;
}

static int enable_event(struct lttng_handle *h, const char *pattern)
{
    struct lttng_event *ev = lttng_event_create();
    if (!ev)
        return fail("cannot create an event rule", -LTTNG_ERR_NOMEM);
    snprintf(ev->name, sizeof(ev->name), "%s", pattern);
    ev->type = LTTNG_EVENT_TRACEPOINT;
    ev->loglevel_type = LTTNG_EVENT_LOGLEVEL_ALL;
    int rc = lttng_enable_event_with_exclusions(h, ev, CHANNEL, NULL, 0, NULL);
    lttng_event_destroy(ev);
    return rc < 0 ? fail("cannot enable events", rc) : 0;
}

static int setup_channel(const char *name)
{
    struct lttng_domain dom;
    memset(&dom, 0, sizeof(dom));
    dom.type = LTTNG_DOMAIN_UST;
    dom.buf_type = LTTNG_BUFFER_PER_PID;
    struct lttng_handle *h = lttng_create_handle(name, &dom);
    struct lttng_channel *ch = h ? lttng_channel_create(&dom) : NULL;
    int rc = -1;
    if (!ch) {
        fail("cannot create the channel", -LTTNG_ERR_NOMEM);
        goto end;
    }
    snprintf(ch->name, sizeof(ch->name), "%s", CHANNEL);
    ch->attr.overwrite = 0;            /* discard mode: losses are counted, not hidden */
    ch->attr.subbuf_size = 1 << 20;    /* 8 MiB per CPU: about 20 s of 100 Hz on 64 threads */
    ch->attr.num_subbuf = 8;
    int r = lttng_enable_channel(h, ch);
    if (r < 0) {
        fail("cannot enable the channel", r);
        goto end;
    }
    if (add_context(h, LTTNG_EVENT_CONTEXT_VPID) || add_context(h, LTTNG_EVENT_CONTEXT_VTID) ||
        enable_event(h, "ltprof:*") || enable_event(h, "lttng_ust_statedump:*") ||
        enable_event(h, "lttng_ust_lib:*"))
        goto end;
    rc = 0;
end:
    lttng_channel_destroy(ch);
    lttng_destroy_handle(h);
    return rc;
}

int rec_session_create(const char *name, const char *trace_dir)
{
    struct lttng_session_descriptor *d = lttng_session_descriptor_local_create(name, trace_dir);
    if (!d)
        return fail("cannot describe the session", -LTTNG_ERR_NOMEM);
    enum lttng_error_code code = lttng_create_session_ext(d);
    lttng_session_descriptor_destroy(d);
    if (code != LTTNG_OK)
        return fail("cannot create an LTTng session", -(int)code);
    if (setup_channel(name) != 0) {
        rec_session_destroy(name);
        return -1;
    }
    return 0;
}

int rec_session_track_and_start(const char *name, pid_t pid)
{
    struct lttng_process_attr_tracker_handle *t = NULL;
    enum lttng_error_code code = lttng_session_get_tracker_handle(
        name, LTTNG_DOMAIN_UST, LTTNG_PROCESS_ATTR_VIRTUAL_PROCESS_ID, &t);
    if (code != LTTNG_OK)
        return fail("cannot get the process tracker", -(int)code);
    int bad = lttng_process_attr_tracker_handle_set_tracking_policy(
                  t, LTTNG_TRACKING_POLICY_INCLUDE_SET) != LTTNG_PROCESS_ATTR_TRACKER_HANDLE_STATUS_OK ||
              lttng_process_attr_virtual_process_id_tracker_handle_add_pid(t, pid) !=
                  LTTNG_PROCESS_ATTR_TRACKER_HANDLE_STATUS_OK;
    lttng_process_attr_tracker_handle_destroy(t);
    if (bad) {
        fprintf(stderr, "ltprof record: cannot track process %d\n", (int)pid);
        return -1;
    }
    int rc = lttng_start_tracing(name);
    return rc < 0 ? fail("cannot start tracing", rc) : 0;
}

int rec_session_stop(const char *name)
{
    /* Waits until every buffer reached the trace files. */
    int rc = lttng_stop_tracing(name);
    return rc < 0 ? fail("cannot stop tracing", rc) : 0;
}

void rec_session_destroy(const char *name)
{
    struct lttng_destruction_handle *dh = NULL;
    if (lttng_destroy_session_ext(name, &dh) == LTTNG_OK && dh) {
        lttng_destruction_handle_wait_for_completion(dh, -1);
        lttng_destruction_handle_destroy(dh);
    }
}
