/* SPDX-License-Identifier: MIT */
/*
 * `ltprof record [-o DIR] -- CMD [ARGS...]`: records CMD with libltprof.so preloaded under an
 * LTTng session of its own (liblttng-ctl; per-PID buffers, vpid tracker on the child, so other
 * traced programs are never contacted), then converts the trace in this process. Spawns an
 * lttng-sessiond when none runs, as the lttng command does. The child waits on a pipe until
 * the session tracks it, so its first events are recorded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lttng/lttng.h>

#include "commands.h"
#include "converter.h"
#include "record.h"
#include "recorder.h"

static const char usage[] =
    "usage: ltprof record [-o DIR] [--hz N] [--engine auto|perf|timer] [--outputs LIST]\n"
    "                     -- CMD [ARGS...]\n"
    "\n"
    "Runs CMD with libltprof.so preloaded under an LTTng session, then converts the trace:\n"
    "DIR/cpu.pb.gz (pprof CPU profile) and beside it heap, allocs, mutex, block and\n"
    "threadcreate.pb.gz, DIR/trace.out (Go execution trace, go tool trace), DIR/ctf/ (the CTF\n"
    "trace, for `ltprof convert`) and, with --outputs json or all, DIR/trace.json\n"
    "(Chrome/Perfetto JSON). Allocations are sampled once per LTPROF_MEMPROFILE_RATE bytes on\n"
    "average (default 524288, as Go; 1 = every allocation, 0 = none).\n"
    "An lttng-sessiond is started when none runs. Ctrl-C is passed on to CMD.\n"
    "The exit status is CMD's, or 1 when recording or conversion failed.\n"
    "\n"
    "  -o, --output DIR   output folder (default ./ltprof-out); DIR/ctf is replaced\n"
    "      --hz N         CPU samples per second per thread (LTPROF_CPU_HZ, default 100)\n"
    "      --engine E     CPU sampling engine: auto, perf or timer (LTPROF_CPU_ENGINE)\n"
    "      --outputs LIST what to write, comma-separated: pprof, trace, json, all\n"
    "                     (default pprof,trace; all = pprof,trace,json)\n"
    "  -h, --help         show this help\n";

static pid_t child_pid;

static void forward_signal(int sig)
{
    if (child_pid > 0)
        kill(child_pid, sig);
}

static int parse_args(int argc, char **argv, struct rec_options *o)
{
    o->out = "ltprof-out";
    o->outputs = CV_OUTPUT_DEFAULT;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            o->cmd = argv + i + 1;
            break;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return 1;
        } else if ((strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0 || strcmp(a, "--hz") == 0 ||
                    strcmp(a, "--engine") == 0) && i + 1 < argc) {
            const char *v = argv[++i];
            if (a[1] == 'o' || a[2] == 'o')
                o->out = v;
            else if (a[2] == 'h')
                o->hz = v;
            else
                o->engine = v;
        } else if (strcmp(a, "--outputs") == 0) {
            if (++i == argc || cli_parse_outputs(argv[i], &o->outputs) != 0) {
                fprintf(stderr,
                        "ltprof record: --outputs needs a comma-separated list of pprof, "
                        "trace, json, all\n%s",
                        usage);
                return -1;
            }
        } else if (a[0] != '-') {
            o->cmd = argv + i; /* `ltprof record ./app args` without -- */
            break;
        } else {
            fprintf(stderr, "ltprof record: unknown or incomplete option \"%s\"\n%s", a, usage);
            return -1;
        }
    }
    if (!o->cmd || !o->cmd[0]) {
        fprintf(stderr, "ltprof record: no command given\n%s", usage);
        return -1;
    }
    return 0;
}

static int remove_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)type;
    (void)ftw;
    return remove(path);
}

/* Makes DIR and an empty DIR/ctf; fills the absolute trace path. */
static int prepare_output(struct rec_options *o, char *trace_dir, size_t size)
{
    char abs[PATH_MAX];
    if (mkdir(o->out, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "ltprof record: cannot create \"%s\": %s\n", o->out, strerror(errno));
        return -1;
    }
    if (!realpath(o->out, abs)) {
        fprintf(stderr, "ltprof record: cannot resolve \"%s\": %s\n", o->out, strerror(errno));
        return -1;
    }
    if ((size_t)snprintf(trace_dir, size, "%s/ctf", abs) >= size) {
        fprintf(stderr, "ltprof record: output path too long\n");
        return -1;
    }
    if (access(trace_dir, F_OK) == 0 && nftw(trace_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS)) {
        fprintf(stderr, "ltprof record: cannot clear \"%s\": %s\n", trace_dir, strerror(errno));
        return -1;
    }
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cli_record(int argc, char **argv)
{
    struct rec_options o = {0};
    char trace_dir[PATH_MAX], lib[PATH_MAX], session[64];
    int status = 1, rc = parse_args(argc, argv, &o);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    if (rec_find_library(lib, sizeof(lib)) != 0 || prepare_output(&o, trace_dir, sizeof(trace_dir)))
        return 1;
    struct ltprof_error err = {{0}};
    if (lttng_session_daemon_alive() != 1) {
        printf("ltprof: no LTTng session daemon is running; starting lttng-sessiond\n");
        fflush(stdout);
    }
    if (rc_sessiond_ensure(1, NULL, &err) != 0) {
        fprintf(stderr, "ltprof record: %s\n", err.message);
        return 1;
    }
    snprintf(session, sizeof(session), "ltprof-record-%d", (int)getpid());
    /* 8 MiB per CPU: about 20 s of 100 Hz on 64 threads */
    if (rc_session_create(session, trace_dir, 1 << 20, &err) != 0) {
        fprintf(stderr, "ltprof record: %s\n", err.message);
        return 1;
    }
    if (rc_session_enable_ltprof(session, &err) != 0) {
        fprintf(stderr, "ltprof record: %s\n", err.message);
        goto destroy;
    }

    struct rec_child child;
    if (rec_child_spawn(&child, &o, lib) != 0)
        goto destroy;
    child_pid = child.pid;
    signal(SIGINT, forward_signal);
    signal(SIGTERM, forward_signal);
    if (rc_session_track_and_start(session, child.pid, &err) != 0) {
        fprintf(stderr, "ltprof record: %s\n", err.message);
        rec_child_abort(&child);
        goto destroy;
    }
    printf("ltprof: recording %s (pid %d)\n", o.cmd[0], (int)child.pid);
    fflush(stdout);
    double t0 = now_s();
    int exit_status = rec_child_run(&child);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (exit_status < 0)
        goto destroy;
    printf("ltprof: %s exited with status %d after %.2f s\n", o.cmd[0], exit_status, now_s() - t0);
    if (rc_session_stop(session, &err) != 0) {
        fprintf(stderr, "ltprof record: %s\n", err.message);
        goto destroy;
    }
    rc_session_destroy(session);

    struct cv_summary summary;
    char out_abs[PATH_MAX];
    snprintf(out_abs, sizeof(out_abs), "%.*s", (int)(strlen(trace_dir) - 4), trace_dir);
    if (cv_convert_dir(trace_dir, out_abs, o.outputs, &summary, cli_progress, NULL, &err) != 0) {
        fprintf(stderr, "ltprof record: %s\n", err.message);
        return 1;
    }
    cli_print_summary(&summary);
    printf("ltprof: trace kept in %s (convert again with `ltprof convert %s`)\n", trace_dir,
           trace_dir);
    return exit_status;
destroy:
    rc_session_destroy(session);
    return status;
}
