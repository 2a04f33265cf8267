/* SPDX-License-Identifier: MIT */
/*
 * Writes a synthetic Go execution trace of about EVENTS events over THREADS threads (default
 * 64), for the viewer's benchmark (viewer_open.sh): each thread runs, blocks on a mutex, waits
 * on a condition variable, sleeps or is preempted in turn, with CPU samples, regions and the
 * heap counter, the way ltprof's converter writes them (one P per thread, every wait ended by
 * an unblock). Usage: ltprof-bench-synth-trace OUT EVENTS [THREADS]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "gotrace_writer.h"

static int file_write(void *ctx, const void *data, size_t size)
{
    return fwrite(data, 1, size, ctx) == size ? 0 : -1;
}

#define TRY(x)                                                                                 \
    do {                                                                                       \
        if ((x) != 0) {                                                                        \
            fprintf(stderr, "ltprof-bench-synth-trace: %s failed\n", #x);                      \
            free(mem);                                                                         \
            return 1;                                                                          \
        }                                                                                      \
    } while (0)

int main(int argc, char **argv)
{
    if (argc < 3 || atol(argv[2]) < 1000 || (argc > 3 && (atoi(argv[3]) < 1 || atoi(argv[3]) > 4096))) {
        fprintf(stderr, "usage: %s OUT EVENTS(>=1000) [THREADS(1-4096, default 64)]\n", argv[0]);
        return 2;
    }
    long target = atol(argv[2]);
    int nt = argc > 3 ? atoi(argv[3]) : 64;
    FILE *f = fopen(argv[1], "wb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    struct gotrace_writer *w = gotrace_writer_create(file_write, f);
    if (!w)
        return 1;
    uint64_t *mem = calloc(3 * (size_t)nt, sizeof(*mem)); /* per thread: seq, time, entry */
    if (!mem)
        return 1;
    uint64_t *seq = mem, *t = mem + nt, *entry = mem + 2 * nt;
    static const char *const names[] = {"worker", "handler", "poller", "flusher"};
    struct gotrace_frame lock[] = {{0, "pthread_mutex_lock", "", 0}, {0, "take_lock", "/src/app.c", 40}, {0, "worker", "/src/app.c", 90}};
    struct gotrace_frame cond[] = {{0, "pthread_cond_wait", "", 0}, {0, "next_job", "/src/app.c", 60}, {0, "worker", "/src/app.c", 92}};
    struct gotrace_frame nap[] = {{0, "nanosleep", "", 0}, {0, "backoff", "/src/app.c", 70}, {0, "worker", "/src/app.c", 95}};
    struct gotrace_frame hot[] = {{0, "hash_block", "/src/hash.c", 12}, {0, "worker", "/src/app.c", 88}};
    uint64_t s_lock = gotrace_stack(w, lock, 3), s_cond = gotrace_stack(w, cond, 3);
    uint64_t s_nap = gotrace_stack(w, nap, 3), s_hot = gotrace_stack(w, hot, 2);
    uint64_t region = gotrace_string(w, "batch");
    TRY(gotrace_gomaxprocs(w, 0, 1000, (uint64_t)nt, 0));
    for (int p = 0; p < nt; p++) {
        struct gotrace_frame e = {0x500000 + 0x40 * (uint64_t)p, names[p % 4], "/src/app.c", 80};
        entry[p] = gotrace_stack(w, &e, 1);
        t[p] = 1000 + (uint64_t)p * 37;
        TRY(gotrace_proc_start(w, (uint64_t)p, t[p], 10000 + (uint64_t)p));
        TRY(gotrace_go_create(w, (uint64_t)p, t[p], (uint64_t)p + 1, entry[p], 0));
    }
    long events = 2L * nt;
    for (long k = 0; events < target; k++) {
        for (int p = 0; p < nt && events < target; p++) {
            uint64_t g = (uint64_t)p + 1, P = (uint64_t)p;
            uint64_t run = 2000 + (uint64_t)((k * 7919 + p * 104729) % 20000);
            TRY(gotrace_go_start(w, P, t[p], g, ++seq[p]));
            events++;
            if (k % 50 == 0) {
                TRY(gotrace_user_region(w, P, t[p] + 10, 0, 0, region, 0));
                TRY(gotrace_user_region(w, P, t[p] + run - 10, 0, 1, region, 0));
                events += 2;
            }
            if (k % 5 == 0) {
                TRY(gotrace_cpu_sample(w, t[p] + run / 2, P, g, s_hot));
                events++;
            }
            if (p == 0 && k % 20 == 0) {
                TRY(gotrace_heap_alloc(w, P, t[p] + 5, (uint64_t)(1 << 20) + (uint64_t)(k % 1000) * 4096));
                events++;
            }
            t[p] += run;
            switch ((k + p) % 4) {
            case 0: TRY(gotrace_go_block_sync(w, P, t[p], s_lock)); break;
            case 1: TRY(gotrace_go_block_cond(w, P, t[p], s_cond)); break;
            case 2: TRY(gotrace_go_sleep(w, P, t[p], s_nap)); break;
            default: TRY(gotrace_go_preempt(w, P, t[p], 0)); break;
            }
            events++;
            t[p] += 1000 + (uint64_t)((k * 31 + p * 17) % 9000);
            if ((k + p) % 4 != 3) { /* woken by goroutine 0 on the thread's own idle P */
                TRY(gotrace_go_unblock(w, P, t[p], g, ++seq[p], 0));
                events++;
                t[p] += 300;
            }
        }
    }
    for (int p = 0; p < nt; p++) {
        TRY(gotrace_go_start(w, (uint64_t)p, t[p], (uint64_t)p + 1, ++seq[p]));
        TRY(gotrace_go_end(w, (uint64_t)p, t[p] + 10));
        TRY(gotrace_proc_stop(w, (uint64_t)p, t[p] + 20));
    }
    TRY(gotrace_writer_finish(w));
    struct gotrace_stats st;
    gotrace_writer_stats(w, &st);
    gotrace_writer_destroy(w);
    free(mem);
    if (fclose(f) != 0) {
        perror(argv[1]);
        return 1;
    }
    printf("%s: %llu events, %d threads, %llu bytes\n", argv[1], (unsigned long long)st.events,
           nt, (unsigned long long)st.bytes);
    return 0;
}
