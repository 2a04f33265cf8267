/* SPDX-License-Identifier: MIT */
/*
 * faults MODE: a program doing what real programs do to the libraries inside them, for
 * test_faults.sh to run with libltprof.so preloaded (CPU sampling and every allocation
 * sampled). Each mode prints "faults MODE: ok ..." and exits 0 when the program got through;
 * a crash, a hang (the test's timeout) or a wrong result is ltprof's fault.
 *   fork       fork() children that allocate, spin and exit, with threads running meanwhile
 *   fork-exec  fork() + exec of /bin/true, 50 times
 *   vfork      vfork() + exec of /bin/true, 50 times
 *   spawn      posix_spawn() of /bin/true, 50 times
 *   dlopen     dlopen/dlsym/dlclose of libz 2,000 times while two threads spin (sampled)
 *   threads    10,000 threads created and joined, 64 at a time, each allocating
 *   signals    a timer sends SIGALRM every 100 µs while threads malloc and free; the
 *              handler only counts
 *   nofile     RLIMIT_NOFILE at 10 (every descriptor in use), then threads and allocations
 *   closeall   closes every descriptor (as daemons do), then threads and allocations;
 *              closefrom and closerange do it with closefrom(0) and close_range(0, ~0U, 0)
 *   sigprof    installs its own SIGPROF handler and ITIMER_PROF, and must keep getting them
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static atomic_int stop;
static atomic_long signals;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static __attribute__((noinline)) uint64_t spin(double seconds)
{
    uint64_t x = 1;
    double end = now() + seconds;
    while (now() < end)
        for (int i = 0; i < 10000; i++)
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return x;
}

static __attribute__((noinline)) void churn(int n)
{
    void *p[32] = {0};
    for (int i = 0; i < n; i++) {
        int k = i % 32;
        free(p[k]);
        p[k] = malloc((size_t)(16 + (i * 37) % 4000));
        if (p[k])
            memset(p[k], i, 16);
    }
    for (int k = 0; k < 32; k++)
        free(p[k]);
}

static void *spinner(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        spin(0.01);
        churn(100);
    }
    return NULL;
}

static void *small_work(void *arg)
{
    (void)arg;
    churn(20);
    return NULL;
}

static int wait_ok(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return 0;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int run_threads(int total, int batch)
{
    pthread_t t[64];
    int made = 0;
    while (made < total) {
        int n = 0;
        for (; n < batch && made < total; n++, made++)
            if (pthread_create(&t[n], NULL, small_work, NULL) != 0)
                return -1;
        for (int i = 0; i < n; i++)
            pthread_join(t[i], NULL);
    }
    return made;
}

/* One fork (or vfork) and exec of /bin/true, in a function of its own: after vfork() the
 * child shares this frame, so nothing of the caller's may live in it. */
static __attribute__((noinline)) int exec_true(int use_vfork)
{
    if (use_vfork) {
        /* NOLINTNEXTLINE(clang-analyzer-security.insecureAPI.vfork,clang-analyzer-unix.Vfork) */
        pid_t pid = vfork(); /* what this mode tests: the child only execs or exits */
        if (pid == 0) {
            execl("/bin/true", "true", (char *)NULL);
            _exit(127);
        }
        return pid > 0 && wait_ok(pid);
    }
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/true", "true", (char *)NULL);
        _exit(127);
    }
    return pid > 0 && wait_ok(pid);
}

static void count_signal(int sig)
{
    (void)sig;
    atomic_fetch_add(&signals, 1);
}

/* count_signal for `sig`, and an interval timer of `which` every `us` microseconds. */
static void count_every(int sig, int which, long us)
{
    struct sigaction sa = {0};
    sa.sa_handler = count_signal;
    sa.sa_flags = SA_RESTART;
    sigaction(sig, &sa, NULL);
    struct itimerval it = {{0, us}, {0, us}};
    setitimer(which, &it, NULL);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    pthread_t bg[2];
    int ok = 1;
    char detail[200] = "";
    for (int i = 0; i < 2; i++)
        pthread_create(&bg[i], NULL, spinner, NULL);

    if (strcmp(mode, "fork") == 0) {
        for (int i = 0; i < 20 && ok; i++) {
            pid_t pid = fork();
            if (pid == 0) {
                churn(2000);
                spin(0.01);
                pthread_t t;
                pthread_create(&t, NULL, small_work, NULL);
                pthread_join(t, NULL);
                _exit(0);
            }
            ok = pid > 0 && wait_ok(pid);
        }
        snprintf(detail, sizeof(detail), "20 children");
    } else if (strcmp(mode, "fork-exec") == 0 || strcmp(mode, "vfork") == 0) {
        for (int i = 0; i < 50 && ok; i++)
            ok = exec_true(mode[0] == 'v');
        snprintf(detail, sizeof(detail), "50 execs");
    } else if (strcmp(mode, "spawn") == 0) {
        for (int i = 0; i < 50 && ok; i++) {
            pid_t pid;
            char *args[] = {"true", NULL};
            ok = posix_spawn(&pid, "/bin/true", NULL, NULL, args, environ) == 0 && wait_ok(pid);
        }
        snprintf(detail, sizeof(detail), "50 spawns");
    } else if (strcmp(mode, "dlopen") == 0) {
        int n = 0;
        for (int i = 0; i < 2000 && ok; i++) {
            void *h = dlopen("libz.so.1", RTLD_NOW | RTLD_LOCAL);
            ok = h && dlsym(h, "zlibVersion");
            if (h && dlclose(h) == 0)
                n++;
        }
        snprintf(detail, sizeof(detail), "%d dlopen/dlclose", n);
    } else if (strcmp(mode, "threads") == 0) {
        int n = run_threads(10000, 64);
        ok = n == 10000;
        snprintf(detail, sizeof(detail), "%d threads", n);
    } else if (strcmp(mode, "signals") == 0) {
        count_every(SIGALRM, ITIMER_REAL, 100);
        double end = now() + 1.0;
        while (now() < end)
            churn(1000);
        struct itimerval off = {{0, 0}, {0, 0}};
        setitimer(ITIMER_REAL, &off, NULL);
        ok = atomic_load(&signals) > 100;
        snprintf(detail, sizeof(detail), "%ld signals during malloc", atomic_load(&signals));
    } else if (strcmp(mode, "nofile") == 0) {
        struct rlimit rl = {10, 10};
        ok = setrlimit(RLIMIT_NOFILE, &rl) == 0;
        int held = 0; /* use up what is left */
        while (dup(2) >= 0)
            held++;
        int n = ok ? run_threads(500, 32) : 0;
        ok = ok && n == 500;
        snprintf(detail, sizeof(detail), "%d threads with no descriptor left (%d taken)", n, held);
    } else if (strncmp(mode, "close", 5) == 0 && strstr("closeall closefrom closerange", mode)) {
        if (strcmp(mode, "closefrom") == 0)
            closefrom(0);
        else if (strcmp(mode, "closerange") == 0)
            close_range(0, ~0U, 0);
        else
            for (int fd = 0; fd < 1024; fd++)
                close(fd);
        int n = run_threads(500, 32);
        ok = n == 500;
        snprintf(detail, sizeof(detail), "%d threads after closing every descriptor", n);
    } else if (strcmp(mode, "sigprof") == 0) {
        count_every(SIGPROF, ITIMER_PROF, 1000);
        spin(0.5);
        long got = atomic_load(&signals);
        ok = got > 10;
        snprintf(detail, sizeof(detail), "%ld of its own SIGPROF", got);
    } else {
        fprintf(stderr, "usage: faults fork|fork-exec|vfork|spawn|dlopen|threads|signals|"
                        "nofile|closeall|closefrom|closerange|sigprof\n");
        return 2;
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(bg[i], NULL);
    /* closeall closed stdout too: the result goes to a file named by FAULTS_OUT then */
    const char *path = getenv("FAULTS_OUT");
    FILE *out = path ? fopen(path, "w") : stdout;
    if (out) {
        fprintf(out, "faults %s: %s %s\n", mode, ok ? "ok" : "FAILED", detail);
        fflush(out);
    }
    return ok ? 0 : 1;
}
