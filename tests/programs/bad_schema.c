/* SPDX-License-Identifier: MIT */
/*
 * Integration-test program that writes a trace of an UNKNOWN ltprof schema: it creates its own
 * probes from tracer/ltprof_tp.h (not libltprof.so; never preload both) and emits
 * ltprof:process_info with schema_version 999, a thread_info and a few cpu_sample events with
 * real PCs. `ltprof convert` must refuse the trace with a clear one-line error.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#define LTTNG_UST_TRACEPOINT_DEFINE
#include "ltprof_tp.h"

#define BAD_SCHEMA_VERSION 999
#define N_SAMPLES 20

int main(void);

__attribute__((noipa)) static void emit_samples(void)
{
    uint64_t pcs[3] = {(uint64_t)(uintptr_t)&emit_samples, (uint64_t)(uintptr_t)&main,
                       (uint64_t)(uintptr_t)&main + 1};
    uint32_t tid = (uint32_t)gettid();

    lttng_ust_tracepoint(ltprof, process_info, BAD_SCHEMA_VERSION, (uint32_t)getpid(),
                         "timer_create", 10000000, 128);
    lttng_ust_tracepoint(ltprof, thread_info, tid, "bad-schema");
    for (int i = 0; i < N_SAMPLES; i++)
        lttng_ust_tracepoint(ltprof, cpu_sample, tid, 10000000, 0, pcs, 3);
}

int main(void)
{
    emit_samples();
    printf("bad_schema: %d samples with schema_version %d emitted\n", N_SAMPLES,
           BAD_SCHEMA_VERSION);
    return 0;
}
