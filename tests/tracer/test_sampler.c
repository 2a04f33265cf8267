/* SPDX-License-Identifier: MIT */
/*
 * Tests of the CPU sampler (tracer/sampler.c, sampler_signal.c, interpose/pthread.c): every
 * thread gets ~100 samples per CPU-second with both engines, whether created before or after
 * start; foreign SIGPROF handlers keep working; a fork child samples itself. No LTTng session
 * is needed: the handler counts samples while ltprof:cpu_sample is disabled.
 * Usage: test_sampler CASE [perf|timer]; this executable interposes pthread_create itself.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tracer.h"

#include "check.h"

#define RATE_MIN 70.0  /* samples per CPU-second at 100 Hz: 100 +- 30 */
#define RATE_MAX 130.0

static enum tr_cpu_engine engine_arg = TR_ENGINE_AUTO;

static uint32_t gettid_u32(void)
{
    return (uint32_t)syscall(SYS_gettid);
}

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A few real frames, so unwinding has something to walk. */
static __thread volatile uint64_t sink; /* per thread: the burners must not race */
__attribute__((noinline)) static void burn_leaf(void)
{
    for (int i = 0; i < 20000; i++)
        sink = sink * 6364136223846793005u + 1442695040888963407u;
}
__attribute__((noinline)) static void burn_mid(void)
{
    burn_leaf();
    __asm__ volatile("" ::: "memory");
}

/* Burns `seconds` of this thread's CPU time; returns the CPU time actually burnt. */
__attribute__((noinline)) static double burn_cpu(double seconds)
{
    double t0 = thread_cpu_s(), t;
    do {
        burn_mid();
        t = thread_cpu_s();
    } while (t - t0 < seconds);
    return t - t0;
}

static void start_sampler(void)
{
    struct tr_sampler_config cfg = {.period_hz = 100, .engine = engine_arg, .max_frames = 64};
    struct ltprof_error err = {{0}};
    int rc = tr_sampler_start(&cfg, &err);
    if (rc != LTPROF_OK)
        fprintf(stderr, "tr_sampler_start: %d %s\n", rc, err.message);
    CHECK(rc == LTPROF_OK);
    if (engine_arg != TR_ENGINE_AUTO)
        CHECK(tr_sampler_engine() == engine_arg);
    CHECK(tr_sampler_engine() == TR_ENGINE_PERF || tr_sampler_engine() == TR_ENGINE_TIMER);
}

static uint64_t samples_of(uint32_t tid)
{
    uint64_t n = 0;
    CHECK(tr_sampler_thread_samples(tid, &n) == LTPROF_OK);
    return n;
}

static void check_rate(const char *what, uint64_t samples, double cpu_s)
{
    double rate = (double)samples / cpu_s;
    printf("%s: engine=%s samples=%llu cpu_s=%.3f rate=%.1f/s\n", what,
           tr_engine_name(tr_sampler_engine()), (unsigned long long)samples, cpu_s, rate);
    CHECK(rate >= RATE_MIN && rate <= RATE_MAX);
}

/* ---- burner threads: burn, then wait so the sampler can still be asked about them -------- */

struct burner {
    pthread_t thread;
    double seconds;
    _Atomic int go, done, release;
    uint32_t tid;
    double cpu_s;
};

static void *burner_main(void *p)
{
    struct burner *b = p;
    __atomic_store_n(&b->tid, gettid_u32(), __ATOMIC_RELEASE); /* main waits for it */
    while (!atomic_load(&b->go))
        usleep(1000);
    double t0 = thread_cpu_s();
    burn_cpu(b->seconds);
    b->cpu_s = thread_cpu_s() - t0;
    atomic_store(&b->done, 1);
    while (!atomic_load(&b->release))
        usleep(1000);
    return NULL;
}

static void burners_run(struct burner *b, int n, int go_now)
{
    for (int i = 0; i < n; i++) {
        if (go_now)
            atomic_store(&b[i].go, 1);
    }
    for (int i = 0; i < n; i++)
        while (!atomic_load(&b[i].done))
            usleep(1000);
}

static void burners_join(struct burner *b, int n)
{
    for (int i = 0; i < n; i++) {
        atomic_store(&b[i].release, 1);
        CHECK(pthread_join(b[i].thread, NULL) == 0);
    }
}

/* ---- cases ------------------------------------------------------------------------------ */

/* Three threads created after start (through the pthread_create interposer). */
static void case_samples_all_threads(void)
{
    struct burner b[3];
    memset(b, 0, sizeof(b));
    start_sampler();
    for (int i = 0; i < 3; i++) {
        b[i].seconds = 1.0;
        CHECK(pthread_create(&b[i].thread, NULL, burner_main, &b[i]) == 0);
    }
    burners_run(b, 3, 1);
    for (int i = 0; i < 3; i++)
        check_rate("thread", samples_of(b[i].tid), b[i].cpu_s);
    burners_join(b, 3);

    struct tr_sampler_stats st;
    tr_sampler_get_stats(&st);
    CHECK(st.samples >= 3 * 70);
    CHECK(st.handler_ns_total > 0);
}

/* A thread created later is armed by the trampoline and released when it exits. */
static void case_threads_created_later_are_armed(void)
{
    struct burner b;
    memset(&b, 0, sizeof(b));
    start_sampler();
    b.seconds = 0.5;
    CHECK(pthread_create(&b.thread, NULL, burner_main, &b) == 0);
    burners_run(&b, 1, 1);
    check_rate("later thread", samples_of(b.tid), b.cpu_s);
    burners_join(&b, 1);
    uint64_t n;
    CHECK(tr_sampler_thread_samples(b.tid, &n) == LTPROF_ERR_NOT_FOUND); /* slot released */
    check_rate("main thread", samples_of(gettid_u32()), burn_cpu(0.5));
}

static void *blocked_main(void *p)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPROF);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    return burner_main(p);
}

/* Threads that exist before start (created with libc's pthread_create, not ours) are armed,
 * except one that blocks SIGPROF. */
static void case_existing_threads_are_armed(void)
{
    typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
    create_fn libc_create = (create_fn)dlsym(RTLD_NEXT, "pthread_create");
    struct burner b[3];
    memset(b, 0, sizeof(b));
    CHECK(libc_create != NULL && libc_create != pthread_create);
    for (int i = 0; i < 3; i++) {
        b[i].seconds = 0.8;
        CHECK(libc_create(&b[i].thread, NULL, i == 2 ? blocked_main : burner_main, &b[i]) == 0);
    }
    for (int i = 0; i < 3; i++)
        while (__atomic_load_n(&b[i].tid, __ATOMIC_ACQUIRE) == 0)
            usleep(1000);
    start_sampler();
    tr_sampler_set_force_unwind(1); /* also walks their stacks through the maps snapshot */
    burners_run(b, 3, 1);
    for (int i = 0; i < 2; i++)
        check_rate("existing thread", samples_of(b[i].tid), b[i].cpu_s);
    uint64_t n;
    CHECK(tr_sampler_thread_samples(b[2].tid, &n) == LTPROF_ERR_NOT_FOUND);
    burners_join(b, 3);
    struct tr_sampler_stats st;
    tr_sampler_get_stats(&st);
    printf("unwind: complete=%llu truncated=%llu no_info=%llu bad_frame=%llu\n",
           (unsigned long long)st.unwind_complete, (unsigned long long)st.unwind_truncated,
           (unsigned long long)st.unwind_no_info, (unsigned long long)st.unwind_bad_frame);
    CHECK(st.unwind_complete + st.unwind_truncated + st.unwind_no_info + st.unwind_bad_frame ==
          st.samples);
}

static _Atomic int foreign_seen;
static void foreign_handler(int sig, siginfo_t *info, void *uc)
{
    (void)uc;
    if (sig == SIGPROF && info != NULL)
        atomic_fetch_add(&foreign_seen, 1);
}

/* The program's own SIGPROF handler, installed before start, still gets its signals. */
static void case_chains_foreign_sigprof(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = foreign_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    CHECK(sigaction(SIGPROF, &sa, NULL) == 0);
    start_sampler();
    for (int i = 0; i < 10; i++)
        CHECK(raise(SIGPROF) == 0);
    CHECK(atomic_load(&foreign_seen) == 10);

    struct itimerval it = {{0, 20000}, {0, 20000}}; /* ITIMER_PROF, 50 Hz */
    uint64_t before = samples_of(gettid_u32());
    CHECK(setitimer(ITIMER_PROF, &it, NULL) == 0);
    double cpu = burn_cpu(1.0);
    memset(&it, 0, sizeof(it));
    CHECK(setitimer(ITIMER_PROF, &it, NULL) == 0);
    int itimer_signals = atomic_load(&foreign_seen) - 10;
    printf("itimer signals seen by the program: %d\n", itimer_signals);
    CHECK(itimer_signals >= 30);
    check_rate("main thread with a foreign itimer", samples_of(gettid_u32()) - before, cpu);
    struct tr_sampler_stats st;
    tr_sampler_get_stats(&st);
    CHECK(st.signals_foreign >= 10 + (uint64_t)itimer_signals);
}

/* After fork() the child samples its own thread (and the parent keeps sampling). */
static void case_fork_child_rearms(void)
{
    start_sampler();
    burn_cpu(0.2);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        uint32_t tid = gettid_u32();
        uint64_t n = 0;
        double cpu = burn_cpu(0.8);
        if (tr_sampler_thread_samples(tid, &n) != LTPROF_OK)
            _exit(2);
        printf("child: engine=%s samples=%llu cpu_s=%.3f\n", tr_engine_name(tr_sampler_engine()),
               (unsigned long long)n, cpu);
        fflush(stdout);
        _exit(n / cpu >= RATE_MIN && n / cpu <= RATE_MAX ? 0 : 3);
    }
    uint64_t before = samples_of(gettid_u32());
    double cpu = burn_cpu(0.5);
    check_rate("parent after fork", samples_of(gettid_u32()) - before, cpu);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Mean handler time with unwinding forced on (printed, not asserted). */
static void case_handler_cost(void)
{
    struct tr_sampler_stats st0, st1;
    start_sampler();
    tr_sampler_get_stats(&st0);
    burn_cpu(1.0);
    tr_sampler_get_stats(&st1);
    uint64_t plain = st1.samples - st0.samples;
    double plain_ns = plain ? (double)(st1.handler_ns_total - st0.handler_ns_total) / plain : 0;
    tr_sampler_set_force_unwind(1);
    burn_cpu(2.0);
    tr_sampler_get_stats(&st0);
    uint64_t unw = st0.samples - st1.samples;
    double unw_ns = unw ? (double)(st0.handler_ns_total - st1.handler_ns_total) / unw : 0;
    printf("handler cost: engine=%s no-session=%.0f ns (%llu samples), with unwind=%.0f ns "
           "(%llu samples); unwind complete=%llu truncated=%llu no_info=%llu bad_frame=%llu\n",
           tr_engine_name(tr_sampler_engine()), plain_ns, (unsigned long long)plain, unw_ns,
           (unsigned long long)unw, (unsigned long long)st0.unwind_complete,
           (unsigned long long)st0.unwind_truncated, (unsigned long long)st0.unwind_no_info,
           (unsigned long long)st0.unwind_bad_frame);
    CHECK(unw > 0);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*run)(void);
    } cases[] = {
        {"samples_all_threads", case_samples_all_threads},
        {"threads_created_later_are_armed", case_threads_created_later_are_armed},
        {"existing_threads_are_armed", case_existing_threads_are_armed},
        {"chains_foreign_sigprof", case_chains_foreign_sigprof},
        {"fork_child_rearms", case_fork_child_rearms},
        {"handler_cost", case_handler_cost},
    };
    if (argc < 2) {
        fprintf(stderr, "usage: %s CASE [perf|timer]\n", argv[0]);
        return 2;
    }
    if (argc > 2)
        engine_arg = strcmp(argv[2], "timer") == 0 ? TR_ENGINE_TIMER : TR_ENGINE_PERF;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (strcmp(argv[1], cases[i].name) == 0) {
            cases[i].run();
            tr_sampler_stop();
            printf("ok %s\n", argv[1]);
            return 0;
        }
    }
    fprintf(stderr, "unknown case %s\n", argv[1]);
    return 2;
}
