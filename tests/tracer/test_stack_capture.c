/* SPDX-License-Identifier: MIT */
/*
 * Tests of stack capture outside the signal handler (tracer/stack_capture.c): the first frame
 * is the caller of ltprof's code, and the per-thread cache of recent stacks is reused for a
 * repeated stack but never returns the stack of another call path, not even one that reaches
 * the same function at the same depth with the same frame sizes. Names come from dladdr (the
 * executable exports its symbols). Usage: test_stack_capture CASE
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "tracer.h"
#include "unwind.h"

#define NOINLINE __attribute__((noinline, noipa))
#define MAX 64

/* Stands for an interposer: ltprof code that captures its caller's stack. */
TR_TEXT NOINLINE size_t capture(uint64_t *pcs)
{
    size_t n = tr_stack_capture_caller(pcs, MAX);
    __asm__ volatile("" ::: "memory");
    return n;
}

static const char *name_of(uint64_t pc)
{
    Dl_info info;
    if (!dladdr((void *)(uintptr_t)(pc - 1), &info) || !info.dli_sname)
        return "?";
    return info.dli_sname;
}

/* Whether `fn` is among the stack's functions. */
static int has(const uint64_t *pcs, size_t n, const char *fn)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(name_of(pcs[i]), fn) == 0)
            return 1;
    return 0;
}

NOINLINE size_t leaf(uint64_t *pcs)
{
    size_t n = capture(pcs);
    __asm__ volatile("" ::: "memory");
    return n;
}

/* Two callers with the same frame size reach leaf() at the same depth. */
NOINLINE size_t path_a(uint64_t *pcs)
{
    size_t n = leaf(pcs);
    __asm__ volatile("" ::: "memory");
    return n;
}

NOINLINE size_t path_b(uint64_t *pcs)
{
    size_t n = leaf(pcs);
    __asm__ volatile("" ::: "memory");
    return n;
}

NOINLINE size_t via(int which, uint64_t *pcs)
{
    size_t n = which ? path_b(pcs) : path_a(pcs);
    __asm__ volatile("" ::: "memory");
    return n;
}

NOINLINE size_t deep(int depth, uint64_t *pcs)
{
    size_t n = depth > 0 ? deep(depth - 1, pcs) : leaf(pcs);
    __asm__ volatile("" ::: "memory");
    return n;
}

static void stack_capture_starts_at_the_caller(void)
{
    uint64_t pcs[MAX];
    CHECK(tr_modules_refresh() == 0);
    tr_stack_prepare_self();
    size_t n = via(0, pcs);
    CHECK(n >= 4);
    CHECK(strcmp(name_of(pcs[0]), "leaf") == 0);
    CHECK(strcmp(name_of(pcs[1]), "path_a") == 0);
    CHECK(strcmp(name_of(pcs[2]), "via") == 0);
    CHECK(has(pcs, n, "main"));
    CHECK(!has(pcs, n, "capture") && !has(pcs, n, "tr_stack_capture_caller"));
}

static void stack_capture_reuses_a_repeated_stack(void)
{
    uint64_t first[MAX], again[MAX];
    struct tr_stack_cache_stats before, after;
    CHECK(tr_modules_refresh() == 0);
    tr_stack_prepare_self();
    size_t n = via(0, first);
    tr_stack_cache_stats_self(&before);
    for (int i = 0; i < 100; i++) {
        size_t m = via(0, again);
        /* The frames up to via() are the same; the compiler may split this loop into several
         * call sites, so the frames above it may differ from the first capture's. */
        CHECK(m == n && memcmp(first, again, 3 * sizeof(*first)) == 0);
    }
    tr_stack_cache_stats_self(&after);
    printf("100 repeats: %llu hits, %llu misses\n",
           (unsigned long long)(after.hits - before.hits),
           (unsigned long long)(after.misses - before.misses));
    CHECK(after.hits - before.hits >= 98); /* a miss per call site at most */
}

static void stack_capture_never_mixes_call_paths(void)
{
    uint64_t a[MAX], b[MAX];
    CHECK(tr_modules_refresh() == 0);
    tr_stack_prepare_self();
    for (int round = 0; round < 50; round++) {
        size_t na = via(0, a), nb = via(1, b);
        CHECK(has(a, na, "path_a") && !has(a, na, "path_b"));
        CHECK(has(b, nb, "path_b") && !has(b, nb, "path_a"));
        /* Different depths of the same recursion: each stack is its own. */
        size_t n3 = deep(3, a), n5 = deep(5, b);
        CHECK(n5 == n3 + 2);
    }
}

int main(int argc, char **argv)
{
    CHECK(argc == 2);
    if (strcmp(argv[1], "stack_capture_starts_at_the_caller") == 0)
        stack_capture_starts_at_the_caller();
    else if (strcmp(argv[1], "stack_capture_reuses_a_repeated_stack") == 0)
        stack_capture_reuses_a_repeated_stack();
    else if (strcmp(argv[1], "stack_capture_never_mixes_call_paths") == 0)
        stack_capture_never_mixes_call_paths();
    else
        return 2;
    printf("ok %s\n", argv[1]);
    return 0;
}
