/* SPDX-License-Identifier: MIT */
/*
 * ltprof-demo-http: a small HTTP service to learn ltprof with, like the demo servers people
 * use to learn Go's pprof. It runs its own libmicrohttpd daemon and mounts ltprof's
 * /debug/pprof routes on it (ltprof/ltprof_http.h), as a Go program mounts net/http/pprof.
 *
 *   /                  usage
 *   /cpu?ms=N          burns CPU for N ms (default 2000) in spin_hash()
 *   /heap?size_mb=N    allocates and keeps N MiB (default 64) from grow_heap(); /heap?free=1
 *                      frees everything kept
 *   /mutex?ms=N        4 threads fight over one lock for N ms (default 1000) in contend_lock()
 *   /sleep?ms=N        sleeps N ms (default 1000) in take_a_nap()
 *   /debug/pprof/      ltprof
 *
 * Usage: ltprof-demo-http [ADDRESS]   (default 127.0.0.1:8080; "PORT" alone means loopback)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "ltprof/ltprof_http.h"

#define NOINLINE __attribute__((noinline, noclone))

static const char usage[] =
    "ltprof-demo-http: try\n"
    "  curl localhost:PORT/cpu?ms=2000          burn CPU (spin_hash)\n"
    "  curl 'localhost:PORT/heap?size_mb=500'   keep 500 MiB (grow_heap); heap?free=1 frees\n"
    "  curl localhost:PORT/mutex?ms=1000        lock contention (contend_lock)\n"
    "  curl localhost:PORT/sleep?ms=1000        sleep (take_a_nap)\n"
    "  curl localhost:PORT/debug/pprof/         ltprof's profiles\n";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long param(struct MHD_Connection *c, const char *name, long fallback, long max)
{
    const char *text = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
    char *end;
    long v = text ? strtol(text, &end, 10) : fallback;
    return text && (*end || v < 0 || v > max) ? -1 : v;
}

/* ---- the work ---- */

static NOINLINE uint64_t spin_hash(long ms)
{
    uint64_t h = 1469598103934665603ull;
    double end = now_s() + (double)ms / 1000.0;
    while (now_s() < end)
        for (int i = 0; i < 100000; i++)
            h = (h ^ (uint64_t)i) * 1099511628211ull;
    return h;
}

struct chunk {
    struct chunk *next;
};
static struct chunk *kept;
static long kept_mb;
static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;

static NOINLINE long grow_heap(long mb)
{
    long made = 0;
    for (; made < mb; made++) {
        struct chunk *c = malloc(1 << 20);
        if (!c)
            break;
        memset(c, 1, 1 << 20); /* really in use */
        pthread_mutex_lock(&kept_lock);
        c->next = kept, kept = c, kept_mb++;
        pthread_mutex_unlock(&kept_lock);
    }
    return made;
}

static long free_heap(void)
{
    pthread_mutex_lock(&kept_lock);
    long n = kept_mb;
    while (kept) {
        struct chunk *c = kept;
        kept = c->next;
        free(c);
    }
    kept_mb = 0;
    pthread_mutex_unlock(&kept_lock);
    return n;
}

static pthread_mutex_t hot_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile uint64_t hot_counter;

static NOINLINE void *contend_lock(void *arg)
{
    double end = now_s() + (double)(long)(intptr_t)arg / 1000.0;
    while (now_s() < end) {
        pthread_mutex_lock(&hot_lock);
        for (int i = 0; i < 20000; i++)
            hot_counter++;
        pthread_mutex_unlock(&hot_lock);
    }
    return NULL;
}

static NOINLINE void take_a_nap(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- the service ---- */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result serve(void *cls, struct MHD_Connection *c, const char *url,
                             const char *method, const char *version, const char *upload_data,
                             size_t *upload_data_size, void **req_cls)
{
    (void)cls, (void)version;
    if (ltprof_http_owns(url))
        return ltprof_http_handle(c, url, method, upload_data, upload_data_size, req_cls);
    char text[200];
    if (strcmp(url, "/") == 0)
        return reply(c, MHD_HTTP_OK, usage);
    if (strcmp(url, "/cpu") == 0) {
        long ms = param(c, "ms", 2000, 600000);
        if (ms < 0)
            return reply(c, MHD_HTTP_BAD_REQUEST, "ms: a number of milliseconds up to 600000\n");
        snprintf(text, sizeof(text), "burned %ld ms of CPU (%llx)\n", ms,
                 (unsigned long long)spin_hash(ms));
        return reply(c, MHD_HTTP_OK, text);
    }
    if (strcmp(url, "/heap") == 0) {
        if (param(c, "free", 0, 1) == 1) {
            snprintf(text, sizeof(text), "freed %ld MiB\n", free_heap());
            return reply(c, MHD_HTTP_OK, text);
        }
        long mb = param(c, "size_mb", 64, 65536);
        if (mb < 0)
            return reply(c, MHD_HTTP_BAD_REQUEST, "size_mb: a number of MiB up to 65536\n");
        long made = grow_heap(mb);
        snprintf(text, sizeof(text), "allocated %ld MiB, keeping %ld MiB\n", made, kept_mb);
        return reply(c, made == mb ? MHD_HTTP_OK : MHD_HTTP_INSUFFICIENT_STORAGE, text);
    }
    if (strcmp(url, "/mutex") == 0) {
        long ms = param(c, "ms", 1000, 600000);
        if (ms < 0)
            return reply(c, MHD_HTTP_BAD_REQUEST, "ms: a number of milliseconds up to 600000\n");
        pthread_t t[4];
        for (int i = 0; i < 4; i++)
            pthread_create(&t[i], NULL, contend_lock, (void *)(intptr_t)ms);
        for (int i = 0; i < 4; i++)
            pthread_join(t[i], NULL);
        snprintf(text, sizeof(text), "4 threads contended for %ld ms\n", ms);
        return reply(c, MHD_HTTP_OK, text);
    }
    if (strcmp(url, "/sleep") == 0) {
        long ms = param(c, "ms", 1000, 600000);
        if (ms < 0)
            return reply(c, MHD_HTTP_BAD_REQUEST, "ms: a number of milliseconds up to 600000\n");
        take_a_nap(ms);
        snprintf(text, sizeof(text), "slept %ld ms\n", ms);
        return reply(c, MHD_HTTP_OK, text);
    }
    return reply(c, MHD_HTTP_NOT_FOUND, "not found; see /\n");
}

static void completed(void *cls, struct MHD_Connection *c, void **req_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    ltprof_http_request_completed(req_cls); /* only ltprof keeps per-request state here */
}

int main(int argc, char **argv)
{
    const char *address = argc > 1 ? argv[1] : "127.0.0.1:8080";
    if (argc > 2 || strcmp(address, "--help") == 0 || strcmp(address, "-h") == 0) {
        printf("usage: %s [ADDRESS]   (default 127.0.0.1:8080; PORT alone means loopback)\n\n%s",
               argv[0], usage);
        return argc > 2 ? 2 : 0;
    }
    char host[64] = "127.0.0.1";
    const char *colon = strrchr(address, ':');
    if (colon && (size_t)(colon - address) < sizeof(host))
        snprintf(host, sizeof(host), "%.*s", (int)(colon - address), address);
    long port = strtol(colon ? colon + 1 : address, NULL, 10);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (port <= 0 || port > 65535 || inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        fprintf(stderr, "ltprof-demo-http: bad address \"%s\": expected IPV4:PORT or PORT\n",
                address);
        return 2;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* before any thread: sigwait() takes them */
    signal(SIGPIPE, SIG_IGN); /* a client that hangs up is not a reason to die */
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL, 0, NULL,
        NULL, serve, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "ltprof-demo-http: cannot listen on %s:%ld\n", host, port);
        return 1;
    }
    printf("ltprof-demo-http: serving http://%s:%ld/ (profiles at /debug/pprof/)\n", host, port);
    fflush(stdout);
    int sig;
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    printf("ltprof-demo-http: stopped (%s)\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    return 0;
}
