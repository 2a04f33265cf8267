/* SPDX-License-Identifier: MIT */
/*
 * Integration-test program for the thread profile (linked with -lltprof): five threads each
 * stopped in a known place, "locker" in lock_wait() (a mutex main holds), "waiter" in
 * cond_wait_here() (a condition), "reader" in read_wait() (read() on an empty pipe),
 * "sleeper" in sleep_here() (nanosleep 2 s) and "spinner" in spin_here() (running). Main
 * writes the goroutine profile into the folder argv[1] (goroutine.pb.gz, goroutine.txt with
 * debug=1, goroutine-2.txt with debug=2), then releases everyone and checks that no call was
 * cut short: it prints "interrupted=<n>" (calls that returned EINTR or early) and exits 1 when
 * n > 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ltprof/ltprof.h>

#define NOINLINE __attribute__((noipa))

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t cond_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int released, fds[2], interrupted;
static volatile int spinning = 1;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

NOINLINE void lock_wait(void)
{
    pthread_mutex_lock(&lock);
    pthread_mutex_unlock(&lock);
    __asm__ volatile("" ::: "memory");
}

NOINLINE void cond_wait_here(void)
{
    pthread_mutex_lock(&cond_lock);
    while (!released)
        pthread_cond_wait(&cond, &cond_lock);
    pthread_mutex_unlock(&cond_lock);
    __asm__ volatile("" ::: "memory");
}

NOINLINE void read_wait(void)
{
    char c;
    if (read(fds[0], &c, 1) != 1)
        __atomic_add_fetch(&interrupted, 1, __ATOMIC_RELAXED);
    __asm__ volatile("" ::: "memory");
}

NOINLINE void sleep_here(void)
{
    struct timespec req = {2, 0};
    double t = now_s();
    if (nanosleep(&req, NULL) != 0 || now_s() - t < 1.99)
        __atomic_add_fetch(&interrupted, 1, __ATOMIC_RELAXED);
    __asm__ volatile("" ::: "memory");
}

NOINLINE void spin_here(void)
{
    while (spinning)
        ;
    __asm__ volatile("" ::: "memory");
}

static void *run(void *arg)
{
    const char *name = arg;
    pthread_setname_np(pthread_self(), name);
    if (strcmp(name, "locker") == 0)
        lock_wait();
    else if (strcmp(name, "waiter") == 0)
        cond_wait_here();
    else if (strcmp(name, "reader") == 0)
        read_wait();
    else if (strcmp(name, "sleeper") == 0)
        sleep_here();
    else
        spin_here();
    return NULL;
}

static void write_profile(const char *dir, const char *file, int debug)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int rc = fd >= 0 ? ltprof_profile_write("goroutine", fd, debug) : -1;
    if (fd >= 0)
        close(fd);
    printf("goroutine debug=%d: %s\n", debug, ltprof_status_string((enum ltprof_status)rc));
}

int main(int argc, char **argv)
{
    if (argc != 2 || pipe(fds) != 0) {
        fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
        return 2;
    }
    static const char *names[] = {"locker", "waiter", "reader", "sleeper", "spinner"};
    pthread_t th[5];
    pthread_mutex_lock(&lock);
    for (int i = 0; i < 5; i++)
        if (pthread_create(&th[i], NULL, run, (void *)names[i]) != 0)
            return 1;
    struct timespec settle = {0, 500 * 1000 * 1000}; /* everybody in place, on a busy machine too */
    nanosleep(&settle, NULL);
    write_profile(argv[1], "goroutine.pb.gz", 0);
    write_profile(argv[1], "goroutine.txt", 1);
    write_profile(argv[1], "goroutine-2.txt", 2);
    pthread_mutex_unlock(&lock);
    pthread_mutex_lock(&cond_lock);
    released = 1;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&cond_lock);
    if (write(fds[1], "x", 1) != 1)
        return 1;
    spinning = 0;
    for (int i = 0; i < 5; i++)
        pthread_join(th[i], NULL);
    printf("interrupted=%d\n", interrupted);
    return interrupted ? 1 : 0;
}
