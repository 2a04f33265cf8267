/* SPDX-License-Identifier: MIT */
/*
 * Integration-test program for the in-process mutex and block profiles: 4 threads each take
 * one mutex 100 times in contend(), holding it about 200 us (then 50 us of work outside it,
 * so the lock changes hands), and measure every
 * pthread_mutex_lock they make (the truth of the lock waits); then each waits about 5 ms on a
 * condition variable in cond_pause() and on a semaphore in sem_pause(), measured too. Prints
 * "mutex_wait_ns=<n> cond_wait_ns=<n> sem_wait_ns=<n>" (tests/integration/
 * test_contention_inprocess.sh compares it with LTPROF_MUTEXPROFILE and LTPROF_BLOCKPROFILE).
 * With a folder argument it also writes mutex.txt and block.txt there in Go's text format,
 * through ltprof_profile_write found with dlsym (the library is preloaded, not linked).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define NOINLINE __attribute__((noipa))
#define THREADS 4
#define ROUNDS 100

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t cond_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static sem_t sem;
static int cond_ready;
static uint64_t mutex_wait[THREADS], cond_wait[THREADS], sem_wait_ns[THREADS];

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void spin_for(uint64_t ns)
{
    uint64_t end = now_ns() + ns;
    while (now_ns() < end)
        ;
}

NOINLINE void contend(int id)
{
    for (int i = 0; i < ROUNDS; i++) {
        uint64_t t = now_ns();
        pthread_mutex_lock(&lock);
        mutex_wait[id] += now_ns() - t;
        spin_for(200000);
        pthread_mutex_unlock(&lock);
        spin_for(50000); /* outside the lock, so the others get it in turn */
    }
}

static int at_cond, at_sem; /* threads that reached each wait */

NOINLINE void cond_pause(int id)
{
    uint64_t t = now_ns();
    pthread_mutex_lock(&cond_lock);
    at_cond++;
    while (!cond_ready)
        pthread_cond_wait(&cond, &cond_lock);
    pthread_mutex_unlock(&cond_lock);
    cond_wait[id] = now_ns() - t;
}

NOINLINE void sem_pause(int id)
{
    uint64_t t = now_ns();
    __atomic_add_fetch(&at_sem, 1, __ATOMIC_RELAXED);
    sem_wait(&sem);
    sem_wait_ns[id] = now_ns() - t;
}

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    contend(id);
    cond_pause(id);
    sem_pause(id);
    return NULL;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {0, ms * 1000000};
    nanosleep(&ts, NULL);
}

/* Writes profile `name` as Go's text into dir/<name>.txt. 0 on success. */
static int write_text(const char *dir, const char *name)
{
    int (*write_profile)(const char *, int, int) =
        (int (*)(const char *, int, int))dlsym(RTLD_DEFAULT, "ltprof_profile_write");
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s.txt", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int rc = write_profile && fd >= 0 ? write_profile(name, fd, 1) : -1;
    if (fd >= 0)
        close(fd);
    return rc;
}

int main(int argc, char **argv)
{
    pthread_t th[THREADS];
    sem_init(&sem, 0, 0);
    for (int i = 0; i < THREADS; i++)
        if (pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i) != 0) {
            fprintf(stderr, "contention: pthread_create failed\n");
            return 1;
        }
    /* Everybody at the condition: release it 5 ms later; then the same for the semaphore. */
    for (int n = 0; n < THREADS;) {
        sleep_ms(1);
        pthread_mutex_lock(&cond_lock);
        n = at_cond;
        pthread_mutex_unlock(&cond_lock);
    }
    sleep_ms(5);
    pthread_mutex_lock(&cond_lock);
    cond_ready = 1;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&cond_lock);
    while (__atomic_load_n(&at_sem, __ATOMIC_RELAXED) < THREADS)
        sleep_ms(1);
    sleep_ms(5);
    for (int i = 0; i < THREADS; i++)
        sem_post(&sem);
    uint64_t m = 0, c = 0, w = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        m += mutex_wait[i], c += cond_wait[i], w += sem_wait_ns[i];
    }
    printf("mutex_wait_ns=%llu cond_wait_ns=%llu sem_wait_ns=%llu\n", (unsigned long long)m,
           (unsigned long long)c, (unsigned long long)w);
    if (argc > 1 && (write_text(argv[1], "mutex") != 0 || write_text(argv[1], "block") != 0)) {
        fprintf(stderr, "contention: ltprof_profile_write failed\n");
        return 1;
    }
    return 0;
}
