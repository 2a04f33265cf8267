/* SPDX-License-Identifier: MIT */
/*
 * ltprof-bench-tp-signal HZ [alu|memory] [SECONDS]: how much one ltprof:cpu_sample tracepoint
 * (11 PCs) costs when it is emitted from a SIGPROF handler at HZ per CPU-second, as the CPU
 * sampler does, compared with the same tracepoint in a tight loop. Uses its own copy of the
 * provider (no libltprof.so, no unwinding), so it isolates LTTng-UST's part of the sampler's
 * cost. Run it while a session records 'ltprof:*'; docs/performance.md has the figures.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <x86intrin.h>

#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#define LTTNG_UST_TRACEPOINT_DEFINE
#include "ltprof_tp.h"

#define N_PCS 11
#define BUF_BYTES (64u << 20)

static uint64_t pcs[N_PCS];
static volatile uint64_t handler_cycles, handler_calls;

static void on_sigprof(int sig)
{
    (void)sig;
    uint64_t t0 = __rdtsc(); // NOLINT(bugprone-signal-handler): an instruction, not a call
    /* NOLINTNEXTLINE(bugprone-signal-handler): lttng-ust tracepoints are signal-safe */
    lttng_ust_tracepoint(ltprof, cpu_sample, 1, 10000000, 0, pcs, N_PCS, 0);
    handler_cycles += __rdtsc() - t0; // NOLINT(bugprone-signal-handler): as above
    handler_calls++;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Work between samples: integer arithmetic only, or a walk over 64 MiB that evicts caches. */
static uint64_t work(int memory, double seconds)
{
    static unsigned char buf[BUF_BYTES];
    uint64_t x = 1;
    double end = now_s() + seconds;
    while (now_s() < end) {
        if (!memory) {
            for (int i = 0; i < 1000000; i++)
                x = x * 6364136223846793005ull + 1;
        } else {
            for (unsigned i = 0; i < BUF_BYTES; i += 64) {
                buf[i] += (unsigned char)i;
                x += buf[(i * 7919u) & (BUF_BYTES - 1)];
            }
        }
    }
    return x;
}

int main(int argc, char **argv)
{
    int hz = argc > 1 ? atoi(argv[1]) : 100;
    int memory = argc > 2 && strcmp(argv[2], "memory") == 0;
    double seconds = argc > 3 ? atof(argv[3]) : 2.0;
    if (hz < 1 || hz > 10000 || seconds <= 0) {
        fprintf(stderr, "usage: ltprof-bench-tp-signal HZ [alu|memory] [SECONDS]\n");
        return 2;
    }
    for (int i = 0; i < N_PCS; i++)
        pcs[i] = 0x400000 + 16 * (uint64_t)i;

    uint64_t t0 = __rdtsc();
    for (int i = 0; i < 100000; i++)
        /* NOLINTNEXTLINE(bugprone-signal-handler): lttng-ust tracepoints are signal-safe */
    lttng_ust_tracepoint(ltprof, cpu_sample, 1, 10000000, 0, pcs, N_PCS, 0);
    uint64_t loop_cycles = (__rdtsc() - t0) / 100000;

    signal(SIGPROF, on_sigprof);
    struct itimerval it = {{0, 1000000 / hz}, {0, 1000000 / hz}};
    setitimer(ITIMER_PROF, &it, NULL);
    uint64_t x = work(memory, seconds);
    setitimer(ITIMER_PROF, &(struct itimerval){{0, 0}, {0, 0}}, NULL);

    printf("tracepoint cycles: tight loop %llu, in a SIGPROF handler at %d Hz with %s work %llu "
           "(%llu calls) [%llu]\n",
           (unsigned long long)loop_cycles, hz, memory ? "memory" : "alu",
           (unsigned long long)(handler_calls ? handler_cycles / handler_calls : 0),
           (unsigned long long)handler_calls, (unsigned long long)(x & 1));
    return 0;
}
