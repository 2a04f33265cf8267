/* SPDX-License-Identifier: MIT */
/*
 * Integration-test program for thread churn: 1000 short-lived threads (argv[1] overrides),
 * ten at a time, each named "churn-N", each working about 100 us and then exiting, all joined.
 * Linux reuses their tids, which the execution trace must tell apart.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BATCH 10

static volatile uint64_t sink;

__attribute__((noipa)) static void churn_work(void)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    do {
        sink++;
        clock_gettime(CLOCK_MONOTONIC, &b);
    } while ((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) < 100000);
}

static void *churn_thread(void *arg)
{
    char name[16];
    snprintf(name, sizeof(name), "churn-%d", (int)(intptr_t)arg);
    pthread_setname_np(pthread_self(), name);
    churn_work();
    return NULL;
}

int main(int argc, char **argv)
{
    int total = argc > 1 ? atoi(argv[1]) : 1000;
    pthread_t t[BATCH];
    for (int done = 0; done < total;) {
        int n = total - done < BATCH ? total - done : BATCH;
        for (int i = 0; i < n; i++)
            if (pthread_create(&t[i], NULL, churn_thread, (void *)(intptr_t)(done + i)) != 0)
                return 1;
        for (int i = 0; i < n; i++)
            pthread_join(t[i], NULL);
        done += n;
    }
    printf("thread_churn: %d threads created and joined\n", total);
    return 0;
}
