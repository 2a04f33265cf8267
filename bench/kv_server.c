/* SPDX-License-Identifier: MIT */
/*
 * A small multi-threaded key-value server for the tracing-overhead benchmark
 * (bench/server_overhead.sh): an accept thread hands each TCP connection on 127.0.0.1 to one of
 * W workers (round-robin), each worker waits on its own epoll set, receives requests
 * (kv_proto.h), looks them up in one shared hash table behind one pthread mutex (or rwlock),
 * checksums the value (the per-request CPU work) and sends the response. Each worker also
 * counts under its own (uncontended) mutex, as servers keep statistics. The main thread waits for
 * SIGTERM/SIGINT or the time limit, stops the threads and prints what it served and its CPU time
 * (getrusage, all threads, ltprof's own included).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
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

#define MAX_WORKERS 64
#define CONN_BUF_BYTES 4096
#define STOP_POLL_MS 100 /* how often idle threads look at the stop flag */

static const char usage[] =
    "usage: ltprof-bench-kv-server [options]\n"
    "  -p PORT     TCP port on 127.0.0.1 (default 0: any free port)\n"
    "  -f FILE     write \"port=PORT pid=PID\" to FILE once listening\n"
    "  -w WORKERS  worker threads (default 4)\n"
    "  -t SECONDS  stop after this long (default 0: only on SIGTERM/SIGINT)\n"
    "  -k KEYS     keys stored at start, \"key:00000000\" on (default 10000)\n"
    "  -v BYTES    size of the stored values (default 64)\n"
    "  -W ROUNDS   checksum rounds over the value per request (default 16)\n"
    "  -l LOCK     table lock: mutex or rwlock (default mutex)\n";

/* ---- the table ------------------------------------------------------------------------------ */

/* One key and its value, chained in its bucket. */
struct entry {
    struct entry *next;
    uint8_t key_bytes;
    uint16_t value_bytes;
    char key[KV_KEY_MAX];
    char value[KV_VALUE_MAX];
};

/* The shared table: `buckets` chains (a power of two), all behind one lock. */
struct table {
    struct entry **chains;
    uint32_t mask;
    int use_rwlock;
    pthread_mutex_t mutex;
    pthread_rwlock_t rwlock;
};

static uint32_t hash_key(const char *key, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)key[i]) * 16777619u;
    return h;
}

static void table_lock(struct table *t, int write)
{
    if (!t->use_rwlock)
        pthread_mutex_lock(&t->mutex);
    else if (write)
        pthread_rwlock_wrlock(&t->rwlock);
    else
        pthread_rwlock_rdlock(&t->rwlock);
}

static void table_unlock(struct table *t)
{
    if (t->use_rwlock)
        pthread_rwlock_unlock(&t->rwlock);
    else
        pthread_mutex_unlock(&t->mutex);
}

/* The entry of `key` in its chain, or NULL. Lock held. */
static struct entry *table_find(struct table *t, const char *key, size_t n, uint32_t h)
{
    for (struct entry *e = t->chains[h & t->mask]; e; e = e->next)
        if (e->key_bytes == n && memcmp(e->key, key, n) == 0)
            return e;
    return NULL;
}

/* Copies the value of `key` into `out` (KV_VALUE_MAX bytes); its length, or -1 when absent. */
static int table_get(struct table *t, const char *key, size_t n, char *out)
{
    uint32_t h = hash_key(key, n);
    int len = -1;
    table_lock(t, 0);
    struct entry *e = table_find(t, key, n, h);
    if (e) {
        len = e->value_bytes;
        memcpy(out, e->value, (size_t)len);
    }
    table_unlock(t);
    return len;
}

/* Stores `value` under `key`. 0, or -1 when out of memory (the table is unchanged). */
static int table_set(struct table *t, const char *key, size_t n, const char *value, size_t len)
{
    uint32_t h = hash_key(key, n);
    struct entry *fresh = malloc(sizeof(*fresh)); /* outside the lock; freed if not needed */
    if (!fresh)
        return -1;
    table_lock(t, 1);
    struct entry *e = table_find(t, key, n, h);
    if (!e) {
        e = fresh;
        fresh = NULL;
        e->key_bytes = (uint8_t)n;
        memcpy(e->key, key, n);
        e->next = t->chains[h & t->mask];
        t->chains[h & t->mask] = e;
    }
    e->value_bytes = (uint16_t)len;
    memcpy(e->value, value, len);
    table_unlock(t);
    free(fresh);
    return 0;
}

static int table_init(struct table *t, uint32_t keys, int use_rwlock)
{
    uint32_t buckets = 1024;
    while (buckets < keys && buckets < (1u << 24))
        buckets <<= 1;
    t->chains = calloc(buckets, sizeof(t->chains[0]));
    if (!t->chains)
        return -1;
    t->mask = buckets - 1;
    t->use_rwlock = use_rwlock;
    pthread_mutex_init(&t->mutex, NULL);
    pthread_rwlock_init(&t->rwlock, NULL);
    return 0;
}

static void table_fini(struct table *t)
{
    for (uint32_t b = 0; t->chains && b <= t->mask; b++)
        for (struct entry *e = t->chains[b], *next; e; e = next) {
            next = e->next;
            free(e);
        }
    free(t->chains);
    pthread_mutex_destroy(&t->mutex);
    pthread_rwlock_destroy(&t->rwlock);
}

/* ---- workers -------------------------------------------------------------------------------- */

/* One client connection, owned by one worker: bytes received but not yet parsed. */
struct conn {
    struct conn *next; /* in its worker's list */
    int fd;
    size_t in_bytes;
    char in[CONN_BUF_BYTES];
};

/* One worker thread. `lock` protects the statistics and the connection list (the accept thread
 * adds to it); it is taken once per request, uncontended. */
struct worker {
    pthread_t thread;
    int epfd;
    struct server *srv;
    pthread_mutex_t lock;
    struct conn *conns;
    uint64_t requests, gets, hits, sets, bad;
};

struct server {
    struct table table;
    struct worker workers[MAX_WORKERS];
    int nworkers;
    int listen_fd;
    int work_rounds;
    atomic_int stop;
    pthread_t acceptor;
};

/* The per-request CPU work: `rounds` passes of a checksum over the value. */
static uint32_t checksum(const char *buf, size_t n, int rounds)
{
    uint32_t a = 1, b = 0;
    for (int r = 0; r < rounds; r++)
        for (size_t i = 0; i < n; i++) {
            a = (a + (uint8_t)buf[i] + (uint32_t)r) % 65521u;
            b = (b + a) % 65521u;
        }
    return b << 16 | a;
}

/* Serves the complete request at `req` (`avail` bytes there): fills `resp` and the value it
 * returns in `out`; the request's length, or 0 when it is not complete yet. */
static size_t serve_request(struct worker *w, const char *req, size_t avail,
                            struct kv_response *resp, char *out)
{
    struct kv_request h;
    if (avail < sizeof(h))
        return 0;
    memcpy(&h, req, sizeof(h));
    size_t value_bytes = h.op == KV_OP_SET ? h.value_bytes : 0;
    size_t len = sizeof(h) + h.key_bytes + value_bytes;
    if (avail < len)
        return 0;
    const char *key = req + sizeof(h), *value = key + h.key_bytes;
    int rounds = w->srv->work_rounds;
    memset(resp, 0, sizeof(*resp));
    int get = 0, hit = 0, set = 0;
    if (h.key_bytes == 0 || h.key_bytes > KV_KEY_MAX || value_bytes > KV_VALUE_MAX ||
        (h.op != KV_OP_GET && h.op != KV_OP_SET)) {
        resp->status = KV_BAD_REQUEST;
    } else if (h.op == KV_OP_GET) {
        get = 1;
        int n = table_get(&w->srv->table, key, h.key_bytes, out);
        if (n < 0) {
            resp->status = KV_NOT_FOUND;
        } else {
            hit = 1;
            resp->value_bytes = (uint16_t)n;
            resp->checksum = checksum(out, (size_t)n, rounds);
        }
    } else {
        set = 1;
        resp->checksum = checksum(value, value_bytes, rounds);
        if (table_set(&w->srv->table, key, h.key_bytes, value, value_bytes) != 0)
            resp->status = KV_BAD_REQUEST;
    }
    pthread_mutex_lock(&w->lock);
    w->requests++;
    w->gets += (uint64_t)get;
    w->hits += (uint64_t)hit;
    w->sets += (uint64_t)set;
    w->bad += (uint64_t)(resp->status == KV_BAD_REQUEST);
    pthread_mutex_unlock(&w->lock);
    return len;
}

/* Sends all of `buf`. 0, or -1 when the peer is gone. */
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

static void conn_close(struct worker *w, struct conn *c)
{
    epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    pthread_mutex_lock(&w->lock);
    for (struct conn **p = &w->conns; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    pthread_mutex_unlock(&w->lock);
    free(c);
}

/* The connection is readable: receives, serves every complete request, replies. */
static void conn_serve(struct worker *w, struct conn *c)
{
    static __thread char out[CONN_BUF_BYTES * 2];
    ssize_t r = recv(c->fd, c->in + c->in_bytes, sizeof(c->in) - c->in_bytes, 0);
    if (r < 0 && errno == EINTR)
        return;
    if (r <= 0) {
        conn_close(w, c);
        return;
    }
    c->in_bytes += (size_t)r;
    size_t done = 0, out_bytes = 0;
    for (;;) {
        struct kv_response resp;
        char value[KV_VALUE_MAX];
        size_t n = serve_request(w, c->in + done, c->in_bytes - done, &resp, value);
        if (n == 0)
            break;
        done += n;
        if (out_bytes + sizeof(resp) + resp.value_bytes > sizeof(out)) {
            if (send_all(c->fd, out, out_bytes) != 0)
                goto gone;
            out_bytes = 0;
        }
        memcpy(out + out_bytes, &resp, sizeof(resp));
        memcpy(out + out_bytes + sizeof(resp), value, resp.value_bytes);
        out_bytes += sizeof(resp) + resp.value_bytes;
    }
    if (out_bytes && send_all(c->fd, out, out_bytes) != 0)
        goto gone;
    memmove(c->in, c->in + done, c->in_bytes - done);
    c->in_bytes -= done;
    if (c->in_bytes == sizeof(c->in)) /* a request larger than the buffer: cannot be valid */
        goto gone;
    return;
gone:
    conn_close(w, c);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct epoll_event events[64];
    pthread_setname_np(pthread_self(), "kv-worker");
    while (!atomic_load_explicit(&w->srv->stop, memory_order_relaxed)) {
        int n = epoll_wait(w->epfd, events, 64, STOP_POLL_MS);
        for (int i = 0; i < n; i++)
            conn_serve(w, events[i].data.ptr);
    }
    return NULL;
}

/* ---- accepting ------------------------------------------------------------------------------ */

static void *accept_main(void *arg)
{
    struct server *s = arg;
    unsigned next = 0;
    pthread_setname_np(pthread_self(), "kv-accept");
    while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
        struct pollfd p = {.fd = s->listen_fd, .events = POLLIN};
        if (poll(&p, 1, STOP_POLL_MS) <= 0)
            continue;
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        struct conn *c = malloc(sizeof(*c));
        if (!c) {
            close(fd);
            continue;
        }
        struct worker *w = &s->workers[next++ % (unsigned)s->nworkers];
        c->fd = fd;
        c->in_bytes = 0;
        pthread_mutex_lock(&w->lock);
        c->next = w->conns;
        w->conns = c;
        pthread_mutex_unlock(&w->lock);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
            conn_close(w, c);
    }
    return NULL;
}

/* ---- main ----------------------------------------------------------------------------------- */

static double now_s(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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

static int listen_on(long port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 128) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Writes "port=P pid=PID" to `path` through a temporary file, so readers never see half. */
static int write_port_file(const char *path, int fd)
{
    struct sockaddr_in a = {0};
    socklen_t len = sizeof(a);
    char tmp[4096];
    if (getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    printf("kv_server: listening on 127.0.0.1:%d pid=%d\n", ntohs(a.sin_port), (int)getpid());
    fflush(stdout);
    if (!path)
        return 0;
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "port=%d pid=%d\n", ntohs(a.sin_port), (int)getpid());
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        return -1;
    return 0;
}

static int fill_table(struct table *t, long keys, long value_bytes)
{
    char key[KV_KEY_MAX], value[KV_VALUE_MAX];
    for (long i = 0; i < keys; i++) {
        int n = kv_key_format(key, (uint32_t)i);
        for (long j = 0; j < value_bytes; j++)
            value[j] = (char)('a' + (i + j) % 26);
        if (table_set(t, key, (size_t)n, value, (size_t)value_bytes) != 0)
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    long port = 0, workers = 4, seconds = 0, keys = 10000, value_bytes = 64, rounds = 16;
    const char *port_file = NULL, *lock = "mutex";
    int opt;
    while ((opt = getopt(argc, argv, "p:f:w:t:k:v:W:l:h")) != -1) {
        int bad = 0;
        switch (opt) {
        case 'p': bad = parse_long(optarg, 0, 65535, &port); break;
        case 'f': port_file = optarg; break;
        case 'w': bad = parse_long(optarg, 1, MAX_WORKERS, &workers); break;
        case 't': bad = parse_long(optarg, 0, 86400, &seconds); break;
        case 'k': bad = parse_long(optarg, 0, 1L << 24, &keys); break;
        case 'v': bad = parse_long(optarg, 0, KV_VALUE_MAX, &value_bytes); break;
        case 'W': bad = parse_long(optarg, 0, 1000000, &rounds); break;
        case 'l': lock = optarg; bad = strcmp(lock, "mutex") != 0 && strcmp(lock, "rwlock") != 0; break;
        case 'h': fputs(usage, stdout); return 0;
        default: bad = 1;
        }
        if (bad) {
            fputs(usage, stderr);
            return 2;
        }
    }
    if (optind != argc) {
        fputs(usage, stderr);
        return 2;
    }

    static struct server s;
    s.nworkers = (int)workers;
    s.work_rounds = (int)rounds;
    if (table_init(&s.table, (uint32_t)keys, strcmp(lock, "rwlock") == 0) != 0 ||
        fill_table(&s.table, keys, value_bytes) != 0) {
        fprintf(stderr, "kv_server: out of memory filling the table\n");
        return 1;
    }
    s.listen_fd = listen_on(port);
    if (s.listen_fd < 0) {
        fprintf(stderr, "kv_server: cannot listen on 127.0.0.1:%ld: %s\n", port, strerror(errno));
        return 1;
    }

    /* Every thread inherits the mask; only the main thread takes the signals, with sigwait. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);

    double wall0 = now_s(CLOCK_MONOTONIC);
    for (int i = 0; i < s.nworkers; i++) {
        struct worker *w = &s.workers[i];
        w->srv = &s;
        w->epfd = epoll_create1(EPOLL_CLOEXEC);
        pthread_mutex_init(&w->lock, NULL);
        if (w->epfd < 0 || pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            fprintf(stderr, "kv_server: cannot start worker %d\n", i);
            return 1;
        }
    }
    if (pthread_create(&s.acceptor, NULL, accept_main, &s) != 0) {
        fprintf(stderr, "kv_server: cannot start the accept thread\n");
        return 1;
    }
    if (write_port_file(port_file, s.listen_fd) != 0) {
        fprintf(stderr, "kv_server: cannot write %s: %s\n", port_file, strerror(errno));
        return 1;
    }

    struct timespec limit = {.tv_sec = seconds};
    int sig;
    do
        sig = seconds ? sigtimedwait(&stop_signals, NULL, &limit)
                      : sigwaitinfo(&stop_signals, NULL);
    while (sig < 0 && errno == EINTR);
    atomic_store(&s.stop, 1);
    pthread_join(s.acceptor, NULL);
    uint64_t requests = 0, gets = 0, hits = 0, sets = 0, bad = 0;
    for (int i = 0; i < s.nworkers; i++) {
        struct worker *w = &s.workers[i];
        pthread_join(w->thread, NULL);
        requests += w->requests, gets += w->gets, hits += w->hits, sets += w->sets, bad += w->bad;
        while (w->conns)
            conn_close(w, w->conns);
        close(w->epfd);
        pthread_mutex_destroy(&w->lock);
    }
    double wall = now_s(CLOCK_MONOTONIC) - wall0;
    close(s.listen_fd);
    table_fini(&s.table);

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
    double sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    printf("kv_server: pid=%d stopped_by=%s workers=%d lock=%s requests=%llu gets=%llu hits=%llu "
           "sets=%llu bad=%llu wall_s=%.3f user_s=%.3f sys_s=%.3f cpu_s=%.3f "
           "cpu_us_per_request=%.3f vcsw=%ld ivcsw=%ld\n",
           (int)getpid(), sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "time",
           s.nworkers, lock, (unsigned long long)requests, (unsigned long long)gets,
           (unsigned long long)hits, (unsigned long long)sets, (unsigned long long)bad, wall, user,
           sys, user + sys, requests ? (user + sys) * 1e6 / (double)requests : 0.0, ru.ru_nvcsw,
           ru.ru_nivcsw);
    return 0;
}
