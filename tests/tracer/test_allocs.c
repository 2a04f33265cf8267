/* SPDX-License-Identifier: MIT */
/*
 * Tests of the malloc-family interposers and allocation sampling (tracer/interpose/malloc.c,
 * tracer/allocs.c), linked into this executable as into a program linked with -lltprof. No LTTng
 * session is needed: the sampler keeps its live set and counters while ltprof:alloc is disabled,
 * and those counters (tr_allocs_get_stats) are what the cases check. Usage: test_allocs CASE
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "allocs.h"
#include "check.h"
#include "tracer.h"

/* Sizes the compiler cannot see, so it does not reject the overflowing calls at build time. */
static volatile size_t huge = SIZE_MAX / 2, four = 4;

/* malloc then free, which the compiler may not fold away. */
static void *volatile sink;
static void alloc_free(size_t n)
{
    sink = malloc(n);
    free(sink);
}

static struct tr_alloc_stats snap(void)
{
    struct tr_alloc_stats s;
    tr_allocs_get_stats(&s);
    return s;
}

/* At rate 1 every allocation of every entry point is sampled, every free seen. */
static void allocs_every_call_counted_at_rate_1(void)
{
    tr_allocs_configure(1);
    enum { N = 200 };
    void *p[N * 8];
    struct tr_alloc_stats a = snap();
    size_t k = 0;
    for (int i = 0; i < N; i++) {
        p[k++] = malloc(16 + (size_t)i);
        p[k++] = calloc(3, 40);
        p[k++] = realloc(NULL, 100);
        CHECK(posix_memalign(&p[k++], 64, 1000) == 0);
        p[k++] = aligned_alloc(256, 512);
        p[k++] = memalign(128, 300);
        p[k++] = valloc(10);
        p[k++] = pvalloc(5000);
    }
    struct tr_alloc_stats b = snap();
    for (size_t i = 0; i < k; i++)
        free(p[i]);
    struct tr_alloc_stats c = snap();
    CHECK(b.sampled - a.sampled == k);
    CHECK(b.live - a.live == k);
    CHECK(c.freed - b.freed == k);
    CHECK(c.live == a.live);
    CHECK(c.dropped == 0);
}

/* The edge cases of the C library's contracts stay as glibc defines them. */
static void allocs_contracts_kept(void)
{
    tr_allocs_configure(1);
    errno = 0;
    // cppcheck-suppress leakReturnValNotUsed ; the call must fail: nothing to free
    CHECK(calloc(huge, four) == NULL && errno == ENOMEM);
    errno = 0;
    char *z = calloc(1000, 10);
    CHECK(z);
    for (int i = 0; i < 10000; i++)
        CHECK(z[i] == 0);
    CHECK(malloc_usable_size(z) >= 10000);
    CHECK(malloc_usable_size(NULL) == 0);

    struct tr_alloc_stats a = snap();
    char *p = realloc(NULL, 10);
    CHECK(p);
    memcpy(p, "123456789", 10);
    // cppcheck-suppress memleakOnRealloc ; a failure ends the test (CHECK) anyway
    p = realloc(p, 1 << 20); /* moves: the old block leaves the live set, the new one enters */
    CHECK(p && strcmp(p, "123456789") == 0);
    errno = 0;
    // cppcheck-suppress leakReturnValNotUsed ; the call must fail and leave p as it was
    CHECK(reallocarray(p, huge, four) == NULL && errno == ENOMEM);
    CHECK(strcmp(p, "123456789") == 0); /* still p's */
    struct tr_alloc_stats b = snap();
    CHECK(b.sampled - a.sampled == 2 && b.live - a.live == 1 && b.freed - a.freed == 1);
    // cppcheck-suppress leakReturnValNotUsed ; realloc(p, 0) frees p and returns NULL (glibc)
    CHECK(realloc(p, 0) == NULL);
    CHECK(snap().live == a.live);

    void *q = (void *)1;
    CHECK(posix_memalign(&q, 24, 100) == EINVAL);
    CHECK(posix_memalign(&q, 4096, 100) == 0 && ((uintptr_t)q & 4095) == 0);
    free(q);
    void *v = valloc(1);
    CHECK(v && ((uintptr_t)v & 4095) == 0);
    free(v);
    void *pv = pvalloc(1);
    CHECK(pv && ((uintptr_t)pv & 4095) == 0 && malloc_usable_size(pv) >= 4096);
    free(pv);
    free(z);
    free(NULL);

    /* A successful call leaves errno alone, sampled or not. */
    errno = 1234;
    alloc_free(64);
    CHECK(errno == 1234);
    tr_allocs_configure(0);
    alloc_free(64);
    CHECK(errno == 1234);
}

/* Rate 0 samples nothing. */
static void allocs_rate_0_samples_nothing(void)
{
    tr_allocs_configure(0); /* applies to the calling thread at once */
    struct tr_alloc_stats a = snap();
    for (int i = 0; i < 100000; i++)
        alloc_free(4096);
    CHECK(snap().sampled == a.sampled);
}

/* Poisson sampling by bytes: 512 MiB in 512-byte blocks at a mean of 64 KiB gives 8192 samples
 * on average (standard deviation 90); within 5 % is more than 4 deviations. */
static void allocs_sampling_mean_matches_rate(void)
{
    tr_allocs_configure(65536);
    struct tr_alloc_stats a = snap();
    for (int i = 0; i < (1 << 20); i++)
        alloc_free(512);
    struct tr_alloc_stats b = snap();
    uint64_t n = b.sampled - a.sampled;
    printf("%llu samples for 512 MiB at a mean of 64 KiB (expected 8192)\n", /* may allocate */
           (unsigned long long)n);
    CHECK(n > 8192 * 95 / 100 && n < 8192 * 105 / 100);
    CHECK(b.live == a.live);
}

struct churn_arg {
    int rounds;
};

static void *churn(void *arg)
{
    const struct churn_arg *c = arg;
    void *ring[32] = {0};
    for (int i = 0; i < c->rounds; i++) {
        free(ring[i % 32]);
        ring[i % 32] = (i & 1) ? malloc((size_t)(i % 900) + 1) : realloc(ring[(i + 7) % 32], 64);
        if (!(i & 1))
            ring[(i + 7) % 32] = NULL;
    }
    for (int i = 0; i < 32; i++)
        free(ring[i]);
    return NULL;
}

/* Threads allocating, moving and freeing at once leave the live set as they found it. */
static void allocs_threads_keep_the_live_set_exact(void)
{
    tr_allocs_configure(1);
    struct tr_alloc_stats a = snap();
    pthread_t th[8];
    struct churn_arg arg = {50000};
    for (int i = 0; i < 8; i++)
        CHECK(pthread_create(&th[i], NULL, churn, &arg) == 0);
    for (int i = 0; i < 8; i++)
        CHECK(pthread_join(th[i], NULL) == 0);
    struct tr_alloc_stats b = snap();
    printf("%llu sampled, %llu freed, live %llu -> %llu\n",
           (unsigned long long)(b.sampled - a.sampled), (unsigned long long)(b.freed - a.freed),
           (unsigned long long)a.live, (unsigned long long)b.live);
    CHECK(b.sampled - a.sampled >= 8 * 50000);
    CHECK(b.dropped == 0);
    /* Thread stacks and TLS freed at join may differ by a few blocks from a: none of churn's. */
    CHECK(b.live <= a.live + 16);
}

size_t cxx_allocate_and_free(int rounds); /* alloc_new.cpp */

/* C++ new and delete reach the interposers: 4 allocations and 4 frees per round (the vector,
 * its elements, the string, its characters). */
static void allocs_cxx_new_and_delete_sampled(void)
{
    tr_allocs_configure(1);
    struct tr_alloc_stats a = snap();
    CHECK(cxx_allocate_and_free(1000) > 0);
    struct tr_alloc_stats b = snap();
    printf("%llu sampled, %llu freed for 1000 rounds\n",
           (unsigned long long)(b.sampled - a.sampled), (unsigned long long)(b.freed - a.freed));
    CHECK(b.sampled - a.sampled == 4000);
    CHECK(b.freed - a.freed == 4000);
}

/* fork() while other threads allocate at rate 1: the child can allocate (no lock left held). */
static void allocs_fork_while_allocating(void)
{
    tr_allocs_configure(1);
    pthread_t th[2];
    struct churn_arg arg = {200000};
    for (int i = 0; i < 2; i++)
        CHECK(pthread_create(&th[i], NULL, churn, &arg) == 0);
    for (int f = 0; f < 20; f++) {
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            alarm(10); /* a deadlock ends as SIGALRM, a failure */
            for (int i = 0; i < 1000; i++)
                alloc_free(100);
            _exit(0);
        }
        int status;
        CHECK(waitpid(pid, &status, 0) == pid);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    for (int i = 0; i < 2; i++)
        CHECK(pthread_join(th[i], NULL) == 0);
}

/* Threads that allocate in their TLS destructors, while they exit. */
static pthread_key_t key;

static void tls_destructor(void *p)
{
    free(p);
    sink = malloc(64); /* allocates while the thread is going away */
    free(sink);
}

static void *exiting_thread(void *arg)
{
    (void)arg;
    CHECK(pthread_setspecific(key, malloc(100)) == 0);
    return NULL;
}

static void allocs_exiting_threads_allocate(void)
{
    tr_allocs_configure(1);
    CHECK(pthread_key_create(&key, tls_destructor) == 0);
    struct tr_alloc_stats a = snap();
    for (int round = 0; round < 50; round++) {
        pthread_t th[8];
        for (int i = 0; i < 8; i++)
            CHECK(pthread_create(&th[i], NULL, exiting_thread, NULL) == 0);
        for (int i = 0; i < 8; i++)
            CHECK(pthread_join(th[i], NULL) == 0);
    }
    struct tr_alloc_stats b = snap();
    CHECK(b.sampled - a.sampled >= 50 * 8 * 2); /* the key's value and the destructor's block */
    CHECK(b.live <= a.live + 16);
}

/* A signal handler that allocates while the thread is inside ltprof's sampler, holding its
 * lock: the handler's allocations pass through, nothing deadlocks. The main thread only runs
 * ltprof code (never glibc's malloc, where allocating from a handler is the program's bug). */
static volatile sig_atomic_t handled;

static void allocating_handler(int sig)
{
    (void)sig;
    void *p = malloc(200);
    free(p);
    handled++;
}

static void allocs_signal_handler_allocates_inside_ltprof(void)
{
    tr_allocs_configure(1);
    struct sigaction sa = {.sa_handler = allocating_handler};
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
    struct itimerval it = {{0, 50}, {0, 50}};
    CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
    struct tr_alloc_stats s;
    for (long i = 0; handled < 2000 && i < 200000000; i++) {
        tr_allocs_get_stats(&s);
        tr_alloc_freeing((void *)(uintptr_t)(0x10000 + 16 * (i & 0xffff))); /* never sampled */
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    CHECK(setitimer(ITIMER_REAL, &off, NULL) == 0);
    printf("%d signals handled inside ltprof's code\n", (int)handled);
    CHECK(handled >= 2000);
}

/* dlopen and dlclose of a library that allocates (from its constructor, its code and its
 * destructor): every block is seen, the library's going away leaves the live set exact. */
static void allocs_dlopen_dlclose_library_that_allocates(const char *plugin)
{
    tr_allocs_configure(1);
    struct tr_alloc_stats a = snap();
    for (int i = 0; i < 100; i++) {
        void *h = dlopen(plugin, RTLD_NOW | RTLD_LOCAL);
        CHECK(h);
        void *(*alloc_fn)(size_t) = (void *(*)(size_t))dlsym(h, "plugin_alloc");
        void (*free_fn)(void *) = (void (*)(void *))dlsym(h, "plugin_free");
        CHECK(alloc_fn && free_fn);
        void *p = alloc_fn(1000);
        CHECK(p && ((char *)p)[999] == 0);
        free_fn(p);
        CHECK(dlclose(h) == 0);
    }
    struct tr_alloc_stats b = snap();
    printf("%llu sampled, %llu freed, live %llu -> %llu over 100 dlopen/dlclose\n",
           (unsigned long long)(b.sampled - a.sampled), (unsigned long long)(b.freed - a.freed),
           (unsigned long long)a.live, (unsigned long long)b.live);
    CHECK(b.sampled - a.sampled >= 100 * 2); /* at least the constructor's and the calloc */
    CHECK(b.live <= a.live + 8);             /* the loader may keep a few blocks */
}

/* fork() while other threads hold ltprof's table locks (thread creation, contention, labels,
 * allocations): the child can create a thread, wait on a contended lock, push a label and
 * allocate, so no lock came over taken. */
static pthread_mutex_t busy_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile int busy_stop;

static void *noop(void *arg)
{
    return arg;
}

/* Holds the mutex arg for 10 ms. */
static void *hold_10ms(void *arg)
{
    pthread_mutex_lock(arg);
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
    pthread_mutex_unlock(arg);
    return NULL;
}

static void *busy(void *arg)
{
    (void)arg;
    while (!busy_stop) {
        pthread_t t;
        if (pthread_create(&t, NULL, noop, NULL) == 0)
            pthread_join(t, NULL);
        pthread_mutex_lock(&busy_lock);
        tr_labels_push("k", "v");
        alloc_free(128);
        tr_labels_pop();
        pthread_mutex_unlock(&busy_lock);
    }
    return NULL;
}

static void tables_fork_while_busy(void)
{
    tr_fork_hooks_install(); /* as the runtime does */
    tr_allocs_configure(1);
    tr_contention_configure(1, 1);
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        CHECK(pthread_create(&th[i], NULL, busy, NULL) == 0);
    for (int f = 0; f < 200; f++) {
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            alarm(10); /* a lock that came over taken ends as SIGALRM, a failure */
            /* (busy_lock itself may have come over taken: that is POSIX's rule, not ours) */
            static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
            pthread_t t;
            if (pthread_create(&t, NULL, hold_10ms, &m) != 0)
                _exit(3);
            struct timespec ts = {0, 2 * 1000 * 1000};
            nanosleep(&ts, NULL);
            pthread_mutex_lock(&m); /* contended: recorded in the contention tables */
            pthread_mutex_unlock(&m);
            if (pthread_join(t, NULL) != 0)
                _exit(3);
            if (tr_labels_push("child", "1") != 0)
                _exit(4);
            alloc_free(64);
            _exit(0);
        }
        int status;
        CHECK(waitpid(pid, &status, 0) == pid);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    busy_stop = 1;
    for (int i = 0; i < 2; i++)
        CHECK(pthread_join(th[i], NULL) == 0);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*fn)(void);
    } cases[] = {
        {"allocs_every_call_counted_at_rate_1", allocs_every_call_counted_at_rate_1},
        {"allocs_contracts_kept", allocs_contracts_kept},
        {"allocs_rate_0_samples_nothing", allocs_rate_0_samples_nothing},
        {"allocs_sampling_mean_matches_rate", allocs_sampling_mean_matches_rate},
        {"allocs_threads_keep_the_live_set_exact", allocs_threads_keep_the_live_set_exact},
        {"allocs_fork_while_allocating", allocs_fork_while_allocating},
        {"allocs_cxx_new_and_delete_sampled", allocs_cxx_new_and_delete_sampled},
        {"allocs_exiting_threads_allocate", allocs_exiting_threads_allocate},
        {"allocs_signal_handler_allocates_inside_ltprof",
         allocs_signal_handler_allocates_inside_ltprof},
        {"tables_fork_while_busy", tables_fork_while_busy},
    };
    if (argc == 3 && strcmp(argv[1], "allocs_dlopen_dlclose_library_that_allocates") == 0) {
        allocs_dlopen_dlclose_library_that_allocates(argv[2]);
        printf("ok %s\n", argv[1]);
        return 0;
    }
    CHECK(argc == 2);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (strcmp(argv[1], cases[i].name) == 0) {
            cases[i].fn();
            printf("ok %s\n", argv[1]);
            return 0;
        }
    }
    return 2;
}
