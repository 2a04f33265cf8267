/* SPDX-License-Identifier: MIT */
/*
 * Integration-test program LINKED with -lltprof (no LD_PRELOAD needed): prints the library
 * version and CPU engine from the public API (runtime/include/ltprof/ltprof.h), then burns
 * about 1 s of CPU (times LTPROF_TEST_SCALE) in linked_outer → linked_middle → linked_burn.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <ltprof/ltprof.h>

#define NOINLINE __attribute__((noipa))

static volatile uint64_t sink;

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

NOINLINE uint64_t linked_burn(uint64_t s)
{
    uint64_t x = s | 1;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    return x;
}

NOINLINE uint64_t linked_middle(uint64_t s)
{
    uint64_t r = linked_burn(s + 1);
    sink += r;
    return r ^ s;
}

NOINLINE uint64_t linked_outer(double budget_s)
{
    double start = thread_cpu_s();
    uint64_t acc = 0;
    while (thread_cpu_s() - start < budget_s)
        acc += linked_middle(acc);
    return acc;
}

int main(void)
{
    const char *scale = getenv("LTPROF_TEST_SCALE");
    double budget_s = 1.0;
    if (scale && atof(scale) > 0)
        budget_s *= atof(scale);
    printf("linked: ltprof %s, cpu engine %s\n", ltprof_version(), ltprof_cpu_engine());
    fflush(stdout);
    sink += linked_outer(budget_s);
    printf("linked: %.2f s CPU done\n", budget_s);
    return 0;
}
