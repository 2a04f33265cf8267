/* SPDX-License-Identifier: MIT */
/*
 * synth_trace [SCHEMA_VERSION [SAMPLES [DEPTH]]]: writes ltprof events without libltprof.so.
 * It creates its own probes from tracer/ltprof_tp.h (never preload both) and emits
 * ltprof:process_info with the given schema version (default 999: one the converter must
 * refuse), a thread_info and SAMPLES cpu_sample events (default 20) whose stacks hold DEPTH
 * real PCs (default 3). With version 1 and many samples it makes large traces for conversion
 * tests and measurements.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#define LTTNG_UST_TRACEPOINT_DEFINE
#include "ltprof_tp.h"

#define MAX_DEPTH 128

int main(int argc, char **argv);

__attribute__((noipa)) static void emit_samples(unsigned version, long n, unsigned depth)
{
    uint64_t pcs[MAX_DEPTH];
    uint32_t tid = (uint32_t)gettid();
    for (unsigned i = 0; i < depth; i++) /* distinct, symbolizable addresses in this program */
        pcs[i] = (uint64_t)(uintptr_t)&main + 1 + (i % 16);
    pcs[0] = (uint64_t)(uintptr_t)&emit_samples;

    lttng_ust_tracepoint(ltprof, process_info, version, (uint32_t)getpid(), "timer_create",
                         10000000, MAX_DEPTH);
    lttng_ust_tracepoint(ltprof, thread_info, tid, "synth");
    for (long i = 0; i < n; i++) {
        pcs[depth - 1] = (uint64_t)(uintptr_t)&main + 1 + (uint64_t)(i % 64); /* 64 stacks */
        lttng_ust_tracepoint(ltprof, cpu_sample, tid, 10000000, 0, pcs, (uint16_t)depth, 0);
    }
}

int main(int argc, char **argv)
{
    unsigned version = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 999;
    long n = argc > 2 ? strtol(argv[2], NULL, 10) : 20;
    unsigned depth = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 3;
    if (n < 0 || depth < 2 || depth > MAX_DEPTH) {
        fprintf(stderr, "usage: synth_trace [SCHEMA_VERSION [SAMPLES [DEPTH 2..128]]]\n");
        return 2;
    }
    emit_samples(version, n, depth);
    printf("synth_trace: %ld samples of depth %u with schema_version %u emitted\n", n, depth,
           version);
    return 0;
}
