/* SPDX-License-Identifier: MIT */
/*
 * The routes served from the always-on tables, as Go 1.19's net/http/pprof serves them: the
 * index page, /cmdline, the named profiles with their debug, gc and seconds parameters
 * (reference: pprof-and-endpoints.md section 3, mirrored in docs/http.md), and godeltaprof's
 * delta_heap, delta_mutex and delta_block for scrapers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "internal.h"
#include "ltprof/ltprof.h"
#include "pprof_delta.h"

#define TEXT_TYPE "text/plain; charset=utf-8"
#define BINARY_TYPE "application/octet-stream"

/* Go's handlers read debug with Atoi and treat an error as 0. */
static long long debug_param(struct MHD_Connection *c, struct http_req *r)
{
    long long debug = 0;
    if (http_go_atoi(http_param(c, r, "debug"), &debug) != 0)
        debug = 0;
    return debug;
}

/* The profile `name` into a new memory file; -1 with `why` filled on failure. */
static int write_profile(const char *name, int debug, char *why, size_t why_size)
{
    int fd = http_memfd();
    if (fd < 0) {
        snprintf(why, why_size, "cannot make a memory file: %s", strerror(errno));
        return -1;
    }
    int rc = ltprof_profile_write(name, fd, debug);
    if (rc != LTPROF_OK) {
        snprintf(why, why_size, "cannot write the %s profile: %s", name,
                 ltprof_status_string((enum ltprof_status)rc));
        close(fd);
        return -1;
    }
    return fd;
}

static void *snapshot(const char *name, size_t *len, char *why, size_t why_size)
{
    int fd = write_profile(name, 0, why, why_size);
    if (fd < 0)
        return NULL;
    void *data = http_memfd_read(fd, len);
    close(fd);
    if (!data)
        snprintf(why, why_size, "failed to collect profile");
    return data;
}

/* Go's serveDeltaProfile: the profile now, again after `seconds`, and the difference. */
static enum MHD_Result delta_profile(struct MHD_Connection *c, const char *name, long long seconds)
{
    char why[600] = "";
    size_t len0 = 0, len1 = 0;
    void *p0 = snapshot(name, &len0, why, sizeof(why)), *p1 = NULL;
    if (!p0)
        return http_send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "failed to collect profile");
    enum http_wait_result w = http_wait(c, (uint64_t)seconds * 1000000000ull);
    if (w != HTTP_WAIT_DONE) {
        free(p0);
        return w == HTTP_WAIT_CLIENT_GONE
                   ? http_send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "context canceled")
                   : http_send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "the server is stopping");
    }
    p1 = snapshot(name, &len1, why, sizeof(why));
    int fd = p1 ? http_memfd() : -1;
    struct ltprof_error err = {{0}};
    int rc = fd < 0 ? -1
                    : pprof_delta_write(pprof_kind_lookup(name), p0, len0, p1, len1,
                                        PPROF_DELTA_ALL, rt_fd_write, &fd, &err);
    free(p0), free(p1);
    if (rc != 0) {
        if (fd >= 0)
            close(fd);
        RT_LOG(RT_LOG_WARN, "http", "%s delta: %s", name, err.message[0] ? err.message : why);
        return http_send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
                               p1 ? "failed to compute delta" : "failed to collect profile");
    }
    char filename[160];
    snprintf(filename, sizeof(filename), "%s-delta", name);
    return http_send_fd(c, fd, BINARY_TYPE, filename);
}

/* godeltaprof's delta_heap, delta_mutex and delta_block, which Grafana Alloy scrapes: the
 * profile now minus the one the previous request of the same kind got (the first gets it
 * whole); delta_heap subtracts the allocated columns and keeps the in-use ones. */
static enum MHD_Result server_delta(struct MHD_Connection *c, const char *name)
{
    static struct {
        pthread_mutex_t lock;
        void *last;
        size_t len;
    } state[3] = {{PTHREAD_MUTEX_INITIALIZER, NULL, 0}, {PTHREAD_MUTEX_INITIALIZER, NULL, 0},
                  {PTHREAD_MUTEX_INITIALIZER, NULL, 0}};
    const char *base = name + strlen("delta_");
    int k = strcmp(base, "heap") == 0 ? 0 : strcmp(base, "mutex") == 0 ? 1 : 2;
    char why[600];
    pthread_mutex_lock(&state[k].lock);
    size_t len = 0;
    void *now = snapshot(base, &len, why, sizeof(why));
    int fd = now ? http_memfd() : -1;
    int rc = fd < 0 ? -1 : 0;
    struct ltprof_error err = {{0}};
    if (rc == 0 && state[k].last)
        rc = pprof_delta_write(pprof_kind_lookup(base), state[k].last, state[k].len, now, len,
                               k == 0 ? 3u : PPROF_DELTA_ALL, rt_fd_write, &fd, &err);
    else if (rc == 0)
        rc = rt_fd_write(&fd, now, len);
    if (rc == 0) {
        free(state[k].last);
        state[k].last = now, state[k].len = len;
    } else {
        free(now);
    }
    pthread_mutex_unlock(&state[k].lock);
    if (rc != 0) {
        if (fd >= 0)
            close(fd);
        RT_LOG(RT_LOG_WARN, "http", "%s: %s", name, err.message[0] ? err.message : why);
        return http_send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "failed to compute delta");
    }
    return http_send_fd(c, fd, BINARY_TYPE, name);
}

enum MHD_Result http_named_profile(struct MHD_Connection *c, struct http_req *r,
                                   const char *name)
{
    if (strcmp(name, "delta_heap") == 0 || strcmp(name, "delta_mutex") == 0 ||
        strcmp(name, "delta_block") == 0)
        return server_delta(c, name);
    int heap = strcmp(name, "heap") == 0 || strcmp(name, "allocs") == 0;
    if (!rt_is_go_profile(name) && !ltprof_profile_lookup(name))
        return http_send_error(c, MHD_HTTP_NOT_FOUND, "Unknown profile");
    const char *sec = http_param(c, r, "seconds");
    if (sec && *sec) {
        long long seconds = 0;
        if (http_go_atoi(sec, &seconds) != 0 || seconds <= 0)
            return http_send_error(c, MHD_HTTP_BAD_REQUEST,
                                   "invalid value for \"seconds\" - must be a positive integer");
        if (!rt_is_go_profile(name))
            return http_send_error(c, MHD_HTTP_BAD_REQUEST,
                                   "\"seconds\" parameter is not supported for this profile type");
        if (seconds > (long long)rt_config_get()->http_max_seconds)
            return http_send_error(c, MHD_HTTP_BAD_REQUEST,
                                   "profile duration exceeds server's WriteTimeout");
        if (debug_param(c, r) != 0)
            return http_send_error(c, MHD_HTTP_BAD_REQUEST,
                                   "seconds and debug params are incompatible");
        return delta_profile(c, name, seconds);
    }
    /* gc: Go collects garbage first for heap; C has none to collect, so it is accepted and
     * changes nothing. */
    long long debug = debug_param(c, r);
    /* Go's writers: heap and allocs write text for any debug != 0, the others for debug > 0
     * (a negative debug gives the binary body under the text header, as in Go). */
    int level = strcmp(name, "goroutine") == 0 ? (debug >= 2 ? 2 : debug > 0)
                : heap                         ? debug != 0
                                               : debug > 0;
    char why[600];
    int fd = write_profile(name, level, why, sizeof(why));
    if (fd < 0) {
        RT_LOG(RT_LOG_WARN, "http", "%s", why);
        return http_send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, why);
    }
    return debug != 0 ? http_send_fd(c, fd, TEXT_TYPE, NULL)
                      : http_send_fd(c, fd, BINARY_TYPE, name);
}

/* ---- /cmdline ---- */

enum MHD_Result http_cmdline(struct MHD_Connection *c)
{
    if (!rt_config_get()->http_cmdline)
        return http_send_error(c, MHD_HTTP_FORBIDDEN,
                               "cmdline is turned off here (LTPROF_HTTP_CMDLINE=off)");
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    char buf[65536];
    size_t len = 0;
    while (fd >= 0 && len < sizeof(buf)) {
        ssize_t n = read(fd, buf + len, sizeof(buf) - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    if (fd >= 0)
        close(fd);
    if (len && buf[len - 1] == '\0')
        len--; /* Go joins the arguments with NUL: none after the last */
    return http_send_body(c, MHD_HTTP_OK, TEXT_TYPE, buf, len);
}

/* ---- the index page ---- */

struct entry {
    const char *name;
    const char *description;
    long long count;
};

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

static const char *description(const char *name)
{
    static const struct {
        const char *name, *text;
    } texts[] = {
        {"allocs", "A sampling of all past memory allocations"},
        {"block", "Stack traces that led to blocking on synchronization primitives"},
        {"cmdline", "The command line invocation of the current program"},
        {"goroutine", "Stack traces of all current goroutines"},
        {"heap", "A sampling of memory allocations of live objects. You can specify the gc GET "
                 "parameter to run GC before taking the heap sample."},
        {"mutex", "Stack traces of holders of contended mutexes"},
        {"profile", "CPU profile. You can specify the duration in the seconds GET parameter. "
                    "After you get the profile file, use the go tool pprof command to "
                    "investigate the profile."},
        {"threadcreate", "Stack traces that led to the creation of new OS threads"},
        {"trace", "A trace of execution of the current program. You can specify the duration "
                  "in the seconds GET parameter. After you get the trace file, use the go tool "
                  "trace command to investigate the trace."},
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        if (strcmp(name, texts[i].name) == 0)
            return texts[i].text;
    return "";
}

/* Appends `text` HTML-escaped as Go's html.EscapeString does. */
static void put_escaped(FILE *out, const char *text)
{
    for (const char *p = text; *p; p++) {
        switch (*p) {
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '&': fputs("&amp;", out); break;
        case '\'': fputs("&#39;", out); break;
        case '"': fputs("&#34;", out); break;
        default: fputc(*p, out);
        }
    }
}

enum MHD_Result http_index(struct MHD_Connection *c)
{
    size_t n_profiles = ltprof_profiles(NULL, 0);
    const char **names = calloc(n_profiles + 1, sizeof(*names));
    struct entry *e = calloc(n_profiles + 3, sizeof(*e));
    char *page = NULL;
    size_t page_len = 0;
    FILE *out = names && e ? open_memstream(&page, &page_len) : NULL;
    if (!out) {
        free(names), free(e);
        return http_send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    n_profiles = ltprof_profiles(names, n_profiles);
    size_t n = 0;
    for (size_t i = 0; i < n_profiles; i++) {
        long long count = rt_profile_count(names[i]);
        e[n++] = (struct entry){names[i], description(names[i]), count < 0 ? 0 : count};
    }
    if (rt_config_get()->http_cmdline)
        e[n++] = (struct entry){"cmdline", description("cmdline"), 0};
    e[n++] = (struct entry){"profile", description("profile"), 0};
    e[n++] = (struct entry){"trace", description("trace"), 0};
    qsort(e, n, sizeof(*e), by_name);

    const char *prefix = rt_config_get()->http_prefix;
    fprintf(out, "<html>\n<head>\n<title>%s/</title>\n<style>\n.profile-name{\n"
                 "\tdisplay:inline-block;\n\twidth:6rem;\n}\n</style>\n</head>\n<body>\n",
            prefix);
    fprintf(out, "%s/<br>\n<br>\nTypes of profiles available:\n<table>\n"
                 "<thead><td>Count</td><td>Profile</td></thead>\n",
            prefix);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "<tr><td>%lld</td><td><a href='", e[i].count);
        put_escaped(out, e[i].name);
        fputs("?debug=1'>", out);
        put_escaped(out, e[i].name);
        fputs("</a></td></tr>\n", out);
    }
    fputs("</table>\n<a href=\"goroutine?debug=2\">full goroutine stack dump</a>\n<br>\n<p>\n"
          "Profile Descriptions:\n<ul>\n",
          out);
    for (size_t i = 0; i < n; i++) {
        fputs("<li><div class=profile-name>", out);
        put_escaped(out, e[i].name);
        fputs(": </div> ", out);
        put_escaped(out, e[i].description);
        fputs("</li>\n", out);
    }
    fputs("</ul>\n</p>\n</body>\n</html>", out);
    int failed = fclose(out) != 0;
    free(names), free(e);
    enum MHD_Result rc =
        failed ? http_send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory")
               : http_send_body(c, MHD_HTTP_OK, "text/html; charset=utf-8", page, page_len);
    free(page);
    return rc;
}
