/* SPDX-License-Identifier: MIT */
/*
 * The in-process CPU profile (ltprof/ltprof.h: ltprof_start_cpu_profile, ltprof_stop_cpu_profile;
 * LTPROF_CPUPROFILE=FILE for the whole run), like Go's pprof.StartCPUProfile / StopCPUProfile
 * and gperftools' CPUPROFILE: the sampler's samples of the meantime (tracer/cpu_profile.c),
 * written as a pprof CPU profile with Go's sample types and the labels of recorded profiles
 * (thread, tid, pid), no LTTng session needed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "guard.h"
#include "internal.h"
#include "ltprof/ltprof.h"
#include "pprof_builder.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int out_fd = -1;
static struct timespec started;

static int64_t ns_of(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

LTPROF_API int ltprof_start_cpu_profile(int fd)
{
    if (fd < 0)
        return LTPROF_ERR_INVALID;
    pthread_mutex_lock(&lock);
    int rc = out_fd >= 0 ? LTPROF_ERR_BUSY : tr_cpu_profile_start();
    if (rc == 0) {
        out_fd = fd;
        clock_gettime(CLOCK_REALTIME, &started);
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

static const char *name_of(const struct tr_cpu_profile_result *r, uint32_t tid)
{
    for (size_t i = 0; i < r->n_names; i++)
        if (r->names[i].tid == tid)
            return r->names[i].name;
    return "";
}

static int write_profile(int fd, const struct tr_cpu_profile_result *r)
{
    char note[160];
    snprintf(note, sizeof(note), "ltprof: %llu samples, %llu lost (a thread's ring was full or "
             "not made yet)", (unsigned long long)r->samples, (unsigned long long)r->lost);
    struct rt_writer w;
    int rc = rt_writer_open(&w, pprof_kind_lookup("cpu"), (int64_t)r->period_ns, note);
    if (rc == 0) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        pprof_builder_set_time(w.b, ns_of(&started), ns_of(&now) - ns_of(&started));
    }
    for (size_t i = 0; rc == 0 && i < r->snap.n_buckets; i++) {
        const struct tr_bucket *k = &r->snap.buckets[i];
        if (!k->v[0])
            continue;
        int64_t values[2] = {(int64_t)k->v[0], (int64_t)k->v[1]};
        uint32_t tid = (uint32_t)k->key;
        struct pprof_label labels[3 + TR_MAX_LABELS] = {
            {.key = "thread", .str = name_of(r, tid)},
            {.key = "tid", .num = (int64_t)tid},
            {.key = "pid", .num = (int64_t)getpid()},
        };
        size_t n = 3 + rt_writer_labels(TR_KEY_LABELS(k->key, 32), labels + 3, TR_MAX_LABELS);
        rc = rt_writer_sample(&w, r->snap.pcs + k->pcs_offset, k->npcs, 1, values, labels, n);
    }
    return rt_writer_finish(&w, fd, rc);
}

LTPROF_API int ltprof_stop_cpu_profile(void)
{
    pthread_mutex_lock(&lock);
    int fd = out_fd;
    struct tr_cpu_profile_result r;
    int rc = fd < 0 ? LTPROF_ERR_NOT_FOUND : tr_cpu_profile_stop(&r);
    out_fd = -1;
    pthread_mutex_unlock(&lock);
    if (rc != 0)
        return rc;
    tr_guard_enter(); /* the writer's allocations are not the program's */
    int saved_errno = errno;
    rc = write_profile(fd, &r);
    tr_cpu_profile_result_free(&r);
    errno = saved_errno;
    tr_guard_leave();
    return rc;
}

/* ---- LTPROF_CPUPROFILE --------------------------------------------------------------------- */

static int env_fd = -1;
static char env_path[4200];

void rt_cpu_profile_start_from_env(const char *pattern)
{
    if (!pattern[0])
        return;
    if (!rt_expand_pid(pattern, env_path, sizeof(env_path))) {
        fprintf(stderr, "ltprof: cannot write LTPROF_CPUPROFILE=%s: path too long\n", pattern);
        return;
    }
    env_fd = open(env_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (env_fd < 0) {
        fprintf(stderr, "ltprof: cannot write LTPROF_CPUPROFILE=%s: %s\n", env_path,
                strerror(errno));
        return;
    }
    int rc = ltprof_start_cpu_profile(env_fd);
    if (rc != 0) {
        fprintf(stderr, "ltprof: LTPROF_CPUPROFILE=%s: %s\n", env_path,
                ltprof_status_string((enum ltprof_status)rc));
        close(env_fd);
        unlink(env_path);
        env_fd = -1;
    }
}

void rt_cpu_profile_stop_at_exit(void)
{
    if (env_fd < 0)
        return;
    int rc = ltprof_stop_cpu_profile();
    if (close(env_fd) != 0 && rc == 0)
        rc = LTPROF_ERR_IO;
    env_fd = -1;
    if (rc != 0) {
        fprintf(stderr, "ltprof: cannot write LTPROF_CPUPROFILE=%s: %s\n", env_path,
                ltprof_status_string((enum ltprof_status)rc));
        unlink(env_path);
    }
}
