/* SPDX-License-Identifier: MIT */
/*
 * /profile and /trace: recordings of the next N seconds, one of each kind at a time, with Go's
 * parameters, limits and errors. /profile uses the in-process CPU profile (cpu_profile.c).
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "internal.h"
#include "ltprof/ltprof.h"

#define BINARY_TYPE "application/octet-stream"

/* Go's /profile: seconds parsed as an integer; missing, bad or not positive means 30. */
static long long cpu_seconds(struct MHD_Connection *c, struct http_req *r)
{
    const char *text = http_param(c, r, "seconds");
    char *end;
    long long s = text && *text ? strtoll(text, &end, 10) : 0;
    return text && *text && !*end && s > 0 ? s : 30;
}

enum MHD_Result http_cpu_profile(struct MHD_Connection *c, struct http_req *r)
{
    long long seconds = cpu_seconds(c, r);
    if (seconds > (long long)rt_config_get()->http_max_seconds)
        return http_send_error(c, MHD_HTTP_BAD_REQUEST,
                               "profile duration exceeds server's WriteTimeout");
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
                 : rc == LTPROF_ERR_UNSUPPORTED
                     ? "CPU sampling is off in this process (LTPROF_CPU_HZ=0, or the kernel "
                       "refused perf events and timers)"
                     : ltprof_status_string((enum ltprof_status)rc));
        return http_send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, why);
    }
    enum http_wait_result w = http_wait(c, (uint64_t)seconds * 1000000000ull);
    rc = ltprof_stop_cpu_profile();
    if (w == HTTP_WAIT_CLIENT_GONE) {
        close(fd);
        return http_send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "context canceled");
    }
    if (rc != LTPROF_OK) {
        close(fd);
        return http_send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
                               "Could not write the CPU profile");
    }
    return http_send_fd(c, fd, BINARY_TYPE, "profile");
}

enum MHD_Result http_trace(struct MHD_Connection *c, struct http_req *r)
{
    (void)r;
    return http_send_error(c, MHD_HTTP_NOT_IMPLEMENTED,
                           "Could not enable tracing: execution traces over HTTP are not "
                           "available yet; record with `ltprof record` instead");
}
