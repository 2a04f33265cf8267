/* SPDX-License-Identifier: MIT */
/*
 * Load generator for ltprof-bench-kv-server (kv_server.c, protocol in kv_proto.h): C connections
 * to 127.0.0.1, spread over T threads with an epoll set each. Every connection keeps one
 * request outstanding, GETs and SETs on random keys, for a fixed time: the next one is sent as
 * soon as the response is in (closed loop, the default), or at a fixed rate (-r: each connection
 * sends at its share of the rate, dropping the slots it misses). At the end it prints
 * requests/s and latency percentiles from a log-linear histogram (3 % resolution). It runs in a
 * process of its own, never under ltprof.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kv_proto.h"

#define MAX_THREADS 64
#define MAX_CONNS 4096
#define HIST_BUCKETS 2048 /* bucket_of() of any 64-bit value stays below 60 * 32 + 64 */

static const char usage[] =
    "usage: ltprof-bench-kv-load (-p PORT | -f PORT_FILE) [options]\n"
    "  -p PORT       server port on 127.0.0.1\n"
    "  -f FILE       read \"port=PORT\" from FILE (written by kv_server -f), waiting up to 30 s\n"
    "  -c CONNS      connections (default 16)\n"
    "  -T THREADS    threads (default 2)\n"
    "  -d SECONDS    duration, may be fractional (default 10)\n"
    "  -k KEYS       key space, \"key:00000000\" on (default 10000, as the server stores)\n"
    "  -s PERCENT    share of SETs (default 10)\n"
    "  -v BYTES      SET value size (default 64)\n"
    "  -r RATE       requests per second over all connections (default 0: closed loop)\n";

/* One connection's state: the request in flight and the bytes of its response so far. */
struct conn {
    int fd;
    int idle;        /* rate mode: response in, next request not sent yet */
    uint64_t due_ns; /* rate mode: when the next request is due */
    uint64_t sent_ns;
    size_t want, got; /* response bytes expected (header first, then its value) and received */
    char in[sizeof(struct kv_response) + KV_VALUE_MAX];
};

struct loader {
    pthread_t thread;
    struct conn *conns;
    int nconns;
    uint64_t rng;
    uint64_t requests, errors;
    uint64_t hist[HIST_BUCKETS];
};

static struct {
    int port, keys, set_percent, value_bytes;
    uint64_t deadline_ns;
    uint64_t interval_ns; /* rate mode: between two requests of one connection; 0: closed loop */
} cfg;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Log-linear buckets: exact below 64 ns, then 32 buckets per power of two. */
static unsigned bucket_of(uint64_t v)
{
    if (v < 64)
        return (unsigned)v;
    int shift = 63 - __builtin_clzll(v) - 5;
    return (unsigned)shift * 32 + (unsigned)(v >> shift);
}

/* The middle of bucket `b`, in ns. */
static double bucket_value(unsigned b)
{
    if (b < 64)
        return b;
    unsigned shift = b / 32 - 1, m = b - shift * 32;
    return ((double)m + 0.5) * (double)(1ull << shift);
}

static uint64_t next_random(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static int send_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t r = send(fd, buf, n, MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        buf += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Sends the connection's next request. 0, or -1 when the server is gone. */
static int send_request(struct loader *l, struct conn *c)
{
    char buf[sizeof(struct kv_request) + KV_KEY_MAX + KV_VALUE_MAX];
    uint64_t r = next_random(&l->rng);
    int set = (int)(r % 100) < cfg.set_percent;
    struct kv_request h = {.op = set ? KV_OP_SET : KV_OP_GET};
    uint32_t key = (uint32_t)((r >> 8) % (uint64_t)cfg.keys);
    h.key_bytes = (uint8_t)kv_key_format(buf + sizeof(h), key);
    h.value_bytes = set ? (uint16_t)cfg.value_bytes : 0;
    memset(buf + sizeof(h) + h.key_bytes, 'v', h.value_bytes);
    memcpy(buf, &h, sizeof(h));
    c->want = sizeof(struct kv_response);
    c->got = 0;
    c->sent_ns = now_ns();
    return send_all(c->fd, buf, sizeof(h) + h.key_bytes + h.value_bytes);
}

/* The connection is readable. 1 when its response is complete, 0 when not yet, -1 on error. */
static int receive(struct conn *c)
{
    ssize_t r = recv(c->fd, c->in + c->got, c->want - c->got, 0);
    if (r < 0 && errno == EINTR)
        return 0;
    if (r <= 0)
        return -1;
    c->got += (size_t)r;
    if (c->got == sizeof(struct kv_response) && c->want == c->got) {
        struct kv_response resp;
        memcpy(&resp, c->in, sizeof(resp));
        if (resp.value_bytes > KV_VALUE_MAX)
            return -1;
        c->want += resp.value_bytes;
    }
    return c->got == c->want;
}

static void *loader_main(void *arg)
{
    struct loader *l = arg;
    struct epoll_event events[64];
    int epfd = epoll_create1(EPOLL_CLOEXEC), live = l->nconns;
    if (epfd < 0)
        return NULL;
    uint64_t start = now_ns();
    for (int i = 0; i < l->nconns; i++) {
        struct conn *c = &l->conns[i];
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        /* Rate mode: the connections' first requests spread over one interval. */
        c->due_ns = start + cfg.interval_ns * (uint64_t)i / (uint64_t)l->nconns;
        c->idle = cfg.interval_ns != 0;
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0 || (!c->idle && send_request(l, c))) {
            l->errors++;
            live--;
        }
    }
    while (live > 0) {
        uint64_t now = now_ns();
        if (now >= cfg.deadline_ns)
            break;
        uint64_t wake = cfg.deadline_ns;
        for (int i = 0; cfg.interval_ns && i < l->nconns; i++) {
            struct conn *c = &l->conns[i];
            if (!c->idle)
                continue;
            if (c->due_ns <= now) {
                c->idle = 0;
                c->due_ns += cfg.interval_ns;
                if (c->due_ns + cfg.interval_ns < now)
                    c->due_ns = now; /* more than a slot late: drop the missed ones */
                if (send_request(l, c) != 0) {
                    l->errors++;
                    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
                    live--;
                }
            } else if (c->due_ns < wake) {
                wake = c->due_ns;
            }
        }
        struct timespec timeout = {.tv_sec = (time_t)((wake - now) / 1000000000u),
                                   .tv_nsec = (long)((wake - now) % 1000000000u)};
        int n = epoll_pwait2(epfd, events, 64, &timeout, NULL);
        for (int i = 0; i < n; i++) {
            struct conn *c = events[i].data.ptr;
            int r = receive(c);
            if (r == 0)
                continue;
            if (r > 0) {
                struct kv_response resp;
                memcpy(&resp, c->in, sizeof(resp));
                uint64_t t = now_ns();
                l->hist[bucket_of(t - c->sent_ns)]++;
                l->requests++;
                if (resp.status == KV_BAD_REQUEST)
                    l->errors++;
                if (t < cfg.deadline_ns) {
                    if (cfg.interval_ns) {
                        c->idle = 1;
                        continue;
                    }
                    if (send_request(l, c) == 0)
                        continue;
                    l->errors++;
                } /* else done: the connection stays quiet */
            } else {
                l->errors++;
            }
            epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
            live--;
        }
    }
    close(epfd);
    return NULL;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* The port in a kv_server -f file, waiting for the file to appear; -1 after 30 s. */
static int read_port_file(const char *path)
{
    for (int i = 0; i < 3000; i++) {
        FILE *f = fopen(path, "r");
        int port = -1;
        if (f) {
            if (fscanf(f, "port=%d", &port) != 1)
                port = -1;
            fclose(f);
            if (port > 0)
                return port;
        }
        usleep(10000);
    }
    return -1;
}

static int connect_to(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* The latency at fraction `q` of the merged histogram, in µs. */
static double percentile_us(const uint64_t *hist, uint64_t total, double q)
{
    uint64_t rank = (uint64_t)(q * (double)total), seen = 0;
    if (rank >= total)
        rank = total ? total - 1 : 0;
    for (unsigned b = 0; b < HIST_BUCKETS; b++) {
        seen += hist[b];
        if (seen > rank)
            return bucket_value(b) / 1000.0;
    }
    return 0;
}

int main(int argc, char **argv)
{
    long port = 0, conns = 16, threads = 2, keys = 10000, set_percent = 10, value_bytes = 64;
    long rate = 0;
    double seconds = 10;
    const char *port_file = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "p:f:c:T:d:k:s:v:r:h")) != -1) {
        int bad = 0;
        char *end;
        switch (opt) {
        case 'p': bad = parse_long(optarg, 1, 65535, &port); break;
        case 'f': port_file = optarg; break;
        case 'c': bad = parse_long(optarg, 1, MAX_CONNS, &conns); break;
        case 'T': bad = parse_long(optarg, 1, MAX_THREADS, &threads); break;
        case 'd':
            seconds = strtod(optarg, &end);
            bad = end == optarg || *end || !(seconds > 0 && seconds <= 86400);
            break;
        case 'k': bad = parse_long(optarg, 1, 1L << 24, &keys); break;
        case 's': bad = parse_long(optarg, 0, 100, &set_percent); break;
        case 'v': bad = parse_long(optarg, 0, KV_VALUE_MAX, &value_bytes); break;
        case 'r': bad = parse_long(optarg, 0, 100000000, &rate); break;
        case 'h': fputs(usage, stdout); return 0;
        default: bad = 1;
        }
        if (bad) {
            fputs(usage, stderr);
            return 2;
        }
    }
    if (optind != argc || (!port && !port_file)) {
        fputs(usage, stderr);
        return 2;
    }
    if (!port && (port = read_port_file(port_file)) < 0) {
        fprintf(stderr, "kv_load: no port in %s after 30 s\n", port_file);
        return 1;
    }
    if (threads > conns)
        threads = conns;
    cfg.port = (int)port;
    cfg.keys = (int)keys;
    cfg.set_percent = (int)set_percent;
    cfg.value_bytes = (int)value_bytes;
    cfg.interval_ns = rate ? (uint64_t)(1e9 * (double)conns / (double)rate) : 0;

    static struct conn all[MAX_CONNS];
    static struct loader loaders[MAX_THREADS];
    for (long i = 0; i < conns; i++) {
        all[i].fd = connect_to(cfg.port);
        if (all[i].fd < 0) {
            fprintf(stderr, "kv_load: cannot connect to 127.0.0.1:%d: %s\n", cfg.port,
                    strerror(errno));
            return 1;
        }
    }
    uint64_t t0 = now_ns();
    cfg.deadline_ns = t0 + (uint64_t)(seconds * 1e9);
    for (long t = 0, first = 0; t < threads; t++) {
        struct loader *l = &loaders[t];
        l->nconns = (int)(conns / threads + (t < conns % threads));
        l->conns = &all[first];
        l->rng = 0x9e3779b97f4a7c15ull * (uint64_t)(t + 1);
        first += l->nconns;
        if (pthread_create(&l->thread, NULL, loader_main, l) != 0) {
            fprintf(stderr, "kv_load: cannot start thread %ld\n", t);
            return 1;
        }
    }
    static uint64_t hist[HIST_BUCKETS];
    uint64_t requests = 0, errors = 0;
    for (long t = 0; t < threads; t++) {
        pthread_join(loaders[t].thread, NULL);
        requests += loaders[t].requests;
        errors += loaders[t].errors;
        for (unsigned b = 0; b < HIST_BUCKETS; b++)
            hist[b] += loaders[t].hist[b];
    }
    double elapsed = (double)(now_ns() - t0) / 1e9;
    for (long i = 0; i < conns; i++)
        close(all[i].fd);

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    printf("kv_load: conns=%ld threads=%ld rate=%ld duration_s=%.3f requests=%llu errors=%llu "
           "rps=%.1f p50_us=%.1f p90_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f cpu_s=%.3f\n",
           conns, threads, rate, elapsed, (unsigned long long)requests, (unsigned long long)errors,
           (double)requests / elapsed, percentile_us(hist, requests, 0.50),
           percentile_us(hist, requests, 0.90), percentile_us(hist, requests, 0.99),
           percentile_us(hist, requests, 0.999), percentile_us(hist, requests, 1.0), cpu);
    return errors ? 1 : 0;
}
