/* SPDX-License-Identifier: MIT */
/*
 * /profile and /trace: recordings of the next N seconds through an LTTng session of this
 * process, converted in-process by the converter's babeltrace2 graph, one of each kind at a
 * time, with Go's parameters, limits and errors. The session code and the converter live in
 * libltprof-record.so (recorder/), opened beside libltprof.so on the first recording. When no
 * session daemon can be had, /trace answers 503 and /profile falls back to the in-process CPU
 * profile (cpu_profile.c), which needs none.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "internal.h"
#include "ltprof/ltprof.h"
#include "recorder.h"

#define BINARY_TYPE "application/octet-stream"
#define RECORDER_LIBRARY "libltprof-record.so.0"
#define SAMPLING_OFF                                                                              \
    "CPU sampling is off in this process (LTPROF_CPU_HZ=0, or the kernel refused perf events "   \
    "and timers)"

/* ---- the recorder library ---- */

static const struct rc_self_api *api;
static char api_error[600];

static void load_recorder(void)
{
    Dl_info self;
    char path[PATH_MAX];
    if (!dladdr((void *)(uintptr_t)load_recorder, &self) || !self.dli_fname) {
        snprintf(api_error, sizeof(api_error), "cannot find where libltprof.so is");
        return;
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", self.dli_fname);
    snprintf(path, sizeof(path), "%.3000s/%s", dirname(dir), RECORDER_LIBRARY);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    const struct rc_self_api *a = h ? dlsym(h, "ltprof_recorder_api") : NULL;
    if (!a || a->version != RC_SELF_API_VERSION) {
        const char *why = dlerror();
        snprintf(api_error, sizeof(api_error), "cannot load %.200s: %.300s", path,
                 a ? "another version" : why ? why : "no ltprof_recorder_api");
        return; /* the handle stays: never unloaded */
    }
    api = a;
}

static const struct rc_self_api *recorder(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, load_recorder);
    return api;
}

/* ---- one recording ---- */

struct recording {
    const char *what;      /* "CPU profiling", "tracing": Go's error texts */
    const char *busy_text; /* Go's text when one runs already */
    atomic_int *busy;      /* one at a time */
    const char *file;      /* what the conversion writes: "cpu.pb.gz", "trace.out" */
    const char *filename;  /* what the client saves */
};

/* The conversion allocates tens of MiB (babeltrace2's graph, the converter's tables) and frees
 * them, but glibc keeps freed pages in its arenas: without this, the profiled process would
 * keep a recording's peak for good (seen: private RSS 45 to 96 MiB for 14 MiB in use). */
static void give_back_conversion_memory(void)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    malloc_trim(0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    RT_LOG(RT_LOG_DEBUG, "http", "malloc_trim after the conversion: %.1f ms",
           (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
}

/* Records `seconds` and answers with the converted file. When no session can be had, nothing
 * is sent and `unavailable` gets the reason (else it is ""), so the caller may fall back. */
static enum MHD_Result record(struct MHD_Connection *c, const struct recording *r, double seconds,
                              char *unavailable, size_t unavailable_size)
{
    char why[700];
    unavailable[0] = '\0';
    if (atomic_exchange(r->busy, 1)) {
        snprintf(why, sizeof(why), "Could not enable %s: %s", r->what, r->busy_text);
        return http_send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, why);
    }
    struct ltprof_error err = {{0}};
    const struct rc_self_api *a = recorder();
    struct rc_self *s = NULL;
    int rc = a ? a->start(rt_config_get()->http_spawn_sessiond, &s, &err) : LTPROF_ERR_UNSUPPORTED;
    if (rc != 0) {
        atomic_store(r->busy, 0);
        snprintf(why, sizeof(why), "Could not enable %s: %s", r->what, a ? err.message : api_error);
        RT_LOG(RT_LOG_WARN, "http", "%s", why);
        if (rc != LTPROF_ERR_UNSUPPORTED)
            return http_send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, why);
        snprintf(unavailable, unavailable_size, "%s", why);
        return MHD_YES;
    }
    tr_emit_process_info(); /* the process and its threads as they are now */
    enum http_wait_result w = http_wait(c, (uint64_t)(seconds * 1e9));
    if (w != HTTP_WAIT_DONE) {
        atomic_store(r->busy, 0); /* the next request may start while this one is destroyed */
        a->abort(s, w == HTTP_WAIT_STOPPING);
        return w == HTTP_WAIT_CLIENT_GONE
                   ? http_send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "context canceled")
                   : http_send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "the server is stopping");
    }
    tr_emit_process_info(); /* names given meanwhile; an idle program's trace is not empty */
    int fd = -1;
    uint64_t events = 0;
    rc = a->finish(s, r->file, &fd, &events, &err);
    give_back_conversion_memory();
    atomic_store(r->busy, 0);
    if (rc != 0) {
        snprintf(why, sizeof(why), "Could not finish %s: %s", r->what, err.message);
        RT_LOG(RT_LOG_WARN, "http", "%s", why);
        return http_send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, why);
    }
    RT_LOG(RT_LOG_INFO, "http", "%s: %.3f s, %llu events", r->filename, seconds,
           (unsigned long long)events);
    return http_send_fd(c, fd, BINARY_TYPE, r->filename);
}

/* ---- /profile ---- */

/* The in-process CPU profile: no session daemon needed. */
static enum MHD_Result cpu_profile_inprocess(struct MHD_Connection *c, long long seconds)
{
    int fd = http_memfd();
    if (fd < 0)
        return http_send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
                               "Could not enable CPU profiling: no memory file");
    int rc = ltprof_start_cpu_profile(fd);
    if (rc != LTPROF_OK) {
        close(fd);
        char why[200];
        snprintf(why, sizeof(why), "Could not enable CPU profiling: %s",
                 rc == LTPROF_ERR_BUSY ? "cpu profiling already in use"
                 : rc == LTPROF_ERR_UNSUPPORTED ? SAMPLING_OFF
                                                : ltprof_status_string((enum ltprof_status)rc));
        return http_send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, why);
    }
    enum http_wait_result w = http_wait(c, (uint64_t)seconds * 1000000000ull);
    rc = ltprof_stop_cpu_profile();
    if (w == HTTP_WAIT_CLIENT_GONE || rc != LTPROF_OK) {
        close(fd);
        return http_send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
                               rc != LTPROF_OK ? "Could not write the CPU profile"
                                               : "context canceled");
    }
    return http_send_fd(c, fd, BINARY_TYPE, "profile");
}

enum MHD_Result http_cpu_profile(struct MHD_Connection *c, struct http_req *r)
{
    static atomic_int busy;
    /* Go: seconds parsed as an integer; missing, bad or not positive means 30. */
    long long seconds = http_profile_seconds(http_param(c, r, "seconds"));
    if (seconds > (long long)rt_config_get()->http_max_seconds)
        return http_send_error(c, MHD_HTTP_BAD_REQUEST,
                               "profile duration exceeds server's WriteTimeout");
    if (tr_sampler_engine() == TR_ENGINE_NONE)
        return http_send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
                               "Could not enable CPU profiling: " SAMPLING_OFF);
    const struct recording rec = {"CPU profiling", "cpu profiling already in use", &busy,
                                  "cpu.pb.gz", "profile"};
    char unavailable[700];
    enum MHD_Result rc = record(c, &rec, (double)seconds, unavailable, sizeof(unavailable));
    if (!unavailable[0])
        return rc;
    RT_LOG(RT_LOG_INFO, "http", "profile: the in-process CPU profile instead");
    return cpu_profile_inprocess(c, seconds);
}

/* ---- /trace ---- */

enum MHD_Result http_trace(struct MHD_Connection *c, struct http_req *r)
{
    static atomic_int busy;
    /* Go: seconds parsed as a float; missing, bad or not positive means 1. */
    double seconds = http_trace_seconds(http_param(c, r, "seconds"));
    if (seconds > (double)rt_config_get()->http_max_seconds)
        return http_send_error(c, MHD_HTTP_BAD_REQUEST,
                               "profile duration exceeds server's WriteTimeout");
    const struct recording rec = {"tracing", "tracing is already enabled", &busy, "trace.out",
                                  "trace"};
    char unavailable[700];
    enum MHD_Result rc = record(c, &rec, seconds, unavailable, sizeof(unavailable));
    return unavailable[0] ? http_send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, unavailable) : rc;
}
