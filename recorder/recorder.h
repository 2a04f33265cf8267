/* SPDX-License-Identifier: MIT */
/*
 * The recorder's face: LTTng sessions through liblttng-ctl, shared by `ltprof record` (which
 * records a child) and the HTTP server's /profile and /trace (which record their own process).
 * session.c holds the session steps; self.c the recording of the calling process, converted
 * in-process, built into libltprof-record.so, which libltprof.so opens with dlopen() on the
 * first recording so that programs that never record do not load liblttng-ctl and babeltrace2.
 * Errors come back as a negative ltprof_status with one line a user can act on.
 */
#ifndef LTPROF_RECORDER_H
#define LTPROF_RECORDER_H

#include <stdint.h>
#include <sys/types.h>

#include "ltprof/ltprof.h"

/* ---- session.c ---- */

/* Makes sure a session daemon answers. None and `spawn`: starts `lttng-sessiond --daemonize
 * --no-kernel` (with the environment's LD_PRELOAD and LTPROF_* removed) and sets *spawned.
 * LTPROF_ERR_UNSUPPORTED when none runs and spawn is 0 or the start failed. */
int rc_sessiond_ensure(int spawn, int *spawned, struct ltprof_error *err);

/* Creates session `name` writing into `trace_dir` (absolute) with per-PID buffers of
 * `subbuf_bytes` x 8 per CPU (discard mode), contexts vpid and vtid, and the events
 * lttng_ust_statedump:* and lttng_ust_lib:* (the modules, for symbols). */
int rc_session_create(const char *name, const char *trace_dir, uint64_t subbuf_bytes,
                      struct ltprof_error *err);
/* Enables ltprof:*. Before the start when the program starts after it (`ltprof record`);
 * after the start when the program runs already: the start makes the program's LTTng-UST
 * thread dump its modules, and it handles the next command (this one) only once that is done,
 * so no ltprof event comes before the modules it needs for its symbols. */
int rc_session_enable_ltprof(const char *name, struct ltprof_error *err);
/* Tracks only process `pid` (the vpid tracker) and starts tracing. */
int rc_session_track_and_start(const char *name, pid_t pid, struct ltprof_error *err);
/* Stops tracing and waits until every buffer reached the trace files. */
int rc_session_stop(const char *name, struct ltprof_error *err);
/* Destroys the session (waits for its completion); nothing when it does not exist. */
void rc_session_destroy(const char *name);
/* Waits up to `ms` for process `pid` to be registered with the session daemon (an app
 * started before its daemon registers on the daemon's first poll). 0, or -1 on timeout. */
int rc_wait_registered(pid_t pid, int ms);

/* ---- self.c: recording the calling process (in libltprof-record.so) ---- */

struct rc_self;

/* What libltprof.so finds with dlsym(handle, "ltprof_recorder_api"). */
struct rc_self_api {
    int version; /* RC_SELF_API_VERSION */
    /* Starts recording the calling process: a session of its own in a new folder under
     * $TMPDIR (or /tmp). *out is the recording, or NULL on failure. */
    int (*start)(int spawn_sessiond, struct rc_self **out, struct ltprof_error *err);
    /* Stops, converts and returns in *fd the file `file` ("trace.out": the Go execution
     * trace, "cpu.pb.gz": the CPU profile) open for reading, unlinked later; then destroys the
     * session and removes the folder on a thread of its own (so the answer does not wait for
     * it). *events gets the events read. Frees `s` in every case. */
    int (*finish)(struct rc_self *s, const char *file, int *fd, uint64_t *events,
                  struct ltprof_error *err);
    /* Throws the recording away (the client went away): the session is destroyed (which
     * stops it) and the folder removed, in the background unless `wait`. Frees `s`. */
    void (*abort)(struct rc_self *s, int wait);
};
#define RC_SELF_API_VERSION 1

#endif
