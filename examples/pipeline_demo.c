/* SPDX-License-Identifier: MIT */
/*
 * ltprof-demo-pipeline: the first program to trace. A feeder thread writes requests into a
 * pipe; a dispatcher reads them and queues them on a condition variable; four workers take
 * requests off the queue and update one shared table under a single mutex (the bottleneck to
 * find), each request a task with "lookup" and "update" regions; a reporter wakes every 20 ms.
 * `ltprof record -- ltprof-demo-pipeline` then `go tool trace trace.out` shows where the workers
 * wait. Usage: ltprof-demo-pipeline [REQUESTS]   (default 2000)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "ltprof/ltprof.h"

#define WORKERS 4
#define QUEUE_CAP 64
#define TABLE_SLOTS 4096
#define NOINLINE __attribute__((noinline, noclone))

static int requests = 2000;
static int pipe_fds[2];

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_nonempty = PTHREAD_COND_INITIALIZER;
static uint32_t queue[QUEUE_CAP];
static int queue_len, queue_closed;

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t table[TABLE_SLOTS];
static volatile int done;

static uint64_t mix(uint64_t x)
{
    x ^= x >> 31;
    x *= 0x7fb5d329728ea185ULL;
    return x ^ (x >> 27);
}

/* Some work per request, outside any lock. */
NOINLINE static uint64_t lookup(uint32_t key)
{
    uint64_t h = key;
    for (int i = 0; i < 150000; i++)
        h = mix(h + (uint64_t)i);
    return h;
}

/* The bottleneck: every worker updates the table under one lock, and does work while holding
 * it. */
NOINLINE static void update_table(uint32_t key, uint64_t value)
{
    pthread_mutex_lock(&table_lock);
    for (int i = 0; i < 60000; i++)
        value = mix(value);
    table[key % TABLE_SLOTS] += value;
    pthread_mutex_unlock(&table_lock);
}

NOINLINE static int take_request(uint32_t *key)
{
    pthread_mutex_lock(&queue_lock);
    while (queue_len == 0 && !queue_closed)
        pthread_cond_wait(&queue_nonempty, &queue_lock);
    int ok = queue_len > 0;
    if (ok)
        *key = queue[--queue_len];
    pthread_mutex_unlock(&queue_lock);
    return ok;
}

static void *worker(void *arg)
{
    char name[16];
    uint32_t key;
    snprintf(name, sizeof(name), "worker-%d", (int)(intptr_t)arg);
    pthread_setname_np(pthread_self(), name);
    while (take_request(&key)) {
        uint64_t task = ltprof_task_create(0, "request");
        ltprof_region_begin(task, "lookup");
        uint64_t v = lookup(key);
        ltprof_region_end(task, "lookup");
        ltprof_region_begin(task, "update");
        update_table(key, v);
        ltprof_region_end(task, "update");
        ltprof_task_end(task);
    }
    return NULL;
}

NOINLINE static void enqueue(uint32_t key)
{
    pthread_mutex_lock(&queue_lock);
    while (queue_len == QUEUE_CAP) { /* full: let the workers catch up */
        pthread_mutex_unlock(&queue_lock);
        usleep(100);
        pthread_mutex_lock(&queue_lock);
    }
    queue[queue_len++] = key;
    pthread_cond_signal(&queue_nonempty);
    pthread_mutex_unlock(&queue_lock);
}

static void *dispatcher(void *arg)
{
    (void)arg;
    uint32_t key;
    pthread_setname_np(pthread_self(), "dispatcher");
    while (read(pipe_fds[0], &key, sizeof(key)) == (ssize_t)sizeof(key))
        enqueue(key);
    pthread_mutex_lock(&queue_lock);
    queue_closed = 1;
    pthread_cond_broadcast(&queue_nonempty);
    pthread_mutex_unlock(&queue_lock);
    return NULL;
}

static void *feeder(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "feeder");
    for (int i = 0; i < requests; i++) {
        uint32_t key = (uint32_t)mix((uint64_t)i);
        if (write(pipe_fds[1], &key, sizeof(key)) != (ssize_t)sizeof(key))
            break;
        if (i % 100 == 99)
            usleep(2000); /* requests arrive in bursts */
    }
    close(pipe_fds[1]);
    return NULL;
}

static void *reporter(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "reporter");
    while (!done) {
        struct timespec d = {0, 20 * 1000 * 1000};
        nanosleep(&d, NULL);
        ltprof_log(0, "progress", "tick");
    }
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t w[WORKERS], d, f, r;
    if (argc > 1 && (requests = atoi(argv[1])) <= 0) {
        fprintf(stderr, "usage: ltprof-demo-pipeline [REQUESTS]\n");
        return 2;
    }
    if (pipe(pipe_fds) != 0)
        return 1;
    pthread_create(&r, NULL, reporter, NULL);
    for (int i = 0; i < WORKERS; i++)
        pthread_create(&w[i], NULL, worker, (void *)(intptr_t)(i + 1));
    pthread_create(&d, NULL, dispatcher, NULL);
    pthread_create(&f, NULL, feeder, NULL);
    pthread_join(f, NULL);
    pthread_join(d, NULL);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(w[i], NULL);
    done = 1;
    pthread_join(r, NULL);
    uint64_t sum = 0;
    for (int i = 0; i < TABLE_SLOTS; i++)
        sum += table[i];
    printf("ltprof-demo-pipeline: %d requests, checksum %llx\n", requests,
           (unsigned long long)sum);
    return 0;
}
