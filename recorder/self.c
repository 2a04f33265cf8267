/* SPDX-License-Identifier: MIT */
/*
 * Recording the calling process, for the HTTP server's /profile and /trace (recorder.h): a
 * session tracking only this pid, writing under a fresh folder; at the end the same
 * in-process babeltrace2 graph and sink as `ltprof convert` (converter.h) turn it into the
 * file asked for, and a thread of its own destroys the session (about 0.5 s in the session
 * daemon) and removes the folder while the answer goes out. Built into libltprof-record.so.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "converter.h"
#include "recorder.h"

#define SUBBUF_BYTES (1u << 20) /* x 8 per CPU: seconds of a busy program's events */

struct rc_self {
    char name[64];
    char dir[PATH_MAX - 16]; /* the folder: ctf/ (the trace), out/ (the conversion) */
};

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)ftw;
    if (type == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

static void cleanup_now(struct rc_self *s)
{
    rc_session_destroy(s->name);
    nftw(s->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(s);
}

static void *cleanup_thread(void *p)
{
    cleanup_now(p);
    return NULL;
}

/* Destroys the session and removes the folder on a detached thread (inline when none can be
 * made). Threads made here are ltprof's own: the caller runs inside ltprof's guard. */
static void cleanup_later(struct rc_self *s)
{
    pthread_attr_t attr;
    pthread_t t;
    int ok = pthread_attr_init(&attr) == 0;
    if (ok) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        ok = pthread_create(&t, &attr, cleanup_thread, s) == 0;
        pthread_attr_destroy(&attr);
    }
    if (!ok)
        cleanup_now(s);
}

static int self_start(int spawn_sessiond, struct rc_self **out, struct ltprof_error *err)
{
    static atomic_uint counter;
    *out = NULL;
    struct rc_self *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err->message, sizeof(err->message), "out of memory");
        return LTPROF_ERR_NOMEM;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(s->dir, sizeof(s->dir), "%s/ltprof-recording-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(s->dir)) {
        snprintf(err->message, sizeof(err->message), "cannot make a folder for the trace "
                 "(%.300s): %s", s->dir, strerror(errno));
        free(s);
        return LTPROF_ERR_IO;
    }
    snprintf(s->name, sizeof(s->name), "ltprof-self-%d-%u", (int)getpid(),
             atomic_fetch_add(&counter, 1));
    int spawned = 0;
    int rc = rc_sessiond_ensure(spawn_sessiond, &spawned, err);
    if (rc == 0 && spawned)
        rc_wait_registered(getpid(), 3000); /* our events reach the daemon only once it knows us */
    char ctf[PATH_MAX];
    snprintf(ctf, sizeof(ctf), "%s/ctf", s->dir);
    if (rc == 0)
        rc = rc_session_create(s->name, ctf, SUBBUF_BYTES, err);
    if (rc == 0)
        rc = rc_session_track_and_start(s->name, getpid(), err);
    if (rc == 0)
        rc = rc_session_enable_ltprof(s->name, err); /* after the start: see recorder.h */
    if (rc != 0) {
        cleanup_now(s);
        return rc;
    }
    *out = s;
    return 0;
}

static int self_finish(struct rc_self *s, const char *file, int *fd, uint64_t *events,
                       struct ltprof_error *err)
{
    *fd = -1;
    unsigned outputs = strcmp(file, "trace.out") == 0 ? CV_OUTPUT_GOTRACE : CV_OUTPUT_PPROF;
    int rc = rc_session_stop(s->name, err);
    char ctf[PATH_MAX], out[PATH_MAX], path[PATH_MAX + 64];
    snprintf(ctf, sizeof(ctf), "%s/ctf", s->dir);
    snprintf(out, sizeof(out), "%s/out", s->dir);
    struct cv_summary summary;
    memset(&summary, 0, sizeof(summary));
    if (rc == 0)
        rc = cv_convert_dir(ctf, out, outputs, &summary, NULL, NULL, err);
    if (rc == 0) {
        snprintf(path, sizeof(path), "%s/%s", out, file);
        *fd = open(path, O_RDONLY | O_CLOEXEC);
        if (*fd < 0) {
            snprintf(err->message, sizeof(err->message), "the conversion wrote no %.100s: %s",
                     file, strerror(errno));
            rc = LTPROF_ERR_IO;
        }
    }
    if (events)
        *events = summary.events;
    cleanup_later(s);
    return rc;
}

static void self_abort(struct rc_self *s, int wait)
{
    if (wait) /* destroying a session stops it first */
        cleanup_now(s);
    else
        cleanup_later(s);
}

__attribute__((visibility("default"))) const struct rc_self_api ltprof_recorder_api = {
    .version = RC_SELF_API_VERSION,
    .start = self_start,
    .finish = self_finish,
    .abort = self_abort,
};
