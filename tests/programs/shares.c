/* SPDX-License-Identifier: MIT */
/*
 * Integration-test program with known CPU shares: thread "alpha" burns 0.9 s of its own CPU time
 * in func_a1 then 0.3 s in func_a2, thread "beta" 0.6 s in func_b1, the main thread
 * ("shares-main") 0.2 s in func_main_burn (all times LTPROF_TEST_SCALE). Each burner measures
 * what it really used (CLOCK_THREAD_CPUTIME_ID) and the truth is written to argv[1] or
 * $SHARES_TRUTH: lines "func NAME SECONDS", "thread NAME SECONDS", "process SECONDS".
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#define NOINLINE __attribute__((noipa))

/* One burner's measured CPU time; each is written by one thread, read after the joins. */
struct truth {
    const char *func;
    const char *thread;
    double target_s;
    double used_s;
};

static struct truth truths[] = {
    {"func_a1", "alpha", 0.9, 0},
    {"func_a2", "alpha", 0.3, 0},
    {"func_b1", "beta", 0.6, 0},
    {"func_main_burn", "shares-main", 0.2, 0},
};

static volatile uint64_t sink;

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
 * The loop body is spelled out in every burner (no helper call) so the flat time lands in the
 * burner itself; a clock read every 200k steps (~0.3 ms) keeps the syscall share negligible.
 */
#define BURN_BODY(t)                                                                             \
    do {                                                                                         \
        double start = thread_cpu_s(), now;                                                      \
        uint64_t x = (uint64_t)(uintptr_t)&start | 1;                                            \
        do {                                                                                     \
            for (int i = 0; i < 200000; i++) {                                                   \
                x ^= x << 13;                                                                    \
                x ^= x >> 7;                                                                     \
                x ^= x << 17;                                                                    \
            }                                                                                    \
            sink += x;                                                                           \
            now = thread_cpu_s();                                                                \
        } while (now - start < (t)->target_s);                                                   \
        (t)->used_s = now - start;                                                               \
    } while (0)

NOINLINE void func_a1(struct truth *t) { BURN_BODY(t); }
NOINLINE void func_a2(struct truth *t) { BURN_BODY(t); }
NOINLINE void func_b1(struct truth *t) { BURN_BODY(t); }
NOINLINE void func_main_burn(struct truth *t) { BURN_BODY(t); }

static void *alpha_main(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "alpha");
    func_a1(&truths[0]);
    func_a2(&truths[1]);
    return NULL;
}

static void *beta_main(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "beta");
    func_b1(&truths[2]);
    return NULL;
}

static int write_truth(const char *path)
{
    struct rusage ru;
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    getrusage(RUSAGE_SELF, &ru);
    for (size_t i = 0; i < sizeof truths / sizeof truths[0]; i++)
        fprintf(f, "func %s %.6f\n", truths[i].func, truths[i].used_s);
    fprintf(f, "thread alpha %.6f\n", truths[0].used_s + truths[1].used_s);
    fprintf(f, "thread beta %.6f\n", truths[2].used_s);
    fprintf(f, "thread shares-main %.6f\n", truths[3].used_s);
    fprintf(f, "process %.6f\n", (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 +
                                     (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6);
    return fclose(f);
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : getenv("SHARES_TRUTH");
    const char *scale = getenv("LTPROF_TEST_SCALE");
    pthread_t alpha, beta;

    if (scale && atof(scale) > 0)
        for (size_t i = 0; i < sizeof truths / sizeof truths[0]; i++)
            truths[i].target_s *= atof(scale);
    pthread_setname_np(pthread_self(), "shares-main");
    if (pthread_create(&alpha, NULL, alpha_main, NULL) ||
        pthread_create(&beta, NULL, beta_main, NULL)) {
        fprintf(stderr, "shares: pthread_create failed\n");
        return 1;
    }
    func_main_burn(&truths[3]);
    pthread_join(alpha, NULL);
    pthread_join(beta, NULL);
    for (size_t i = 0; i < sizeof truths / sizeof truths[0]; i++)
        printf("shares: %-15s %-12s %.3f s\n", truths[i].func, truths[i].thread, truths[i].used_s);
    if (path && write_truth(path) != 0) {
        fprintf(stderr, "shares: cannot write %s\n", path);
        return 1;
    }
    return 0;
}
