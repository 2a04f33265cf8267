/* SPDX-License-Identifier: MIT */
/*
 * Integration-test program for the annotation API (ltprof/ltprof.h): a task "batch" with one
 * subtask "item" per worker thread; each worker runs the regions "load" and "compute" and logs
 * a message. Prints what ltprof_trace_is_enabled() says, so a test can compare it with the
 * session state. Linked with -lltprof.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "ltprof/ltprof.h"

#define WORKERS 2

static uint64_t batch;

__attribute__((noinline)) static void annotated_work(uint64_t item, int n)
{
    volatile uint64_t x = 0;
    ltprof_region_begin(item, "load");
    for (int i = 0; i < 100000 * (n + 1); i++)
        x += (uint64_t)i;
    ltprof_region_end(item, "load");
    ltprof_region_begin(item, "compute");
    for (int i = 0; i < 200000; i++)
        x ^= (uint64_t)i * 31u;
    ltprof_region_end(item, "compute");
    ltprof_log(item, "result", n == 0 ? "item 0 done" : "item 1 done");
    __asm__ volatile("" ::: "memory"); /* no tail call: keep this frame in the log's stack */
}

static void *worker(void *arg)
{
    int n = (int)(intptr_t)arg;
    uint64_t item = ltprof_task_create(batch, "item");
    annotated_work(item, n);
    ltprof_task_end(item);
    return NULL;
}

int main(void)
{
    pthread_t t[WORKERS];
    printf("annotate: trace enabled: %d\n", ltprof_trace_is_enabled());
    batch = ltprof_task_create(0, "batch");
    ltprof_log(batch, "status", "batch started");
    for (int i = 0; i < WORKERS; i++)
        pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(t[i], NULL);
    ltprof_task_end(batch);
    printf("annotate: batch task %llu done\n", (unsigned long long)batch);
    return 0;
}
