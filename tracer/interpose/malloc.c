/* SPDX-License-Identifier: MIT */
/*
 * The malloc family, interposed for allocation sampling (../allocs.h): malloc, calloc,
 * realloc, reallocarray, free, posix_memalign, aligned_alloc, memalign, valloc, pvalloc and
 * malloc_usable_size. Each forwards to the next definition (glibc's, or another allocator
 * preloaded after us), so blocks keep their allocator's layout; C++ operator new and delete
 * reach them through libstdc++. The next functions are found with dlsym(RTLD_NEXT) on first
 * use; dlsym itself allocates, and those allocations (and any made by another thread meanwhile)
 * come from a small static arena, whose blocks free() recognises and ignores.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../allocs.h"
#include "../tracer.h"
#include "real.h"

static struct {
    void *(*malloc)(size_t);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    void (*free)(void *);
    int (*posix_memalign)(void **, size_t, size_t);
    void *(*aligned_alloc)(size_t, size_t);
    void *(*memalign)(size_t, size_t);
    void *(*valloc)(size_t);
    void *(*pvalloc)(size_t);
    size_t (*malloc_usable_size)(void *);
} next;
static _Atomic int next_ready; /* 0: not looked up, 1: looking up, 2: ready */

/* ---- the bootstrap arena --------------------------------------------------------------------- */

#define ARENA_BYTES (256 * 1024)
static _Alignas(64) unsigned char arena[ARENA_BYTES];
static _Atomic size_t arena_used;

static int in_arena(const void *p)
{
    return (const unsigned char *)p >= arena && (const unsigned char *)p < arena + ARENA_BYTES;
}

/* 16 bytes of header (the size), then the block, aligned to `align` (a power of two >= 16). */
static void *arena_alloc(size_t size, size_t align)
{
    if (align < 16 || (align & (align - 1)))
        align = 16;
    if (size > ARENA_BYTES)
        return NULL;
    size_t used = atomic_load(&arena_used), start;
    do {
        start = (used + 16 + align - 1) & ~(align - 1);
        if (start + size > ARENA_BYTES)
            return NULL;
    } while (!atomic_compare_exchange_weak(&arena_used, &used, start + size));
    memcpy(arena + start - 16, &size, sizeof(size));
    return arena + start;
}

static size_t arena_size(const void *p)
{
    size_t size;
    memcpy(&size, (const unsigned char *)p - 16, sizeof(size));
    return size;
}

/* ---- the next allocator ------------------------------------------------------------------ */

static void *find(const char *name)
{
    void *fn = dlsym(RTLD_NEXT, name);
    if (!fn) {
        /* Not through write(): that is one of ours, and may need malloc. */
        static const char msg[] = "ltprof: cannot find the next malloc-family function ";
        syscall(SYS_write, STDERR_FILENO, msg, sizeof(msg) - 1);
        syscall(SYS_write, STDERR_FILENO, name, strlen(name));
        syscall(SYS_write, STDERR_FILENO, "\n", 1);
        abort();
    }
    return fn;
}

/* The first call: looks the next functions up. 1 when they can be called, 0 while another
 * call (maybe dlsym's own, from this thread) is looking them up. */
static __attribute__((noinline, cold)) int next_lookup(void)
{
    int state = 0;
    if (!atomic_compare_exchange_strong(&next_ready, &state, 1))
        return 0; /* another call is looking them up: this one (maybe from dlsym) waits not */
    next.malloc = find("malloc");
    next.calloc = find("calloc");
    next.realloc = find("realloc");
    next.free = find("free");
    next.posix_memalign = find("posix_memalign");
    next.aligned_alloc = find("aligned_alloc");
    next.memalign = find("memalign");
    next.valloc = find("valloc");
    next.pvalloc = find("pvalloc");
    next.malloc_usable_size = find("malloc_usable_size");
    atomic_store_explicit(&next_ready, 2, memory_order_release);
    return 1;
}

/* True when the next functions can be called; false while they are being looked up (the
 * caller then uses the arena). */
static inline int next_usable(void)
{
    return __builtin_expect(atomic_load_explicit(&next_ready, memory_order_acquire) == 2, 1) ||
           next_lookup();
}

/* ---- the wrappers ---------------------------------------------------------------------------- */

/* The slow path of every allocation: p is what the next allocator returned for `size`. */
#define SAMPLE(p, size)                                                                           \
    do {                                                                                          \
        if (tr_alloc_counts_down(size) && (p))                                                    \
            tr_alloc_sampled((p), (size), __builtin_return_address(0));                           \
    } while (0)

TR_EXPORT TR_TEXT void *malloc(size_t size)
{
    if (__builtin_expect(!next_usable(), 0))
        return arena_alloc(size, 16);
    void *p = next.malloc(size);
    SAMPLE(p, size);
    return p;
}

TR_EXPORT TR_TEXT void free(void *p)
{
    if (!p || in_arena(p))
        return;
    if (__builtin_expect(tr_alloc_maybe_sampled(p), 0))
        tr_alloc_freeing(p);
    if (__builtin_expect(!next_usable(), 0))
        return; /* cannot happen: p came from the next allocator, found already */
    next.free(p);
}

TR_EXPORT TR_TEXT void *calloc(size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    if (__builtin_expect(!next_usable(), 0))
        return arena_alloc(total, 16); /* static memory is zero and never reused */
    void *p = next.calloc(n, size);
    SAMPLE(p, total);
    return p;
}

TR_EXPORT TR_TEXT void *realloc(void *old, size_t size)
{
    if (old && in_arena(old)) { /* moves out of the arena: it never grows in place */
        void *p = malloc(size);
        if (p)
            memcpy(p, old, arena_size(old) < size ? arena_size(old) : size);
        return p;
    }
    if (__builtin_expect(!next_usable(), 0))
        return arena_alloc(size, 16); /* old is NULL here: nothing else exists yet */
    if (old && __builtin_expect(tr_alloc_maybe_sampled(old), 0))
        tr_alloc_freeing(old); /* its address may be given to another block from now on */
    void *p = next.realloc(old, size);
    SAMPLE(p, size);
    return p;
}

TR_EXPORT TR_TEXT void *reallocarray(void *old, size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(old, total);
}

TR_EXPORT TR_TEXT int posix_memalign(void **out, size_t align, size_t size)
{
    if (__builtin_expect(!next_usable(), 0)) {
        if (align < sizeof(void *) || (align & (align - 1)))
            return EINVAL;
        *out = arena_alloc(size, align);
        return *out ? 0 : ENOMEM;
    }
    int rc = next.posix_memalign(out, align, size);
    if (rc == 0)
        SAMPLE(*out, size);
    return rc;
}

TR_EXPORT TR_TEXT void *aligned_alloc(size_t align, size_t size)
{
    if (__builtin_expect(!next_usable(), 0))
        return arena_alloc(size, align);
    void *p = next.aligned_alloc(align, size);
    SAMPLE(p, size);
    return p;
}

TR_EXPORT TR_TEXT void *memalign(size_t align, size_t size)
{
    if (__builtin_expect(!next_usable(), 0))
        return arena_alloc(size, align);
    void *p = next.memalign(align, size);
    SAMPLE(p, size);
    return p;
}

TR_EXPORT TR_TEXT void *valloc(size_t size)
{
    if (__builtin_expect(!next_usable(), 0))
        return arena_alloc(size, 4096);
    void *p = next.valloc(size);
    SAMPLE(p, size);
    return p;
}

TR_EXPORT TR_TEXT void *pvalloc(size_t size)
{
    if (__builtin_expect(!next_usable(), 0))
        return arena_alloc((size + 4095) & ~(size_t)4095, 4096);
    void *p = next.pvalloc(size);
    SAMPLE(p, size);
    return p;
}

/* This library's malloc, not the first one in the symbol search order. */
extern __typeof__(malloc) tr_malloc_here
    __attribute__((alias("malloc"), copy(malloc), visibility("hidden")));

int tr_allocs_interposed(char *first, size_t size)
{
    void *fn = dlsym(RTLD_DEFAULT, "malloc");
    if (fn == (void *)tr_malloc_here)
        return 1;
    Dl_info info;
    snprintf(first, size, "%s", fn && dladdr(fn, &info) && info.dli_fname ? info.dli_fname : "?");
    return 0;
}

TR_EXPORT TR_TEXT size_t malloc_usable_size(void *p)
{
    if (!p)
        return 0;
    if (in_arena(p))
        return arena_size(p);
    return next_usable() ? next.malloc_usable_size(p) : 0;
}
