/* SPDX-License-Identifier: MIT */
/*
 * Context-switch cost: two threads pinned to one CPU hand a token back and forth through
 * futexes (raw syscalls, which ltprof does not interpose), so every handoff is one switch out
 * and one switch in. Prints CPU time (getrusage) per handoff. Run it plain and under
 * LD_PRELOAD=libltprof.so to see what ltprof's per-thread perf events cost the kernel on every
 * switch; -e opens such an event on each thread itself, without ltprof (docs/performance.md).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: ltprof-bench-ctxswitch [-n ROUNDS] [-c CPU] [-e EVENT]\n"
    "  -n ROUNDS  round trips, two handoffs each (default 200000)\n"
    "  -c CPU     CPU both threads are pinned to (default: the last one)\n"
    "  -e EVENT   perf event each thread opens on itself, as ltprof does (default none):\n"
    "             switch      software dummy event with context_switch = 1 and a 4-page ring\n"
    "             switch-off  the same, disabled\n"
    "             clock       task-clock sampling every 10 ms, user-only\n"
    "             clock-off   the same, disabled\n";

static _Atomic int turn;
static long rounds = 200000;
static int cpu;
static const char *event = "none";

static void futex_wait_while(int value)
{
    while (atomic_load(&turn) == value)
        syscall(SYS_futex, &turn, FUTEX_WAIT_PRIVATE, value, NULL, NULL, 0);
}

static void futex_wake_one(void)
{
    syscall(SYS_futex, &turn, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Pins the calling thread and opens its perf event; exits on failure. */
static void thread_setup(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0) {
        fprintf(stderr, "ctxswitch: cannot pin to CPU %d: %s\n", cpu, strerror(errno));
        exit(1);
    }
    if (strcmp(event, "none") == 0)
        return;
    struct perf_event_attr a;
    memset(&a, 0, sizeof(a));
    a.size = sizeof(a);
    a.type = PERF_TYPE_SOFTWARE;
    a.exclude_kernel = 1;
    a.exclude_hv = 1;
    a.disabled = strstr(event, "-off") != NULL;
    int ring = strncmp(event, "switch", 6) == 0;
    if (ring) {
        a.config = PERF_COUNT_SW_DUMMY;
        a.sample_type = PERF_SAMPLE_TIME | PERF_SAMPLE_CPU;
        a.sample_id_all = 1;
        a.context_switch = 1;
        a.use_clockid = 1;
        a.clockid = CLOCK_MONOTONIC;
        a.watermark = 1;
        a.wakeup_watermark = 4 * 4096;
    } else {
        a.config = PERF_COUNT_SW_TASK_CLOCK;
        a.sample_period = 10000000;
    }
    int fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0 || (ring && mmap(NULL, 5 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) ==
                               MAP_FAILED)) {
        fprintf(stderr, "ctxswitch: perf event %s: %s\n", event, strerror(errno));
        exit(1);
    }
}

static void *partner(void *arg)
{
    (void)arg;
    thread_setup();
    for (long i = 0; i < rounds; i++) {
        futex_wait_while(0);
        atomic_store(&turn, 0);
        futex_wake_one();
    }
    return NULL;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    int opt;
    cpu = (int)sysconf(_SC_NPROCESSORS_ONLN) - 1;
    while ((opt = getopt(argc, argv, "n:c:e:h")) != -1) {
        if (opt == 'n' && (rounds = atol(optarg)) > 0)
            continue;
        if (opt == 'c' && (cpu = atoi(optarg)) >= 0)
            continue;
        if (opt == 'e' && (strcmp(optarg, "none") == 0 || strcmp(optarg, "switch") == 0 ||
                           strcmp(optarg, "switch-off") == 0 || strcmp(optarg, "clock") == 0 ||
                           strcmp(optarg, "clock-off") == 0)) {
            event = optarg;
            continue;
        }
        fputs(usage, opt == 'h' ? stdout : stderr);
        return opt == 'h' ? 0 : 2;
    }
    thread_setup();
    pthread_t t;
    if (pthread_create(&t, NULL, partner, NULL) != 0) {
        fprintf(stderr, "ctxswitch: pthread_create failed\n");
        return 1;
    }
    usleep(10000); /* the partner is set up and waiting */
    double c0 = cpu_s();
    for (long i = 0; i < rounds; i++) {
        atomic_store(&turn, 1);
        futex_wake_one();
        futex_wait_while(1);
    }
    pthread_join(t, NULL);
    double used = cpu_s() - c0;
    printf("ctxswitch: event=%s cpu=%d handoffs=%ld cpu_ns_per_handoff=%.0f\n", event, cpu,
           2 * rounds, used * 1e9 / (double)(2 * rounds));
    return 0;
}
