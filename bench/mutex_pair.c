/* SPDX-License-Identifier: MIT */
/*
 * Uncontended mutex cost: one thread, pinned to one CPU when it can be, times N pairs of
 * pthread_mutex_lock + pthread_mutex_unlock on a PTHREAD_MUTEX_INITIALIZER mutex, R times, and
 * prints ns per pair (best and median of the R repetitions). The calls go through the PLT as in
 * any program, so under LD_PRELOAD=libltprof.so they reach ltprof's interposers (bench/
 * mutex_overhead.sh compares the configurations; docs/performance.md has the figures).
 * By default one idle thread exists while the loop runs: glibc (2.34+) locks and unlocks with
 * plain stores, no atomics, while a process has never created a thread, and LTTng-UST starts
 * threads in every process it loads into. `-i 0` measures that single-threaded case.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static volatile uint64_t counter; /* the "critical section": keeps the loop honest */

static const char usage[] =
    "usage: ltprof-bench-mutex-pair [-n PAIRS] [-r REPS] [-c CPU] [-i THREADS]\n"
    "  -n PAIRS    lock/unlock pairs per repetition (default 50000000)\n"
    "  -r REPS     repetitions; the best and the median are printed (default 5)\n"
    "  -c CPU      CPU to pin to (default: the CPU the program starts on; -1: no pinning)\n"
    "  -i THREADS  idle threads started first (default 1; 0 keeps the process single-threaded\n"
    "              unless a preloaded library starts threads)\n";

/* An idle thread: blocks until the process exits. */
static void *idle_thread(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* Pins the calling thread to `cpu`; returns the CPU used, or -1 when not pinned. */
static int pin(long cpu)
{
    if (cpu == -2)
        cpu = sched_getcpu();
    if (cpu < 0)
        return -1;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET((int)cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0) {
        fprintf(stderr, "mutex_pair: warning: cannot pin to CPU %ld: %s\n", cpu, strerror(errno));
        return -1;
    }
    return (int)cpu;
}

/* One repetition: ns per pair. */
static double run_pairs(long pairs)
{
    uint64_t t0 = now_ns();
    for (long i = 0; i < pairs; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
    }
    return (double)(now_ns() - t0) / (double)pairs;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    long pairs = 50000000, reps = 5, cpu = -2, idle = 1;
    int opt;
    while ((opt = getopt(argc, argv, "n:r:c:i:h")) != -1) {
        long *dst = opt == 'n'   ? &pairs
                    : opt == 'r' ? &reps
                    : opt == 'c' ? &cpu
                    : opt == 'i' ? &idle
                                 : NULL;
        long lo = opt == 'c' ? -1 : opt == 'i' ? 0 : 1;
        long hi = opt == 'r'   ? 1000
                  : opt == 'c' ? CPU_SETSIZE - 1
                  : opt == 'i' ? 64
                               : 1000000000000L;
        if (!dst || parse_long(optarg, lo, hi, dst) != 0) {
            fputs(usage, opt == 'h' ? stdout : stderr);
            return opt == 'h' ? 0 : 2;
        }
    }
    if (optind != argc) {
        fputs(usage, stderr);
        return 2;
    }
    for (long i = 0; i < idle; i++) {
        pthread_t t;
        int rc = pthread_create(&t, NULL, idle_thread, NULL);
        if (rc != 0) {
            fprintf(stderr, "mutex_pair: pthread_create: %s\n", strerror(rc));
            return 1;
        }
    }
    int pinned = pin(cpu);

    double ns[1000] = {0};
    run_pairs(pairs / 10 + 1); /* warm up: page faults, lazy binding, CPU frequency */
    for (long r = 0; r < reps; r++)
        ns[r] = run_pairs(pairs);
    qsort(ns, (size_t)reps, sizeof(ns[0]), cmp_double);
    double median = reps % 2 ? ns[reps / 2] : (ns[reps / 2 - 1] + ns[reps / 2]) / 2;
    printf("mutex_pair: pid=%d cpu=%d idle_threads=%ld pairs=%ld reps=%ld best_ns=%.3f "
           "median_ns=%.3f worst_ns=%.3f counter=%llu\n",
           (int)getpid(), pinned, idle, pairs, reps, ns[0], median, ns[reps - 1],
           (unsigned long long)counter);
    fflush(stdout);
    return 0;
}
