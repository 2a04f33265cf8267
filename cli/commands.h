/* SPDX-License-Identifier: MIT */
/*
 * The subcommands of the `ltprof` command. Each takes the arguments after its name
 * (argv[0] = the subcommand) and returns the process exit status: 0 success, 1 failure,
 * 2 usage error; messages go to stderr as "ltprof <cmd>: ...".
 */
#ifndef LTPROF_CLI_COMMANDS_H
#define LTPROF_CLI_COMMANDS_H

#include <stdint.h>

int cli_record(int argc, char **argv);  /* record.c */
int cli_convert(int argc, char **argv); /* convert.c */
int cli_top(int argc, char **argv);     /* top.c */
int cli_view(int argc, char **argv);    /* view.c */

/* Prints a conversion's summary lines to stdout (convert.c). */
struct cv_summary;
void cli_print_summary(const struct cv_summary *summary);
/* Parses --outputs (pprof,trace,json,all) into enum cv_outputs flags; -1 when bad. */
int cli_parse_outputs(const char *list, unsigned *outputs);
/* A cv_progress_fn: one line on stderr about once a second during a long conversion. */
void cli_progress(void *ctx, uint64_t events_read, double seconds);

#endif
