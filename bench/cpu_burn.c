/* SPDX-License-Identifier: MIT */
/*
 * ltprof-bench-cpu-burn: a CPU-bound benchmark with a FIXED amount of work (not a fixed time),
 * so a profiler's overhead shows up as longer wall and CPU time. T threads (default 2) each run
 * N iterations down a call chain about 10 frames deep (integer, floating-point and memory work
 * at the leaf). Prints one line: pid, wall time and the process's user+sys CPU (getrusage).
 * Usage: ltprof-bench-cpu-burn [-t THREADS] [-n ITERATIONS]. Read by bench/cpu_overhead.sh.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64
#define TABLE_WORDS 4096  /* 32 KiB per thread: stays in L1/L2, so the work is CPU-bound */

/* Every level is a real frame: no inlining, no cloning, and the caller uses the result. */
#define FRAME __attribute__((noinline, noclone))

struct worker {
    pthread_t thread;
    uint64_t iterations;
    uint64_t table[TABLE_WORDS];
    uint64_t result;
};

FRAME static uint64_t kernel_int(uint64_t x)
{
    for (int i = 0; i < 400; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    return x;
}

FRAME static uint64_t kernel_float(uint64_t x)
{
    double a = (double)(x & 0xffff) + 1.0, b = 0.5;
    for (int i = 0; i < 200; i++) {
        b = b * 0.999 + a / (b + 1.0);
        a = a * 1.0001 - b * 0.0001;
    }
    return x + (uint64_t)b;
}

FRAME static uint64_t kernel_memory(uint64_t *table, uint64_t x)
{
    for (int i = 0; i < 400; i++) {
        size_t slot = (size_t)(x % TABLE_WORDS);
        table[slot] += x;
        x = table[(slot * 7 + 1) % TABLE_WORDS] * 0x9e3779b97f4a7c15ULL + (uint64_t)i;
    }
    return x;
}

FRAME static uint64_t stage_kernel(uint64_t *table, uint64_t x)
{
    switch (x % 3) {
    case 0: return kernel_int(x) + 1;
    case 1: return kernel_float(x) + 2;
    default: return kernel_memory(table, x) + 3;
    }
}

FRAME static uint64_t stage_reduce(uint64_t *table, uint64_t x)
{
    return stage_kernel(table, x * 3 + 1) ^ x;
}

FRAME static uint64_t stage_mix(uint64_t *table, uint64_t x)
{
    return stage_reduce(table, x + 0x1234) * 5;
}

FRAME static uint64_t stage_transform(uint64_t *table, uint64_t x)
{
    return stage_mix(table, x ^ 0xabcdef) - 7;
}

FRAME static uint64_t stage_validate(uint64_t *table, uint64_t x)
{
    return stage_transform(table, x | 1) + (x >> 3);
}

FRAME static uint64_t stage_parse(uint64_t *table, uint64_t x)
{
    return stage_validate(table, x * 11) ^ (x << 1);
}

FRAME static uint64_t run_iterations(struct worker *w)
{
    uint64_t acc = (uint64_t)(uintptr_t)w | 1;
    for (uint64_t i = 0; i < w->iterations; i++)
        acc += stage_parse(w->table, acc + i);
    return acc;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    w->result = run_iterations(w);
    return NULL;
}

static double timespec_s(const struct timespec *ts)
{
    return (double)ts->tv_sec + (double)ts->tv_nsec / 1e9;
}

static double timeval_s(const struct timeval *tv)
{
    return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static int parse_args(int argc, char **argv, int *threads, uint64_t *iterations)
{
    int opt;
    while ((opt = getopt(argc, argv, "t:n:")) != -1) {
        if (opt == 't')
            *threads = atoi(optarg);
        else if (opt == 'n')
            *iterations = strtoull(optarg, NULL, 10);
        else
            return -1;
    }
    if (optind != argc || *threads < 1 || *threads > MAX_THREADS || *iterations == 0)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    static struct worker workers[MAX_THREADS];
    int threads = 2;
    uint64_t iterations = 2500000, checksum = 0;  /* about 3.5 s per thread here */
    struct timespec t0, t1;
    struct rusage ru;

    if (parse_args(argc, argv, &threads, &iterations) != 0) {
        fprintf(stderr, "usage: %s [-t THREADS (1-%d, default 2)] [-n ITERATIONS]\n", argv[0],
                MAX_THREADS);
        return 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < threads; i++) {
        char name[16];
        workers[i].iterations = iterations;
        int rc = pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]);
        if (rc != 0) {
            fprintf(stderr, "cpu_burn: pthread_create: %s\n", strerror(rc));
            return 1;
        }
        snprintf(name, sizeof(name), "burn-%d", i);
        pthread_setname_np(workers[i].thread, name);
    }
    for (int i = 0; i < threads; i++) {
        pthread_join(workers[i].thread, NULL);
        checksum ^= workers[i].result;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    getrusage(RUSAGE_SELF, &ru);

    double user_s = timeval_s(&ru.ru_utime), sys_s = timeval_s(&ru.ru_stime);
    printf("cpu_burn: pid=%d threads=%d iterations=%llu wall_s=%.4f cpu_s=%.4f user_s=%.4f "
           "sys_s=%.4f checksum=%016llx\n",
           (int)getpid(), threads, (unsigned long long)iterations,
           timespec_s(&t1) - timespec_s(&t0), user_s + sys_s, user_s, sys_s,
           (unsigned long long)checksum);
    return 0;
}
