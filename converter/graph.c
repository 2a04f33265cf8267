/* SPDX-License-Identifier: MIT */
/*
 * cv_convert_dir(): runs a babeltrace2 graph in this process over every CTF trace found under
 * a folder: one source.ctf.fs per trace → filter.utils.muxer → the ltprof sink class created
 * at run time (no plugin .so needed). The ctf and utils plugins come from babeltrace2's
 * system plugin folder. Used by `ltprof convert` and `ltprof record`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define SINK_NAME "ltprof"

/* Trace folders found by nftw (a folder holding a file named "metadata"). */
static struct {
    char **dirs;
    size_t n, cap;
    bool nomem; /* collect() ran out of memory (nftw's errno would be stale) */
} found;

static int collect(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    if (type != FTW_F || strcmp(path + ftw->base, "metadata") != 0)
        return 0;
    if (found.n == found.cap) {
        size_t cap = found.cap ? found.cap * 2 : 8;
        char **d = cv_realloc(found.dirs, cap * sizeof(*d));
        if (!d) {
            found.nomem = true;
            return -1;
        }
        found.dirs = d;
        found.cap = cap;
    }
    char *dir = cv_strndup(path, ftw->base ? (size_t)ftw->base - 1 : 0);
    if (!dir) {
        found.nomem = true;
        return -1;
    }
    found.dirs[found.n++] = dir;
    return 0;
}

static void found_clear(void)
{
    for (size_t i = 0; i < found.n; i++)
        free(found.dirs[i]);
    free(found.dirs);
    memset(&found, 0, sizeof(found));
}

/* One line from the thread's babeltrace2 error: our sink's cause if any, else the root cause
 * (cause 0 is the first appended, the deepest; the last is the library's generic one). */
static void take_bt_error(struct ltprof_error *err, const char *what)
{
    const bt_error *e = bt_current_thread_take_error();
    const char *msg = NULL;
    if (e) {
        uint64_t n = bt_error_get_cause_count(e);
        for (uint64_t i = 0; i < n && !msg; i++) {
            const bt_error_cause *c = bt_error_borrow_cause_by_index(e, i);
            if (bt_error_cause_get_actor_type(c) == BT_ERROR_CAUSE_ACTOR_TYPE_COMPONENT &&
                strcmp(bt_error_cause_component_actor_get_component_name(c), SINK_NAME) == 0)
                msg = bt_error_cause_get_message(c);
        }
        if (!msg && n)
            msg = bt_error_cause_get_message(bt_error_borrow_cause_by_index(e, 0));
    }
    cv_error(err, LTPROF_ERR_INVALID, "%s%s%s", what, msg ? ": " : "", msg ? msg : "");
    for (char *p = err->message; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    if (e)
        bt_error_release(e);
}

static int add_source(bt_graph *g, const bt_component_class_source *fs, const char *dir, size_t i,
                      const bt_component_filter *mux, struct ltprof_error *err)
{
    char name[32];
    const bt_component_source *src = NULL;
    bt_value *params = bt_value_map_create(), *inputs = NULL;
    int rc = 0;

    if (!params || bt_value_map_insert_empty_array_entry(params, "inputs", &inputs) ||
        bt_value_array_append_string_element(inputs, dir)) {
        rc = cv_error(err, LTPROF_ERR_NOMEM, "out of memory");
        goto end;
    }
    snprintf(name, sizeof(name), "source-%zu", i);
    if (bt_graph_add_source_component(g, fs, name, params, BT_LOGGING_LEVEL_NONE, &src)) {
        take_bt_error(err, "failed to open the CTF trace");
        rc = LTPROF_ERR_INVALID;
        goto end;
    }
    for (uint64_t p = 0; p < bt_component_source_get_output_port_count(src); p++) {
        const bt_port_output *op = bt_component_source_borrow_output_port_by_index_const(src, p);
        const bt_port_input *ip = NULL;
        for (uint64_t q = 0; q < bt_component_filter_get_input_port_count(mux) && !ip; q++) {
            const bt_port_input *cand = bt_component_filter_borrow_input_port_by_index_const(mux, q);
            if (!bt_port_is_connected(bt_port_input_as_port_const(cand)))
                ip = cand;
        }
        if (!ip || bt_graph_connect_ports(g, op, ip, NULL)) {
            take_bt_error(err, "failed to connect the trace's streams");
            rc = LTPROF_ERR_INVALID;
            goto end;
        }
    }
end:
    bt_value_put_ref(params);
    return rc;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs the graph a step at a time so a long conversion can report progress. Returns END on
 * success. */
static bt_graph_run_once_status run_steps(bt_graph *g, const struct cv_summary *summary,
                                          cv_progress_fn progress, void *ctx)
{
    double start = now_s(), next = start + 1.0;
    bt_graph_run_once_status st;
    for (;;) {
        st = bt_graph_run_once(g);
        if (st == BT_GRAPH_RUN_ONCE_STATUS_AGAIN)
            usleep(1000);
        else if (st != BT_GRAPH_RUN_ONCE_STATUS_OK)
            break;
        double t = now_s();
        if (progress && t >= next) {
            progress(ctx, summary->events, t - start);
            next = t + 1.0;
        }
    }
    return st;
}

static int run_graph(const char *output_dir, unsigned outputs, struct cv_summary *summary,
                     cv_progress_fn progress, void *progress_ctx, struct ltprof_error *err)
{
    const bt_plugin *ctf = NULL, *utils = NULL;
    bt_graph *g = NULL;
    bt_component_class_sink *sink_cls = NULL;
    const bt_component_filter *mux = NULL;
    const bt_component_sink *sink = NULL;
    int rc = 0;

    if (bt_plugin_find("ctf", BT_FALSE, BT_FALSE, BT_TRUE, BT_FALSE, BT_FALSE, &ctf) ||
        bt_plugin_find("utils", BT_FALSE, BT_FALSE, BT_TRUE, BT_FALSE, BT_FALSE, &utils)) {
        rc = cv_error(err, LTPROF_ERR_UNSUPPORTED,
                      "babeltrace2's ctf and utils plugins were not found in its system plugin "
                      "folder: install the babeltrace2 package");
        goto end;
    }
    g = bt_graph_create(0);
    sink_cls = cv_sink_class_create();
    if (!g || !sink_cls) {
        rc = cv_error(err, LTPROF_ERR_NOMEM, "out of memory");
        goto end;
    }
    if (bt_graph_add_filter_component(
            g, bt_plugin_borrow_filter_component_class_by_name_const(utils, "muxer"), "muxer",
            NULL, BT_LOGGING_LEVEL_NONE, &mux)) {
        take_bt_error(err, "failed to create the muxer");
        rc = LTPROF_ERR_INVALID;
        goto end;
    }
    const bt_component_class_source *fs =
        bt_plugin_borrow_source_component_class_by_name_const(ctf, "fs");
    for (size_t i = 0; i < found.n && rc == 0; i++)
        rc = add_source(g, fs, found.dirs[i], i, mux, err);
    if (rc)
        goto end;

    bt_value *params = bt_value_map_create();
    if (!params || bt_value_map_insert_string_entry(params, "path", output_dir)) {
        bt_value_put_ref(params);
        rc = cv_error(err, LTPROF_ERR_NOMEM, "out of memory");
        goto end;
    }
    struct cv_sink_init init = {outputs, summary};
    int add = bt_graph_add_sink_component_with_initialize_method_data(
        g, sink_cls, SINK_NAME, params, &init, BT_LOGGING_LEVEL_NONE, &sink);
    bt_value_put_ref(params);
    if (add || bt_graph_connect_ports(g, bt_component_filter_borrow_output_port_by_index_const(mux, 0),
                                      bt_component_sink_borrow_input_port_by_index_const(sink, 0),
                                      NULL)) {
        take_bt_error(err, "failed to set up the conversion");
        rc = LTPROF_ERR_INVALID;
        goto end;
    }
    bt_graph_run_once_status st = run_steps(g, summary, progress, progress_ctx);
    if (st != BT_GRAPH_RUN_ONCE_STATUS_END) {
        take_bt_error(err, "failed to convert the trace");
        rc = st == BT_GRAPH_RUN_ONCE_STATUS_MEMORY_ERROR ? LTPROF_ERR_NOMEM : LTPROF_ERR_INVALID;
    }
end:
    bt_graph_put_ref(g);
    bt_component_class_sink_put_ref(sink_cls);
    bt_plugin_put_ref(ctf);
    bt_plugin_put_ref(utils);
    return rc;
}

int cv_convert_dir(const char *trace_dir, const char *output_dir, unsigned outputs,
                   struct cv_summary *summary, cv_progress_fn progress, void *progress_ctx,
                   struct ltprof_error *err)
{
    struct stat sb;
    int rc;

    memset(summary, 0, sizeof(*summary));
    if (stat(trace_dir, &sb) != 0)
        return cv_error(err, LTPROF_ERR_IO, "cannot open trace folder \"%s\": %s", trace_dir,
                        strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return cv_error(err, LTPROF_ERR_INVALID, "\"%s\" is not a folder: give the folder of a "
                        "CTF trace (the one holding `metadata`, or any folder above it)", trace_dir);
    found_clear();
    if (nftw(trace_dir, collect, 16, FTW_PHYS) != 0) {
        if (found.nomem) {
            rc = cv_error(err, LTPROF_ERR_NOMEM, "out of memory while looking for traces");
            goto end;
        }
        rc = cv_error(err, LTPROF_ERR_IO, "cannot read trace folder \"%s\": %s", trace_dir,
                      strerror(errno));
        goto end;
    }
    if (found.n == 0) {
        rc = cv_error(err, LTPROF_ERR_NOT_FOUND,
                      "no CTF trace under \"%s\" (no `metadata` file found): nothing was "
                      "recorded, or this is not an LTTng trace folder", trace_dir);
        goto end;
    }
    for (size_t i = 0; i < found.n; i++) {
        char meta[4096];
        snprintf(meta, sizeof(meta), "%s/metadata", found.dirs[i]);
        if ((rc = cv_check_metadata(meta, err)) != 0)
            goto end;
    }
    rc = run_graph(output_dir, outputs, summary, progress, progress_ctx, err);
    summary->traces = (uint32_t)found.n;
end:
    found_clear();
    return rc;
}
