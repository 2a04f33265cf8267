/* SPDX-License-Identifier: MIT */
/*
 * Integration-test program for the heap and allocs profiles: three call sites keep a known live
 * set until exit (keep_64 64 MiB, keep_32 32 MiB, keep_16 16 MiB, each in mixed sizes from
 * 64 bytes to 256 KiB, from several threads), while churn() allocates and frees 256 MiB more
 * that never stays live. It prints the truth, "keep_64=<bytes> keep_32=<bytes> keep_16=<bytes>
 * churn=<bytes> objects=<count>", which tests/integration/test_heap.sh compares with the
 * profiles. Every allocation goes through a different function of the malloc family, so each
 * entry point is exercised.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noipa))
#define MIB (1024u * 1024u)

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

/* Mixed sizes, log-uniform from 64 bytes to 256 KiB (deterministic). */
static size_t next_size(uint64_t *state)
{
    *state ^= *state << 13, *state ^= *state >> 7, *state ^= *state << 17;
    unsigned shift = 6 + (unsigned)(*state % 13); /* 2^6 .. 2^18 */
    size_t base = (size_t)1 << shift;
    return base + (size_t)((*state >> 20) % base);
}

struct site {
    const char *name;
    size_t target;
    void *(*alloc)(size_t);
    size_t kept, objects;
};

/* Each site keeps its own frame (no tail call), as real code would show it. */
NOINLINE void *keep_64(size_t n)
{
    void *p = malloc(n);
    __asm__ volatile("" ::: "memory");
    return p;
}

NOINLINE void *keep_32(size_t n)
{
    void *p = NULL;
    int rc = posix_memalign(&p, 64, n);
    __asm__ volatile("" ::: "memory");
    return rc == 0 ? p : NULL;
}

NOINLINE void *keep_16(size_t n)
{
    void *p = calloc(1, n);
    __asm__ volatile("" ::: "memory");
    return p;
}

static void *fill(void *arg)
{
    struct site *s = arg;
    uint64_t state = (uint64_t)(uintptr_t)s->name ^ 0x2545f4914f6cdd1dULL;
    while (s->kept < s->target) {
        size_t n = next_size(&state);
        if (s->kept + n > s->target)
            n = s->target - s->kept;
        void *p = s->alloc(n);
        if (!p) {
            perror("heap_sites: allocation");
            exit(1);
        }
        memset(p, 1, n); /* really in use */
        s->kept += n;
        s->objects++;
    }
    return NULL;
}

NOINLINE size_t churn(size_t total)
{
    size_t done = 0;
    void *ring[64] = {0};
    for (unsigned i = 0; done < total; i++) {
        size_t n = next_size(&rng);
        free(ring[i % 64]);
        ring[i % 64] = (i % 3 == 0) ? realloc(NULL, n) : malloc(n);
        if (i % 5 == 0 && ring[i % 64])
            ring[i % 64] = realloc(ring[i % 64], n + 100);
        done += n;
    }
    for (unsigned i = 0; i < 64; i++)
        free(ring[i]);
    return done;
}

int main(void)
{
    struct site sites[] = {
        {"keep_64", 64 * MIB, keep_64, 0, 0},
        {"keep_32", 32 * MIB, keep_32, 0, 0},
        {"keep_16", 16 * MIB, keep_16, 0, 0},
    };
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        if (pthread_create(&th[i], NULL, fill, &sites[i]) != 0) {
            fprintf(stderr, "heap_sites: pthread_create failed\n");
            return 1;
        }
    size_t churned = churn(256 * MIB);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    size_t objects = sites[0].objects + sites[1].objects + sites[2].objects;
    printf("keep_64=%zu keep_32=%zu keep_16=%zu churn=%zu objects=%zu\n", sites[0].kept,
           sites[1].kept, sites[2].kept, churned, objects);
    fflush(stdout);
    return 0; /* the kept blocks stay live to the end of the trace */
}
