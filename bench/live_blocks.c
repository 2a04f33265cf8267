/* SPDX-License-Identifier: MIT */
/*
 * ltprof-bench-live-blocks: holds N live heap blocks (default 10000, 16 to 4096 bytes) made
 * from 8 call sites, then waits for SIGINT or SIGTERM, for the HTTP latency benchmark
 * (http_latency.sh: with LTPROF_MEMPROFILE_RATE=1 every block is a sampled allocation in the
 * heap profile). Prints "ready" once the blocks are made. Usage: ltprof-bench-live-blocks [N]
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline, noclone))
#define SITE(k)                                                                                   \
    static NOINLINE void *site_##k(size_t size)                                                   \
    {                                                                                             \
        void *p = malloc(size);                                                                   \
        if (p)                                                                                    \
            memset(p, k, size);                                                                   \
        return p;                                                                                 \
    }
SITE(0) SITE(1) SITE(2) SITE(3) SITE(4) SITE(5) SITE(6) SITE(7)

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 10000;
    if (n <= 0 || n > 10000000) {
        fprintf(stderr, "usage: %s [BLOCKS]   (1 to 10000000, default 10000)\n", argv[0]);
        return 2;
    }
    void *(*sites[8])(size_t) = {site_0, site_1, site_2, site_3, site_4, site_5, site_6, site_7};
    void **blocks = calloc((size_t)n, sizeof(*blocks));
    for (long i = 0; blocks && i < n; i++)
        // cppcheck-suppress uninitvar ; sites is initialised above (cppcheck misses it)
        blocks[i] = sites[i % 8]((size_t)(16 << (i % 9))); /* 16 .. 4096 bytes */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    printf("ready: %ld blocks\n", n);
    fflush(stdout);
    int sig;
    sigwait(&set, &sig);
    for (long i = 0; blocks && i < n; i++)
        free(blocks[i]);
    free(blocks);
    return 0;
}
