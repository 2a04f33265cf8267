/* SPDX-License-Identifier: MIT */
/*
 * Internal to cli/: the pieces of `ltprof record`: the recorded child process
 * (record_child.c; the LTTng session is recorder/'s). Each prints its own one-line error to
 * stderr and returns non-zero on failure.
 */
#ifndef LTPROF_CLI_RECORD_H
#define LTPROF_CLI_RECORD_H

#include <stddef.h>
#include <sys/types.h>

struct rec_options {
    const char *out;    /* output folder */
    const char *hz;     /* LTPROF_CPU_HZ for the child, or NULL */
    const char *engine; /* LTPROF_CPU_ENGINE for the child, or NULL */
    char **cmd;         /* the command and its arguments */
    unsigned outputs;   /* enum cv_outputs */
};

/* ---- record_child.c ---- */
struct rec_child {
    pid_t pid;
    int go_fd;   /* write end: one byte lets the child exec */
    int exec_fd; /* read end: the child's errno if exec failed, EOF if it succeeded */
};

/* Finds libltprof.so beside this executable ($LTPROF_LIBRARY overrides). */
int rec_find_library(char *path, size_t size);
/* Forks the child, which waits for rec_child_run() before it execs the command. */
int rec_child_spawn(struct rec_child *c, const struct rec_options *o, const char *lib);
/* Lets the child exec and waits for it. Returns its exit status (128+N if killed by signal N),
 * or -1 if the command could not be run. */
int rec_child_run(struct rec_child *c);
/* Kills and reaps a child that will not be run. */
void rec_child_abort(struct rec_child *c);

#endif
