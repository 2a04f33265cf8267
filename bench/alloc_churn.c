/* SPDX-License-Identifier: MIT */
/*
 * Allocation-heavy workload for bench/alloc_overhead.sh: T threads each free and allocate N
 * small blocks (16 to 512 bytes, from a per-thread xorshift) in a ring of 1024 live slots, so
 * every operation is one free plus one malloc, with glibc's per-thread caches in play. With
 * -w (use the memory) each new block is filled and each block is read before it is freed, as
 * a program that allocates objects uses them; without it the loop only allocates and frees.
 * Repeats R times and prints the best and the median wall time per operation:
 * "best_ns=<x> median_ns=<y> ops=<n> threads=<t> bytes=<total allocated>".
 * Usage: ltprof-bench-alloc-churn [-n OPS_PER_THREAD] [-t THREADS] [-r REPS] [-w]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RING 1024

static long ops = 5000000;
static int threads = 2;
static int use_memory;
static volatile uint64_t checksum;
static uint64_t allocated[64];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *churn(void *arg)
{
    int id = (int)(intptr_t)arg;
    uint64_t x = 0x9e3779b97f4a7c15ULL * (uint64_t)(id + 1), bytes = 0, sum = 0;
    size_t *sizes = calloc(RING, sizeof(*sizes));
    void **ring = calloc(RING, sizeof(*ring));
    if (!ring || !sizes)
        abort();
    for (long i = 0; i < ops; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t n = 16 + (size_t)(x % 497);
        size_t slot = (size_t)i % RING;
        if (use_memory && ring[slot])
            for (size_t k = 0; k < sizes[slot]; k += 8)
                sum += *(const uint64_t *)((const char *)ring[slot] + k);
        free(ring[slot]);
        ring[slot] = malloc(n);
        if (!ring[slot])
            abort();
        if (use_memory)
            memset(ring[slot], (int)(i & 0xff), n);
        else
            *(volatile char *)ring[slot] = 1;
        sizes[slot] = n & ~(size_t)7;
        bytes += n;
    }
    checksum += sum;
    for (size_t i = 0; i < RING; i++)
        free(ring[i]);
    free(ring);
    free(sizes);
    allocated[id] += bytes;
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int reps = 5, opt;
    while ((opt = getopt(argc, argv, "n:t:r:w")) != -1) {
        switch (opt) {
        case 'n': ops = atol(optarg); break;
        case 't': threads = atoi(optarg); break;
        case 'r': reps = atoi(optarg); break;
        case 'w': use_memory = 1; break;
        default:
            fprintf(stderr, "usage: %s [-n OPS_PER_THREAD] [-t THREADS] [-r REPS] [-w]\n", argv[0]);
            return 2;
        }
    }
    if (ops < 1 || threads < 1 || threads > 64 || reps < 1 || reps > 100) {
        fprintf(stderr, "%s: -n >= 1, 1 <= -t <= 64, 1 <= -r <= 100\n", argv[0]);
        return 2;
    }
    double per_op[100];
    pthread_t th[64];
    for (int r = 0; r < reps; r++) {
        double t0 = now_s();
        for (int i = 0; i < threads; i++)
            if (pthread_create(&th[i], NULL, churn, (void *)(intptr_t)i) != 0) {
                fprintf(stderr, "%s: pthread_create failed\n", argv[0]);
                return 1;
            }
        for (int i = 0; i < threads; i++)
            pthread_join(th[i], NULL);
        per_op[r] = (now_s() - t0) * 1e9 / (double)ops; /* threads run in parallel */
    }
    uint64_t bytes = 0;
    for (int i = 0; i < threads; i++)
        bytes += allocated[i];
    qsort(per_op, (size_t)reps, sizeof(per_op[0]), cmp_double);
    printf("best_ns=%.2f median_ns=%.2f ops=%ld threads=%d bytes=%llu\n", per_op[0],
           per_op[reps / 2], ops * threads * reps, threads, (unsigned long long)bytes);
    return 0;
}
