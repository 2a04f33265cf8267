/* SPDX-License-Identifier: MIT */
/*
 * Integration-test program: threads "worker-1".."worker-3" and the main thread each run a chain
 * of noinline functions (burn_loop → stage_1 … stage_6) that ends in CPU-burning leaves:
 * leaf_spin (with an always_inline helper, for inline frames) and cmp_burn, a qsort comparator,
 * so stacks must be unwound through libc. About 1.8 s of CPU in total (times LTPROF_TEST_SCALE).
 * Built twice by tests/programs/CMakeLists.txt: stacks_fp and stacks_nofp.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* A real frame with its plain name: no inlining, no clone, no sibling-call tricks. */
#define NOINLINE __attribute__((noipa))
#define N_WORKERS 3
#define SORT_ELEMS 256
#define THREAD_BUDGET_S 0.45

static volatile uint64_t sink;
static double budget_s = THREAD_BUDGET_S;

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline __attribute__((always_inline)) uint64_t mix_step(uint64_t x)
{
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
}

NOINLINE uint64_t leaf_spin(uint64_t seed)
{
    uint64_t x = seed | 1;
    for (uint64_t i = 0; i < 150000; i++)
        x = mix_step(x) + i;
    return x;
}

NOINLINE int cmp_burn(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    uint64_t h = x | 1;
    for (int i = 0; i < 96; i++)
        h = mix_step(h) + (uint64_t)i;
    sink += h;
    return (x > y) - (x < y);
}

NOINLINE uint64_t leaf_sort(uint64_t seed)
{
    uint64_t v[SORT_ELEMS];
    uint64_t x = seed | 1;
    for (int i = 0; i < SORT_ELEMS; i++)
        v[i] = x = mix_step(x);
    qsort(v, SORT_ELEMS, sizeof v[0], cmp_burn);
    return v[0] ^ v[SORT_ELEMS - 1];
}

/* Each stage does work after its call, so none of the calls is a tail call. */
NOINLINE uint64_t stage_6(uint64_t s, unsigned n)
{
    uint64_t r = (n & 1) ? leaf_sort(s) : leaf_spin(s);
    sink += r;
    return r + s;
}

NOINLINE uint64_t stage_5(uint64_t s, unsigned n)
{
    uint64_t r = stage_6(s * 5 + 1, n);
    sink += r;
    return r ^ s;
}

NOINLINE uint64_t stage_4(uint64_t s, unsigned n)
{
    uint64_t r = stage_5(s * 7 + 3, n);
    sink += r;
    return r + 4;
}

NOINLINE uint64_t stage_3(uint64_t s, unsigned n)
{
    uint64_t r = stage_4(s ^ 0x9e3779b97f4a7c15ull, n);
    sink += r;
    return r - s;
}

NOINLINE uint64_t stage_2(uint64_t s, unsigned n)
{
    uint64_t r = stage_3(s + 2, n);
    sink += r;
    return r * 3;
}

NOINLINE uint64_t stage_1(uint64_t s, unsigned n)
{
    uint64_t r = stage_2(s + 1, n);
    sink += r;
    return r + 1;
}

/* Runs the chain until this thread has used `budget` seconds of its own CPU time. */
NOINLINE uint64_t burn_loop(double budget)
{
    double start = thread_cpu_s();
    uint64_t acc = 0;
    unsigned n = 0;
    while (thread_cpu_s() - start < budget)
        acc += stage_1(acc + n, n), n++;
    return acc;
}

NOINLINE void *worker_main(void *arg)
{
    char name[16];
    snprintf(name, sizeof name, "worker-%u", (unsigned)(uintptr_t)arg);
    pthread_setname_np(pthread_self(), name);
    sink += burn_loop(budget_s);
    return NULL;
}

int main(void)
{
    const char *scale = getenv("LTPROF_TEST_SCALE");
    pthread_t threads[N_WORKERS];

    if (scale && atof(scale) > 0)
        budget_s = THREAD_BUDGET_S * atof(scale);
    for (unsigned i = 0; i < N_WORKERS; i++) {
        if (pthread_create(&threads[i], NULL, worker_main, (void *)(uintptr_t)(i + 1)) != 0) {
            fprintf(stderr, "stacks: pthread_create failed\n");
            return 1;
        }
    }
    sink += burn_loop(budget_s);
    for (unsigned i = 0; i < N_WORKERS; i++)
        pthread_join(threads[i], NULL);
    printf("stacks: %d threads x %.2f s CPU done\n", N_WORKERS + 1, budget_s);
    return 0;
}
