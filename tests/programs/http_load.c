/* SPDX-License-Identifier: MIT */
/*
 * http_load: C concurrent clients, each requesting the given paths in turn from
 * 127.0.0.1:PORT for S seconds over plain sockets (one connection per request, HTTP/1.1 with
 * Connection: close), for the HTTP load test. A request fails when it cannot connect, gets no
 * complete answer within 60 s, or its status is not 200. Prints
 * "requests=N failures=M bytes=B" and each distinct failure once; exits 1 when any failed.
 * Usage: http_load PORT SECONDS CLIENTS PATH...
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int port, n_paths;
static char **paths;
static double end_time;
static atomic_ulong requests, failures, bytes;
static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;
static char last_failure[256];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void failed(const char *path, const char *why)
{
    atomic_fetch_add(&failures, 1);
    char line[256];
    snprintf(line, sizeof(line), "%s: %s", path, why);
    pthread_mutex_lock(&report_lock);
    if (strcmp(line, last_failure) != 0) {
        fprintf(stderr, "http_load: failed: %s\n", line);
        snprintf(last_failure, sizeof(last_failure), "%s", line);
    }
    pthread_mutex_unlock(&report_lock);
}

static void one_request(const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {60, 0};
    if (fd < 0) {
        failed(path, "socket");
        return;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        failed(path, "connect");
        close(fd);
        return;
    }
    char req[512];
    int len = snprintf(req, sizeof(req),
                       "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    if (send(fd, req, (size_t)len, MSG_NOSIGNAL) != len) {
        failed(path, "send");
        close(fd);
        return;
    }
    char head[16] = "", buf[65536];
    size_t got = 0;
    ssize_t n;
    while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
        if (got < sizeof(head) - 1)
            memcpy(head + got, buf, (size_t)n < sizeof(head) - 1 - got ? (size_t)n
                                                                          : sizeof(head) - 1 - got);
        got += (size_t)n;
    }
    close(fd);
    atomic_fetch_add(&bytes, got);
    if (n < 0)
        failed(path, "no complete answer within 60 s");
    else if (strncmp(head, "HTTP/1.1 200", 12) != 0)
        failed(path, head[0] ? head : "empty answer");
}

static void *client(void *arg)
{
    long k = (long)(intptr_t)arg;
    while (now_s() < end_time) {
        one_request(paths[k++ % n_paths]);
        atomic_fetch_add(&requests, 1);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s PORT SECONDS CLIENTS PATH...\n", argv[0]);
        return 2;
    }
    port = atoi(argv[1]);
    double seconds = atof(argv[2]);
    int clients = atoi(argv[3]);
    paths = argv + 4, n_paths = argc - 4;
    if (port <= 0 || seconds <= 0 || clients <= 0 || clients > 10000) {
        fprintf(stderr, "http_load: bad PORT, SECONDS or CLIENTS\n");
        return 2;
    }
    end_time = now_s() + seconds;
    pthread_t *t = calloc((size_t)clients, sizeof(*t));
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    int started = 0;
    while (t && started < clients &&
           pthread_create(&t[started], &attr, client, (void *)(intptr_t)started) == 0)
        started++;
    for (int i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    pthread_attr_destroy(&attr);
    free(t);
    printf("requests=%lu failures=%lu bytes=%lu clients=%d\n", atomic_load(&requests),
           atomic_load(&failures), atomic_load(&bytes), started);
    return started == clients && atomic_load(&failures) == 0 ? 0 : 1;
}
