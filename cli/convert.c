/* SPDX-License-Identifier: MIT */
/*
 * `ltprof convert TRACE_DIR [-o DIR]`: converts a trace recorded with lttng (or by
 * `ltprof record`) into profiles and execution traces, in this process (converter/converter.h).
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "converter.h"

static const char usage[] =
    "usage: ltprof convert TRACE_DIR [-o DIR] [--outputs LIST]\n"
    "\n"
    "Converts every LTTng (CTF) trace found under TRACE_DIR into DIR (default ./ltprof-out):\n"
    "  cpu.pb.gz    CPU profile (pprof: go tool pprof, ltprof top)\n"
    "  heap.pb.gz, allocs.pb.gz\n"
    "               sampled allocations (LTPROF_MEMPROFILE_RATE): live at the end, and all\n"
    "  mutex.pb.gz, block.pb.gz, threadcreate.pb.gz\n"
    "               contended locks, all waits on synchronisation, thread creation (pprof)\n"
    "  trace.out    Go execution trace (go tool trace, Go 1.19 or later)\n"
    "  trace.json   the same trace as Chrome/Perfetto JSON (ui.perfetto.dev), when asked for\n"
    "The trace must hold the events 'ltprof:*' and, for symbols, 'lttng_ust_statedump:*'.\n"
    "\n"
    "  -o, --output DIR     output folder, created if missing (default ./ltprof-out)\n"
    "      --outputs LIST   what to write, comma-separated: pprof, trace, json, all\n"
    "                       (default pprof,trace; all = pprof,trace,json)\n"
    "  -h, --help           show this help\n";

int cli_parse_outputs(const char *list, unsigned *outputs)
{
    *outputs = 0;
    while (*list) {
        size_t n = strcspn(list, ",");
        if (n == 5 && strncmp(list, "pprof", 5) == 0)
            *outputs |= CV_OUTPUT_PPROF;
        else if (n == 5 && strncmp(list, "trace", 5) == 0)
            *outputs |= CV_OUTPUT_GOTRACE;
        else if (n == 4 && strncmp(list, "json", 4) == 0)
            *outputs |= CV_OUTPUT_JSON;
        else if (n == 3 && strncmp(list, "all", 3) == 0)
            *outputs |= CV_OUTPUT_ALL;
        else
            return -1;
        list += n + (list[n] == ',');
    }
    return *outputs ? 0 : -1;
}

void cli_print_summary(const struct cv_summary *s)
{
    double complete = s->cpu_samples ? 100.0 * (double)s->complete_stacks / (double)s->cpu_samples : 0;
    printf("ltprof: read %llu events from %u trace(s): %llu CPU samples (engine %s), %.1f%% of "
           "stacks complete\n",
           (unsigned long long)s->events, s->traces, (unsigned long long)s->cpu_samples,
           s->cpu_engine[0] ? s->cpu_engine : "unknown", complete);
    if (s->cpu_samples == 0)
        printf("ltprof: note: no CPU samples, the profile is empty: the program used less CPU "
               "than one sampling period per thread (10 ms at 100 Hz), or it did its work in "
               "child processes, which `ltprof record` does not follow (record the child's "
               "command itself)\n");
    if (s->discarded_events)
        printf("ltprof: warning: the tracer lost %llu events; use larger buffers or a lower "
               "rate\n", (unsigned long long)s->discarded_events);
    if (s->trace_path[0] || s->json_path[0]) {
        printf("ltprof: execution trace: %llu threads, %llu contended waits (%llu with a known "
               "waker), %llu blocking calls, ",
               (unsigned long long)s->threads, (unsigned long long)s->waits,
               (unsigned long long)s->wakers_known, (unsigned long long)s->calls);
        if (strcmp(s->sched_source, "perf_event") == 0)
            printf("%llu context switches\n", (unsigned long long)s->switches);
        else
            printf("no context switches (%s)\n",
                   s->sched_note[0] ? s->sched_note : "not recorded in this trace");
        if (s->switches_lost)
            printf("ltprof: warning: the kernel dropped %llu context switches (a thread's ring "
                   "filled up between two of its events)\n",
                   (unsigned long long)s->switches_lost);
    }
    if (s->cpu_profile_path[0])
        printf("ltprof: wrote %s%s%s%s\n", s->cpu_profile_path,
               s->other_profiles[0] ? " (and beside it: " : "", s->other_profiles,
               s->other_profiles[0] ? ")" : "");
    if (s->trace_path[0])
        printf("ltprof: wrote %s (open with: go tool trace %s)\n", s->trace_path, s->trace_path);
    if (s->json_path[0])
        printf("ltprof: wrote %s (open in https://ui.perfetto.dev)\n", s->json_path);
}

void cli_progress(void *ctx, uint64_t events_read, double seconds)
{
    (void)ctx;
    fprintf(stderr, "ltprof: converting: %llu events read in %.0f s\n",
            (unsigned long long)events_read, seconds);
}

int cli_convert(int argc, char **argv)
{
    const char *trace_dir = NULL, *out = "ltprof-out";
    unsigned outputs = CV_OUTPUT_DEFAULT;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) {
            if (++i == argc) {
                fprintf(stderr, "ltprof convert: %s needs a folder\n%s", argv[i - 1], usage);
                return 2;
            }
            out = argv[i];
        } else if (strcmp(argv[i], "--outputs") == 0) {
            if (++i == argc || cli_parse_outputs(argv[i], &outputs) != 0) {
                fprintf(stderr,
                        "ltprof convert: --outputs needs a comma-separated list of pprof, "
                        "trace, json, all\n%s",
                        usage);
                return 2;
            }
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "ltprof convert: unknown option \"%s\"\n%s", argv[i], usage);
            return 2;
        } else if (!trace_dir) {
            trace_dir = argv[i];
        } else {
            fprintf(stderr, "ltprof convert: more than one trace folder given\n%s", usage);
            return 2;
        }
    }
    if (!trace_dir) {
        fprintf(stderr, "ltprof convert: no trace folder given\n%s", usage);
        return 2;
    }
    struct cv_summary summary;
    struct ltprof_error err = {{0}};
    if (cv_convert_dir(trace_dir, out, outputs, &summary, cli_progress, NULL, &err) != 0) {
        fprintf(stderr, "ltprof convert: %s\n", err.message);
        return 1;
    }
    cli_print_summary(&summary);
    return 0;
}
