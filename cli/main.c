/* SPDX-License-Identifier: MIT */
/*
 * The `ltprof` command: dispatches to its subcommands (commands.h).
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static const char usage[] =
    "usage: ltprof <command> [options]\n"
    "\n"
    "Commands:\n"
    "  record [-o DIR] [--hz N] [--engine auto|perf|timer] -- CMD [ARGS...]\n"
    "                     run CMD with libltprof.so under an LTTng session and write its\n"
    "                     profiles to DIR (default ./ltprof-out), keeping the trace in DIR/ctf\n"
    "  convert TRACE_DIR [-o DIR]\n"
    "                     convert a recorded LTTng trace into profiles in DIR\n"
    "  top FILE.pb.gz [-n N] [--cum] [--sample-index TYPE]\n"
    "                     print the top functions of a pprof profile\n"
    "  view FILE_OR_DIR... [--port P]\n"
    "                     show traces, profiles and thread dumps in the browser viewer\n"
    "\n"
    "Run `ltprof <command> --help` for a command's options. Documentation: README.md and docs/.\n";

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("ltprof %s\n", LTPROF_VERSION_STRING);
        return 0;
    }
    if (strcmp(argv[1], "record") == 0)
        return cli_record(argc - 1, argv + 1);
    if (strcmp(argv[1], "convert") == 0)
        return cli_convert(argc - 1, argv + 1);
    if (strcmp(argv[1], "top") == 0)
        return cli_top(argc - 1, argv + 1);
    if (strcmp(argv[1], "view") == 0)
        return cli_view(argc - 1, argv + 1);
    fprintf(stderr, "ltprof: unknown command \"%s\"\n\n%s", argv[1], usage);
    return 2;
}
