/* SPDX-License-Identifier: MIT */
/*
 * Tests that a thread started through ltprof's pthread_create has its exit written before any
 * thread-specific destructor runs, however it ends: by returning, by pthread_exit, or by
 * cancellation. LTTng-UST tears a thread down from such a destructor; ltprof's signal handler
 * must write nothing from then on (tr_tls_exited), and the exit event must not come after.
 * The program's own key is made before the thread; its destructor sees whether the exit was
 * already written. `main`: the main thread itself ends in pthread_exit (it has no trampoline);
 * its destructor prints "ok main" only when the exit was written first, and ends the process.
 * Usage:
 * test_thread_exit return|exit|cancel|main
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "sampler-internal.h"

static pthread_key_t early_key;
static int seen_exited = -1; /* tr_tls_exited as the early destructor saw it */
static const char *how;

static void early_destructor(void *value)
{
    (void)value;
    seen_exited = tr_tls_exited;
    if (strcmp(how, "main") == 0) {
        CHECK(seen_exited == 1);
        printf("ok main: the main thread's exit was written before its destructors ran\n");
        fflush(stdout);
        _exit(0); /* LTTng-UST's threads would keep the process alive (docs/reliability.md) */
    }
}

static void *thread_main(void *arg)
{
    (void)arg;
    pthread_setspecific(early_key, (void *)1);
    CHECK(tr_tls_exited == 0);
    if (strcmp(how, "exit") == 0)
        pthread_exit(NULL);
    if (strcmp(how, "cancel") == 0)
        for (;;) {
            usleep(1000);
            pthread_testcancel();
        }
    return NULL;
}

int main(int argc, char **argv)
{
    how = argc > 1 ? argv[1] : "";
    if (strcmp(how, "return") != 0 && strcmp(how, "exit") != 0 && strcmp(how, "cancel") != 0 &&
        strcmp(how, "main") != 0) {
        fprintf(stderr, "usage: test_thread_exit return|exit|cancel|main\n");
        return 2;
    }
    CHECK(pthread_key_create(&early_key, early_destructor) == 0);
    if (strcmp(how, "main") == 0) {
        CHECK(tr_tls_exited == 0);
        pthread_setspecific(early_key, (void *)1);
        pthread_exit(NULL); /* its destructor ends the process */
    }
    pthread_t t;
    void *ret = NULL;
    CHECK(pthread_create(&t, NULL, thread_main, NULL) == 0);
    if (strcmp(how, "cancel") == 0)
        CHECK(pthread_cancel(t) == 0);
    CHECK(pthread_join(t, &ret) == 0);
    CHECK(strcmp(how, "cancel") != 0 || ret == PTHREAD_CANCELED);
    CHECK(seen_exited == 1);
    printf("ok %s: the exit was written before the thread's destructors ran\n", how);
    return 0;
}
