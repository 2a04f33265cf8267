/* SPDX-License-Identifier: MIT */
/*
 * Integration-test program for the execution trace: named threads, each blocking in its own
 * way in a function of its own, so tests can look for the call sites in `go tool trace -pprof`:
 *   lock-1..3   contend on one mutex in contend_mutex()
 *   reader-1,2  take a read-write lock in rw_read(), writer in rw_write()
 *   consumer    waits on a condition variable in consume_items(); producer signals it
 *   piper       blocks in read() in pipe_receive(); main writes the pipe
 *   pinger      recv()/send() on a socket pair in socket_ping(); ponger answers; each side
 *               sleeps before it sends, so both sides' recv() blocks well past the threshold
 *   napper      sleeps in nap() (nanosleep, usleep)
 *   sem-waiter  sem_wait() in sem_take(); barrier-1..3 meet in barrier_meet()
 *   late        still sleeping when main joins it, so main waits in pthread_join
 * plus a task "mix" with a region per phase and a log message. Runs about 0.15 s.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ltprof/ltprof.h"

#define NOINLINE __attribute__((noipa))
#define ROUNDS 20

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t rwlock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_cond = PTHREAD_COND_INITIALIZER;
static int queue_items, queue_done;
static int pipe_fds[2], sock_fds[2];
static sem_t sem;
static pthread_barrier_t barrier;
static volatile uint64_t sink;

static void spin_us(int us)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    do {
        sink++;
        clock_gettime(CLOCK_MONOTONIC, &b);
    } while ((b.tv_sec - a.tv_sec) * 1000000 + (b.tv_nsec - a.tv_nsec) / 1000 < us);
}

static void sleep_us(int us)
{
    struct timespec d = {0, us * 1000L};
    nanosleep(&d, NULL);
}

static void name_self(const char *name)
{
    pthread_setname_np(pthread_self(), name);
}

NOINLINE void contend_mutex(void)
{
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&mutex);
        spin_us(1000);
        pthread_mutex_unlock(&mutex);
        sleep_us(100);
    }
}

NOINLINE void rw_read(void)
{
    for (int i = 0; i < ROUNDS; i++) {
        pthread_rwlock_rdlock(&rwlock);
        spin_us(1000); /* two readers leave the writer few gaps: it waits */
        pthread_rwlock_unlock(&rwlock);
        sleep_us(100);
    }
}

NOINLINE void rw_write(void)
{
    for (int i = 0; i < ROUNDS; i++) {
        pthread_rwlock_wrlock(&rwlock);
        spin_us(1500);
        pthread_rwlock_unlock(&rwlock);
        sleep_us(500);
    }
}

NOINLINE void consume_items(void)
{
    pthread_mutex_lock(&queue_lock);
    for (;;) {
        while (queue_items == 0 && !queue_done)
            pthread_cond_wait(&queue_cond, &queue_lock);
        if (queue_items == 0)
            break;
        queue_items--;
    }
    pthread_mutex_unlock(&queue_lock);
}

NOINLINE void produce_items(void)
{
    for (int i = 0; i < ROUNDS; i++) {
        sleep_us(2000);
        pthread_mutex_lock(&queue_lock);
        queue_items++;
        pthread_cond_signal(&queue_cond);
        pthread_mutex_unlock(&queue_lock);
    }
    pthread_mutex_lock(&queue_lock);
    queue_done = 1;
    pthread_cond_broadcast(&queue_cond);
    pthread_mutex_unlock(&queue_lock);
}

NOINLINE void pipe_receive(void)
{
    char c;
    for (int i = 0; i < ROUNDS; i++)
        if (read(pipe_fds[0], &c, 1) != 1)
            break;
}

NOINLINE void socket_ping(void)
{
    char c = 'p';
    for (int i = 0; i < ROUNDS; i++) {
        sleep_us(500);
        if (send(sock_fds[0], &c, 1, 0) != 1 || recv(sock_fds[0], &c, 1, 0) != 1)
            break;
    }
}

NOINLINE void socket_pong(void)
{
    char c;
    for (int i = 0; i < ROUNDS; i++) {
        if (recv(sock_fds[1], &c, 1, 0) != 1)
            break;
        sleep_us(1500);
        if (send(sock_fds[1], &c, 1, 0) != 1)
            break;
    }
}

NOINLINE void nap(void)
{
    for (int i = 0; i < ROUNDS / 2; i++) {
        sleep_us(3000);
        usleep(2000);
    }
}

NOINLINE void sem_take(void)
{
    for (int i = 0; i < ROUNDS / 2; i++)
        sem_wait(&sem);
}

NOINLINE void barrier_meet(int n)
{
    for (int i = 0; i < ROUNDS / 2; i++) {
        spin_us(200 * n);
        pthread_barrier_wait(&barrier);
    }
}

static void *locker(void *arg)
{
    char name[16];
    snprintf(name, sizeof(name), "lock-%d", (int)(intptr_t)arg);
    name_self(name);
    contend_mutex();
    return NULL;
}

static void *reader(void *arg)
{
    char name[16];
    snprintf(name, sizeof(name), "reader-%d", (int)(intptr_t)arg);
    name_self(name);
    rw_read();
    return NULL;
}

static void *writer(void *arg)
{
    (void)arg;
    name_self("writer");
    rw_write();
    return NULL;
}

static void *consumer(void *arg)
{
    (void)arg;
    name_self("consumer");
    consume_items();
    return NULL;
}

static void *producer(void *arg)
{
    (void)arg;
    name_self("producer");
    produce_items();
    return NULL;
}

static void *piper(void *arg)
{
    (void)arg;
    name_self("piper");
    pipe_receive();
    return NULL;
}

static void *pinger(void *arg)
{
    (void)arg;
    name_self("pinger");
    socket_ping();
    return NULL;
}

static void *ponger(void *arg)
{
    (void)arg;
    name_self("ponger");
    socket_pong();
    return NULL;
}

static void *napper(void *arg)
{
    (void)arg;
    name_self("napper");
    nap();
    return NULL;
}

static void *sem_waiter(void *arg)
{
    (void)arg;
    name_self("sem-waiter");
    sem_take();
    return NULL;
}

static void *late(void *arg)
{
    (void)arg;
    name_self("late");
    sleep_us(120000);
    return NULL;
}

static void *barrier_thread(void *arg)
{
    char name[16];
    int n = (int)(intptr_t)arg;
    snprintf(name, sizeof(name), "barrier-%d", n);
    name_self(name);
    barrier_meet(n);
    return NULL;
}

int main(void)
{
    pthread_t t[20], last;
    int n = 0;
    if (pipe(pipe_fds) != 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sock_fds) != 0 ||
        sem_init(&sem, 0, 0) != 0 || pthread_barrier_init(&barrier, NULL, 3) != 0)
        return 1;
    uint64_t task = ltprof_task_create(0, "mix");
    ltprof_region_begin(task, "start threads");
    for (int i = 1; i <= 3; i++)
        pthread_create(&t[n++], NULL, locker, (void *)(intptr_t)i);
    for (int i = 1; i <= 2; i++)
        pthread_create(&t[n++], NULL, reader, (void *)(intptr_t)i);
    pthread_create(&t[n++], NULL, writer, NULL);
    pthread_create(&t[n++], NULL, consumer, NULL);
    pthread_create(&t[n++], NULL, producer, NULL);
    pthread_create(&t[n++], NULL, piper, NULL);
    pthread_create(&t[n++], NULL, pinger, NULL);
    pthread_create(&t[n++], NULL, ponger, NULL);
    pthread_create(&t[n++], NULL, napper, NULL);
    pthread_create(&t[n++], NULL, sem_waiter, NULL);
    for (int i = 1; i <= 3; i++)
        pthread_create(&t[n++], NULL, barrier_thread, (void *)(intptr_t)i);
    pthread_create(&last, NULL, late, NULL);
    ltprof_region_end(task, "start threads");
    ltprof_region_begin(task, "feed");
    for (int i = 0; i < ROUNDS; i++) {
        sleep_us(4000);
        if (write(pipe_fds[1], "x", 1) != 1)
            return 1;
        if (i % 2 == 0)
            sem_post(&sem);
    }
    ltprof_region_end(task, "feed");
    ltprof_log(task, "status", "fed all threads");
    /* Messages are any bytes: trace.json must stay valid UTF-8 (0xff becomes U+FFFD). */
    ltprof_log(task, "bytes", "caf\xc3\xa9 \xff!");
    ltprof_region_begin(task, "join");
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    pthread_join(last, NULL);
    ltprof_region_end(task, "join");
    ltprof_task_end(task);
    printf("trace_mix: %d threads done\n", n + 1);
    return 0;
}
