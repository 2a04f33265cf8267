/* SPDX-License-Identifier: MIT */
/*
 * Internal to tracer/: allocation sampling, called by the malloc-family interposers
 * (interpose/malloc.c) and implemented in allocs.c. Sampling is Poisson by bytes with mean
 * LTPROF_MEMPROFILE_RATE, as Go's: each thread counts down the bytes until its next sample, so
 * an unsampled malloc costs a thread-local subtraction and a branch. A sampled allocation is
 * kept in the live set (address, size) and recorded as ltprof:alloc with its stack; a free
 * first asks a table of counts per address granule whether it may be sampled (one load),
 * and only then looks in the live set and records ltprof:free.
 */
#ifndef LTPROF_TRACER_ALLOCS_H
#define LTPROF_TRACER_ALLOCS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define TR_HIDDEN_TLS __attribute__((tls_model("initial-exec"), visibility("hidden")))

/* Bytes the calling thread may still allocate before its next sample (starts at 0, so a
 * thread's first allocation takes the slow path, which draws the first distance). */
extern __thread int64_t tr_alloc_countdown TR_HIDDEN_TLS;

/* Per 32-byte granule of the address space (modulo 32 MiB), how many live sampled blocks start
 * in it (255 sticks: never counted down again). Written under the live set's lock, read
 * without it. The slot is the address's granule, not a hash of it, so that the table is read
 * with the heap's own locality: a hash sent every free to a random cache line of the table
 * (70 % of free's time in the benchmark, waiting for that load). */
#define TR_ALLOC_MAYBE_BITS 20
extern _Atomic uint8_t tr_alloc_maybe[1u << TR_ALLOC_MAYBE_BITS]
    __attribute__((visibility("hidden")));

static inline uint32_t tr_alloc_slot(const void *p)
{
    return (uint32_t)((uintptr_t)p >> 5) & ((1u << TR_ALLOC_MAYBE_BITS) - 1);
}

/* Counts `size` bytes off the calling thread's countdown: non-zero when this allocation is
 * the one to look at (tr_alloc_sampled then decides and records). */
static inline int tr_alloc_counts_down(size_t size)
{
    return __builtin_expect((tr_alloc_countdown -= (int64_t)size) < 0, 0);
}

/* Whether the block at p may be a sampled one (then call tr_alloc_freeing before freeing it). */
static inline int tr_alloc_maybe_sampled(const void *p)
{
    return atomic_load_explicit(&tr_alloc_maybe[tr_alloc_slot(p)], memory_order_relaxed) != 0;
}

/* The slow path of an allocation of `size` bytes at p (not NULL) made for the code that
 * returns to `ret`: draws the next sampling distance and, when this allocation is sampled,
 * records it. Keeps errno. */
void tr_alloc_sampled(void *p, size_t size, const void *ret);

/* The block at p is about to be freed (or moved by realloc): if it was sampled, it leaves the
 * live set and ltprof:free is recorded. Call before the real free. Keeps errno. */
void tr_alloc_freeing(void *p);

#endif
