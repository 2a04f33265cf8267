/* SPDX-License-Identifier: MIT */
/*
 * Integration-test program for thread churn: 1000 short-lived threads (argv[1] overrides),
 * ten at a time, each named "churn-N", each working about 100 us and then exiting, all joined.
 * Linux reuses their tids, which the execution trace must tell apart. argv[2] says how they
 * end: "return" (the default), "exit" (pthread_exit), "cancel" (cancelled at a
 * pthread_testcancel while they work), or "mixed" (the three in turn).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH 10

static __thread volatile uint64_t sink;
enum ending { END_RETURN, END_EXIT, END_CANCEL };
static int mode = -1; /* an enum ending, or -1: mixed */

static enum ending ending_of(int i)
{
    return mode >= 0 ? (enum ending)mode : (enum ending)(i % 3);
}

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
    switch (ending_of((int)(intptr_t)arg)) {
    case END_EXIT:
        pthread_exit(NULL);
    case END_CANCEL:
        for (;;) { /* main cancels it */
            churn_work();
            pthread_testcancel();
        }
    case END_RETURN:
        break;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int total = argc > 1 ? atoi(argv[1]) : 1000;
    const char *how = argc > 2 ? argv[2] : "return";
    const char *names[] = {"return", "exit", "cancel", "mixed"};
    for (int m = 0; m < 4; m++)
        if (strcmp(how, names[m]) == 0)
            mode = m < 3 ? m : -1;
    if (mode == -1 && strcmp(how, "mixed") != 0) {
        fprintf(stderr, "thread_churn: how threads end must be return, exit, cancel or mixed\n");
        return 2;
    }
    pthread_t t[BATCH];
    for (int done = 0; done < total;) {
        int n = total - done < BATCH ? total - done : BATCH;
        for (int i = 0; i < n; i++)
            if (pthread_create(&t[i], NULL, churn_thread, (void *)(intptr_t)(done + i)) != 0)
                return 1;
        for (int i = 0; i < n; i++) {
            void *ret = NULL;
            if (ending_of(done + i) == END_CANCEL)
                pthread_cancel(t[i]);
            pthread_join(t[i], &ret);
            if (ending_of(done + i) == END_CANCEL && ret != PTHREAD_CANCELED)
                return 1;
        }
        done += n;
    }
    printf("thread_churn: %d threads created and joined (%s)\n", total, how);
    return 0;
}
