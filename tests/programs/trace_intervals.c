/* SPDX-License-Identifier: MIT */
/*
 * Integration-test program for the execution trace's durations: thread "timed" sleeps 50 ms
 * (nanosleep), then waits about 30 ms for a mutex the main thread holds, then blocks about
 * 20 ms in read() on a pipe the main thread writes to. It measures each interval itself with
 * CLOCK_MONOTONIC and prints "sleep_ms=... mutex_ms=... read_ms=...", the truth the trace is
 * compared with (tests/integration/test_trace_intervals.sh).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define NOINLINE __attribute__((noipa))

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int fds[2];
static volatile int waiting_for_lock, reading;
static double sleep_ms, mutex_ms, read_ms;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

NOINLINE void timed_sleep(void)
{
    struct timespec req = {0, 50 * 1000 * 1000};
    double t = now_ms();
    nanosleep(&req, NULL);
    sleep_ms = now_ms() - t;
}

NOINLINE void timed_lock(void)
{
    double t = now_ms();
    waiting_for_lock = 1;
    pthread_mutex_lock(&lock);
    mutex_ms = now_ms() - t;
    pthread_mutex_unlock(&lock);
}

NOINLINE void timed_read(void)
{
    char c;
    double t = now_ms();
    reading = 1;
    if (read(fds[0], &c, 1) != 1)
        perror("read");
    read_ms = now_ms() - t;
}

static void *timed_main(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "timed");
    timed_sleep();
    timed_lock();
    timed_read();
    return NULL;
}

static void wait_flag(volatile int *flag)
{
    while (!*flag)
        usleep(200);
}

int main(void)
{
    pthread_t t;
    struct timespec d30 = {0, 30 * 1000 * 1000}, d20 = {0, 20 * 1000 * 1000};
    if (pipe(fds) != 0)
        return 1;
    pthread_mutex_lock(&lock);
    pthread_create(&t, NULL, timed_main, NULL);
    wait_flag(&waiting_for_lock);
    nanosleep(&d30, NULL);
    pthread_mutex_unlock(&lock);
    wait_flag(&reading);
    nanosleep(&d20, NULL);
    if (write(fds[1], "x", 1) != 1)
        return 1;
    pthread_join(t, NULL);
    printf("sleep_ms=%.3f mutex_ms=%.3f read_ms=%.3f\n", sleep_ms, mutex_ms, read_ms);
    return 0;
}
