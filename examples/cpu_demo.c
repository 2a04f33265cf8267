/* SPDX-License-Identifier: MIT */
/*
 * ltprof-demo-cpu: the first program to profile. Three threads do recognisable CPU work for a
 * few seconds: "hasher" runs hash_block() over a buffer, "sorter" sorts records with qsort()
 * and compare_records(), and the main thread runs compute_primes(). Built without frame
 * pointers on purpose: ltprof's stacks are complete anyway. Usage: ltprof-demo-cpu [SECONDS]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HASH_BUFFER_BYTES (64 * 1024)
#define HASH_BLOCK_BYTES 4096
#define SORT_RECORDS 20000

/* Keeps each named function a real frame with its plain name (no inlining, no .constprop clone). */
#define NOINLINE __attribute__((noinline, noclone))

/* Each worker stops at this CLOCK_MONOTONIC deadline; written before the threads start. */
static double deadline_s;

/* Results are printed at the end so the compiler cannot drop the work. */
struct demo_result {
    uint64_t rounds;
    uint64_t value;
};

struct record {
    uint32_t key;
    uint32_t payload;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* FNV-1a over one block, mixed a few times so the loop is CPU-bound. */
NOINLINE static uint64_t hash_block(const unsigned char *block, size_t len, uint64_t seed)
{
    uint64_t h = seed ^ 0xcbf29ce484222325ULL;
    for (int pass = 0; pass < 4; pass++) {
        for (size_t i = 0; i < len; i++) {
            h ^= block[i];
            h *= 0x100000001b3ULL;
        }
    }
    return h;
}

NOINLINE static uint64_t hash_buffer(const unsigned char *buf, size_t len)
{
    uint64_t h = 0;
    for (size_t off = 0; off + HASH_BLOCK_BYTES <= len; off += HASH_BLOCK_BYTES)
        h = hash_block(buf + off, HASH_BLOCK_BYTES, h);
    return h;
}

static void *hasher_main(void *arg)
{
    struct demo_result *res = arg;
    static unsigned char buf[HASH_BUFFER_BYTES];

    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (unsigned char)(i * 31 + 7);
    while (now_s() < deadline_s) {
        res->value ^= hash_buffer(buf, sizeof(buf));
        buf[res->rounds % sizeof(buf)]++;
        res->rounds++;
    }
    return NULL;
}

static int compare_records(const void *a, const void *b)
{
    const struct record *ra = a, *rb = b;
    if (ra->key != rb->key)
        return ra->key < rb->key ? -1 : 1;
    return (ra->payload > rb->payload) - (ra->payload < rb->payload);
}

NOINLINE static uint32_t sort_batch(struct record *recs, size_t n, uint32_t *rng)
{
    for (size_t i = 0; i < n; i++) {
        *rng = *rng * 1664525u + 1013904223u;  /* LCG: cheap, deterministic input */
        recs[i].key = *rng >> 8;
        recs[i].payload = (uint32_t)i;
    }
    qsort(recs, n, sizeof(*recs), compare_records);
    return recs[n / 2].key;
}

static void *sorter_main(void *arg)
{
    struct demo_result *res = arg;
    static struct record recs[SORT_RECORDS];
    uint32_t rng = 12345;

    while (now_s() < deadline_s) {
        res->value += sort_batch(recs, SORT_RECORDS, &rng);
        res->rounds++;
    }
    return NULL;
}

static int is_prime(uint64_t n)
{
    if (n < 2)
        return 0;
    for (uint64_t d = 2; d * d <= n; d++)
        if (n % d == 0)
            return 0;
    return 1;
}

/* Counts the primes in [from, from + count) by trial division. */
NOINLINE static uint64_t compute_primes(uint64_t from, uint64_t count)
{
    uint64_t found = 0;
    for (uint64_t n = from; n < from + count; n++)
        found += (uint64_t)is_prime(n);
    return found;
}

static int start_worker(pthread_t *t, const char *name, void *(*fn)(void *), void *arg)
{
    int rc = pthread_create(t, NULL, fn, arg);
    if (rc != 0) {
        fprintf(stderr, "ltprof-demo-cpu: pthread_create(%s): %s\n", name, strerror(rc));
        return -1;
    }
    pthread_setname_np(*t, name);  /* names show up as threads in the profile */
    return 0;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? strtod(argv[1], NULL) : 3.0;
    struct demo_result hashed = {0}, sorted = {0}, primes = {0};
    pthread_t hasher, sorter;
    uint64_t next = 1000000;

    if (argc > 2 || !(seconds > 0.0 && seconds <= 3600.0)) {
        fprintf(stderr, "usage: %s [SECONDS]   (default 3, at most 3600)\n", argv[0]);
        return 2;
    }
    printf("ltprof-demo-cpu: running %.1f s: thread \"hasher\" in hash_block(), \"sorter\" in "
           "qsort()/compare_records(), main thread in compute_primes()\n", seconds);
    fflush(stdout);

    deadline_s = now_s() + seconds;
    if (start_worker(&hasher, "hasher", hasher_main, &hashed) != 0)
        return 1;
    if (start_worker(&sorter, "sorter", sorter_main, &sorted) != 0)
        return 1;
    while (now_s() < deadline_s) {
        primes.value += compute_primes(next, 2000);
        next += 2000;
        primes.rounds++;
    }
    pthread_join(hasher, NULL);
    pthread_join(sorter, NULL);

    printf("ltprof-demo-cpu: done: %llu buffers hashed (hash %016llx), %llu batches of %d "
           "records sorted, %llu primes found below %llu\n",
           (unsigned long long)hashed.rounds, (unsigned long long)hashed.value,
           (unsigned long long)sorted.rounds, SORT_RECORDS, (unsigned long long)primes.value,
           (unsigned long long)next);
    return 0;
}
