/* SPDX-License-Identifier: MIT */
/*
 * `ltprof convert TRACE_DIR [-o DIR]`: converts a trace recorded with lttng (or by
 * `ltprof record`) into profiles, in this process, through converter/converter.h.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "converter.h"

static const char usage[] =
    "usage: ltprof convert TRACE_DIR [-o DIR]\n"
    "\n"
    "Converts every LTTng (CTF) trace found under TRACE_DIR into pprof profiles in DIR\n"
    "(default ./ltprof-out): DIR/cpu.pb.gz. The trace must hold the events 'ltprof:*' and,\n"
    "for symbols, 'lttng_ust_statedump:*'.\n"
    "\n"
    "  -o, --output DIR   output folder, created if missing (default ./ltprof-out)\n"
    "  -h, --help         show this help\n";

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
    if (s->cpu_profile_path[0])
        printf("ltprof: wrote %s\n", s->cpu_profile_path);
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
    if (cv_convert_dir(trace_dir, out, &summary, cli_progress, NULL, &err) != 0) {
        fprintf(stderr, "ltprof convert: %s\n", err.message);
        return 1;
    }
    cli_print_summary(&summary);
    return 0;
}
