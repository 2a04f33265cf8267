/* SPDX-License-Identifier: MIT */
/*
 * Integration-test program for threads that exist before a session starts: "cond-sleeper"
 * waits on a condition variable and "pipe-reader" in read() from the start; at 1.5 s the main
 * thread signals the condition and writes the pipe, at 2 s it exits. A session started in
 * between (tests/integration/test_trace_attach.sh) must show both threads, named, waiting
 * since the trace began, and woken when main wakes them.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int woken;
static int fds[2];

__attribute__((noipa)) static void wait_for_signal(void)
{
    pthread_mutex_lock(&lock);
    while (!woken)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
}

static void *cond_sleeper(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "cond-sleeper");
    wait_for_signal();
    return NULL;
}

__attribute__((noipa)) static void wait_for_byte(void)
{
    char c;
    if (read(fds[0], &c, 1) != 1)
        perror("read");
}

static void *pipe_reader(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "pipe-reader");
    wait_for_byte();
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
    struct timespec d = {0, 50 * 1000 * 1000};
    while (now_s() < t)
        nanosleep(&d, NULL);
}

int main(void)
{
    pthread_t a, b;
    double t0 = now_s();
    if (pipe(fds) != 0)
        return 1;
    pthread_create(&a, NULL, cond_sleeper, NULL);
    pthread_create(&b, NULL, pipe_reader, NULL);
    sleep_until(t0 + 1.5);
    pthread_mutex_lock(&lock);
    woken = 1;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
    if (write(fds[1], "x", 1) != 1)
        return 1;
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    sleep_until(t0 + 2.0);
    printf("trace_attach: done\n");
    return 0;
}
